import type { ReloadStatus } from '../config/watch.ts';
import { sseMessages } from './sse.ts';
import { Transport, type ClientOptions } from './transport.ts';
import type {
  ApiJob,
  Attempt,
  AuditPage,
  AuditQuery,
  Batch,
  BatchList,
  BatchSubmission,
  BatchSubmitResult,
  DeadLetterEdit,
  DeadLetterQuery,
  DesiredScale,
  GafferEvent,
  JobPage,
  ListJobsQuery,
  LogLine,
  PausedType,
  QueueStatus,
  ReplayResult,
  ReplaySelection,
  RunRequest,
  RetryFailedResult,
  ScalingDecision,
  ScheduleDefinition,
  ScheduleDetail,
  ScheduleView,
  Session,
  StatsHistory,
  Submission,
  TypeQuery,
  UploadParams,
  UploadResult,
  WorkerEvent,
  WorkerInfo,
} from './types.ts';
import { csvBody, ndjsonBody, withProgress, type CsvSource } from './upload.ts';
import { delay, isTerminal, waitFor, type WaitOptions, type WaitOutcome } from './wait.ts';

export interface UploadOptions extends UploadParams {
  /** The name the batch records as its source; default the file's name. */
  filename?: string;
  /** Called as the body is sent: bytes sent so far and the file's size. */
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

/** An upload's query: the type, priority, due time and expiry its rows or lines default to. */
function uploadQuery(opts: UploadParams): UploadParams {
  const { type, priority, runAt, delay, expiresAt, expireIn } = opts;
  return { type, priority, runAt, delay, expiresAt, expireIn };
}

export interface FollowOptions {
  /** Only lines after this sequence number. */
  after?: number;
  signal?: AbortSignal;
  /** Between reads when there is nothing new; default 500 ms. */
  intervalMs?: number;
}

/** A typed client of gaffer's HTTP API (docs/client.md): one method per capability. */
export type GafferClient = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
  const t = new Transport(options);
  const id = (value: string) => ({ params: { id: value } });

  const jobs = {
    /** `created` is false when the idempotency key already existed (200, the same job). */
    async submit(body: Submission): Promise<{ job: ApiJob; created: boolean }> {
      const res = await t.request('jobs.submit', { body });
      const { job } = (await res.json()) as { job: ApiJob };
      return { job, created: res.status === 201 };
    },
    submitBatch: (body: BatchSubmission) => t.json<BatchSubmitResult>('jobs.submitBatch', { body }),
    /**
     * Streams submissions as one batch (NDJSON to POST /v1/batches), sent as they are produced and
     * committed by gaffer in chunks: a million jobs in one request, in constant memory on both
     * sides. `type`, `priority` and the timing (`runAt`/`delay`, `expiresAt`/`expireIn`) apply to
     * the submissions that give none.
     */
    submitStream: (
      subs: Iterable<Submission> | AsyncIterable<Submission>,
      opts: UploadParams & { signal?: AbortSignal } = {},
    ) => {
      const { signal } = opts;
      return t.json<UploadResult>('jobs.submitStream', {
        query: uploadQuery(opts),
        raw: ndjsonBody(subs),
        headers: { 'content-type': 'application/x-ndjson' },
        ...(signal ? { signal } : {}),
      });
    },
    /** An ad-hoc command as a job of gaffer's ad-hoc type (403 GAFFER_ADHOC_DISABLED when off). */
    run: async (body: RunRequest) => (await t.json<{ job: ApiJob }>('jobs.run', { body })).job,
    /** One page, newest first; pass `nextCursor` back as `cursor` for the next. */
    list: (query: ListJobsQuery = {}) => t.json<JobPage>('jobs.list', { query }),
    /** Every job matching `query`, page after page. */
    all: (query: ListJobsQuery = {}) => pages(jobs.list, query, (p) => p.jobs),
    get: async (jobId: string) => (await t.json<{ job: ApiJob }>('jobs.get', id(jobId))).job,
    cancel: async (jobId: string) => (await t.json<{ job: ApiJob }>('jobs.cancel', id(jobId))).job,
    retry: async (jobId: string) => (await t.json<{ job: ApiJob }>('jobs.retry', id(jobId))).job,
    /** Log lines after `after` (a sequence number), oldest first. */
    logs: async (jobId: string, after?: number) =>
      (await t.json<{ lines: LogLine[] }>('jobs.logs', { ...id(jobId), query: { after } })).lines,
    /** The job's ended attempts, oldest first (worker, times, outcome, error). */
    attempts: async (jobId: string) =>
      (await t.json<{ attempts: Attempt[] }>('jobs.attempts', id(jobId))).attempts,
    followLogs: (jobId: string, opts: FollowOptions = {}) => followLogs(jobs, jobId, opts),
    /** Streams a CSV (a path or a Readable) as one job per row; see upload.ts for how. */
    async uploadCsv(source: CsvSource, opts: UploadOptions = {}): Promise<UploadResult> {
      const csv = await csvBody(source, opts.filename);
      try {
        let raw: BodyInit = csv.form;
        const headers: Record<string, string> = {};
        if (opts.onProgress) {
          const encoded = withProgress(csv.form, csv.size, opts.onProgress);
          raw = encoded.body;
          headers['content-type'] = encoded.contentType;
        }
        const signal = opts.signal;
        const init = { query: uploadQuery(opts), raw, headers, ...(signal ? { signal } : {}) };
        return await t.json<UploadResult>('jobs.uploadCsv', init);
      } finally {
        await csv.cleanup();
      }
    },
  };

  const batches = {
    list: (query: { limit?: number; cursor?: string } = {}) =>
      t.json<BatchList>('batches.list', { query }),
    all: (query: { limit?: number; cursor?: string } = {}) =>
      pages(batches.list, query, (p) => p.batches),
    get: async (batchId: string) =>
      (await t.json<{ batch: Batch }>('batches.get', id(batchId))).batch,
    /** The rejected rows as CSV text (`row,code,message,raw`). */
    rejected: (batchId: string) =>
      t.text('batches.rejected', { ...id(batchId), accept: 'text/csv' }),
    /** Retries the batch's failed and timed-out jobs and replays its dead-lettered ones. */
    retryFailed: (batchId: string) => t.json<RetryFailedResult>('batches.retryFailed', id(batchId)),
  };

  const deadLetters = {
    list: (query: DeadLetterQuery = {}) => t.json<JobPage>('deadLetters.list', { query }),
    all: (query: DeadLetterQuery = {}) => pages(deadLetters.list, query, (p) => p.jobs),
    get: async (jobId: string) => (await t.json<{ job: ApiJob }>('deadLetters.get', id(jobId))).job,
    /** Changes payload, maxAttempts or priority; the job stays dead-lettered until replayed. */
    edit: async (jobId: string, patch: DeadLetterEdit) =>
      (await t.json<{ job: ApiJob }>('deadLetters.edit', { ...id(jobId), body: patch })).job,
    replay: async (jobId: string) =>
      (await t.json<{ job: ApiJob }>('deadLetters.replay', id(jobId))).job,
    replayMany: (selection: ReplaySelection) =>
      t.json<ReplayResult>('deadLetters.replayMany', { body: selection }),
  };

  const named = (value: string) => ({ params: { name: value } });
  const schedules = {
    /** Every schedule the key may see: the config's and the API's, with next and last runs. */
    list: async () => (await t.json<{ schedules: ScheduleView[] }>('schedules.list')).schedules,
    /** One schedule and the jobs of its recent runs. */
    get: (name: string) => t.json<ScheduleDetail>('schedules.get', named(name)),
    /** Declares or replaces an API schedule (`created`: it was new). */
    async put(
      name: string,
      definition: ScheduleDefinition,
    ): Promise<{ schedule: ScheduleView; created: boolean }> {
      const res = await t.request('schedules.put', { ...named(name), body: definition });
      const { schedule } = (await res.json()) as { schedule: ScheduleView };
      return { schedule, created: res.status === 201 };
    },
    async delete(name: string): Promise<void> {
      await (await t.request('schedules.delete', named(name))).arrayBuffer();
    },
    pause: async (name: string) =>
      (await t.json<{ schedule: ScheduleView }>('schedules.pause', named(name))).schedule,
    resume: async (name: string) =>
      (await t.json<{ schedule: ScheduleView }>('schedules.resume', named(name))).schedule,
    /** Submits the schedule's job now, outside its cron; its cron state does not move. */
    trigger: async (name: string) =>
      (await t.json<{ job: ApiJob }>('schedules.trigger', named(name))).job,
  };
  const typed = (value: string) => ({ params: { type: value } });
  const types = {
    /** The types an operator paused, by whom and when. */
    paused: async () => (await t.json<{ paused: PausedType[] }>('types.paused')).paused,
    /** Pauses a type: it takes submissions and starts nothing until resumed. */
    pause: (type: string) => t.json<{ type: string; paused: boolean }>('types.pause', typed(type)),
    resume: (type: string) =>
      t.json<{ type: string; paused: boolean }>('types.resume', typed(type)),
  };

  const client = {
    /** The base URL, without a trailing slash. */
    url: t.url,
    jobs,
    batches,
    deadLetters,
    schedules,
    types,
    queues: async () => (await t.json<{ queues: QueueStatus[] }>('queues')).queues,
    workers: {
      list: async () => (await t.json<{ workers: WorkerInfo[] }>('workers.list')).workers,
      events: async (query: TypeQuery = {}) =>
        (await t.json<{ events: WorkerEvent[] }>('workers.events', { query })).events,
    },
    scaling: {
      desired: async () => (await t.json<{ types: DesiredScale }>('scaling.desired')).types,
      decisions: async (query: TypeQuery = {}) =>
        (await t.json<{ decisions: ScalingDecision[] }>('scaling.decisions', { query })).decisions,
    },
    config: () => t.json<Record<string, unknown>>('config'),
    /** Re-reads gaffer's config file now; ok false: refused, the running config stayed. */
    reloadConfig: () => t.json<ReloadStatus>('reloadConfig'),
    stats: {
      /** Samples of queue depth, throughput and workers per type, since `since` (ms). */
      history: (query: { since?: number } = {}) => t.json<StatsHistory>('stats.history', { query }),
    },
    session: {
      /** Checks `key` and opens a session; later calls without an API key ride on it. */
      async login(key: string): Promise<Session> {
        const res = await t.request('session.login', { body: { key } });
        const cookie = /gaffer_session=[^;]*/.exec(res.headers.get('set-cookie') ?? '');
        if (cookie) t.sessionCookie = cookie[0];
        return (await res.json()) as Session;
      },
      whoami: () => t.json<Session>('session.whoami'),
      async logout(): Promise<void> {
        await (await t.request('session.logout')).arrayBuffer();
        t.sessionCookie = undefined;
      },
    },
    audit: {
      list: (query: AuditQuery = {}) => t.json<AuditPage>('audit.list', { query }),
    },
    /** Prometheus text exposition. */
    metrics: () => t.text('metrics'),
    health: () => t.json<{ status: string }>('health'),
    /** True when gaffer can serve (its store answers); false on 503. */
    async ready(): Promise<boolean> {
      try {
        await (await t.request('ready')).arrayBuffer();
        return true;
      } catch (err) {
        if ((err as { status?: number }).status === 503) return false;
        throw err;
      }
    },
    openapi: () => t.json<Record<string, unknown>>('openapi'),
    /** The live event stream (GET /v1/events), until `signal` aborts or the loop breaks. */
    events: (opts: { signal?: AbortSignal } = {}) => events(t, opts.signal),
    /** Resolves once the job (or `batch-…`) is over; see wait.ts. */
    waitFor: (jobOrBatchId: string, opts: WaitOptions = {}): Promise<WaitOutcome> =>
      waitFor({ job: jobs.get, batch: batches.get }, jobOrBatchId, opts),
  };
  return client;
}

/** Follows `nextCursor` until the last page. */
async function* pages<Q extends { cursor?: string }, P extends { nextCursor: string | null }, T>(
  list: (query: Q) => Promise<P>,
  query: Q,
  items: (page: P) => T[],
): AsyncGenerator<T> {
  let cursor = query.cursor;
  for (;;) {
    const page = await list({ ...query, ...(cursor ? { cursor } : {}) });
    yield* items(page);
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

/**
 * Log lines as they come, until the job has ended and a read made after seeing that returned
 * nothing (so no late line is missed), or `signal` aborts (then it just ends).
 */
async function* followLogs(
  jobs: { get(id: string): Promise<ApiJob>; logs(id: string, after?: number): Promise<LogLine[]> },
  jobId: string,
  opts: FollowOptions,
): AsyncGenerator<LogLine> {
  let last = opts.after ?? 0;
  while (!opts.signal?.aborted) {
    const job = await jobs.get(jobId);
    const lines = await jobs.logs(jobId, last);
    yield* lines;
    if (lines.length > 0) last = lines[lines.length - 1]!.seq;
    else if (isTerminal(job.state)) return;
    else await delay(opts.intervalMs ?? 500, opts.signal).catch(() => undefined);
  }
}

async function* events(t: Transport, signal?: AbortSignal): AsyncGenerator<GafferEvent> {
  const res = await t.request('events', {
    accept: 'text/event-stream',
    ...(signal ? { signal } : {}),
  });
  const text = res.body!.pipeThrough(new TextDecoderStream());
  try {
    for await (const m of sseMessages(text)) {
      yield { event: m.event, data: JSON.parse(m.data) } as GafferEvent;
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    await text.cancel().catch(() => undefined);
  }
}
