import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import { TERMINAL_STATES as TERMINAL, type JobState, type JobView } from '../domain/job.ts';
import type { BatchSummary as Batch, LogLine, WorkerEvent } from '../store/job-store.ts';
import type { Waiting } from '../jobs/waiting.ts';

// The wire types are the server's own; only type imports and one constant cross over, so the CLI
// loads nothing of the server.
export type { JobError } from '../domain/job.ts';
export { TERMINAL };
export type { Batch, JobState, LogLine, ScalingDecision, WorkerEvent, WorkerInfo };

/** A job as the API returns it. */
/** A job as GET /v1/jobs/:id answers: its record and, before it starts, why it waits. */
export type ApiJob = JobView & { waiting?: Waiting };

/**
 * A small typed client of gaffer's HTTP API (docs/http-api.md): one method per route. The CLI
 * talks to gaffer through this only. Non-2xx answers throw `ApiError`; a server that cannot be
 * reached throws `ConnectionError`.
 */

export interface Submission {
  type?: string;
  payload?: unknown;
  priority?: number | string;
  attributes?: Record<string, unknown>;
  idempotencyKey?: string;
  maxAttempts?: number;
  timeoutSeconds?: number;
  /** Inputs downloaded before the job runs, and where its output is uploaded (s3://… or paths). */
  data?: { inputs?: string[]; output?: string };
}

export interface Rejection {
  index?: number;
  row?: number;
  code: string;
  message: string;
  raw?: string;
}

export interface BatchSubmitResult {
  batchId: string;
  accepted: number;
  rejected: Rejection[];
  jobIds: string[];
}

export interface ListJobsQuery {
  type?: string;
  state?: string;
  batch?: string;
  search?: string;
  limit?: number;
  cursor?: string;
}

export interface DeadLetterEdit {
  payload?: unknown;
  maxAttempts?: number;
  priority?: number;
}

export interface ReplaySelection {
  ids?: string[];
  type?: string;
  search?: string;
  all?: boolean;
  limit?: number;
}

export interface ReplayResult {
  replayed: number;
  jobIds: string[];
  skipped: { id: string; code: string; message: string }[];
}

export interface WorkerCounts {
  starting: number;
  idle: number;
  busy: number;
  draining: number;
}

export interface QueueStatus {
  type: string;
  queue: string;
  mode: 'pool' | 'per-job';
  ready: number;
  delayed: number;
  inFlight: number;
  byState: Partial<Record<JobState, number>>;
  oldestReadyAt: number | null;
  workers: WorkerCounts;
  desired: number;
  min: number;
  max: number;
}

export interface UploadOptions {
  type?: string;
  priority?: number | string;
  /** Called as the file is read into the request body. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/** A non-2xx answer, with gaffer's error code (`GAFFER_…`). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The server could not be reached (refused, DNS, reset before an answer). */
export class ConnectionError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const reason = describeCause(cause);
    super(`cannot connect to ${url}${reason ? `: ${reason}` : ''}`, { cause });
    this.name = 'ConnectionError';
    this.url = url;
  }
}

function describeCause(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause) e = e.cause;
  if (e instanceof Error) return (e as { code?: string }).code ?? e.message;
  return '';
}

type Query = Record<string, string | number | boolean | undefined>;

export class GafferClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  // ---- jobs
  /** `created` is false when the idempotency key already existed (200). */
  async submit(body: Submission): Promise<{ job: ApiJob; created: boolean }> {
    const res = await this.#request('POST', '/v1/jobs', { body });
    const { job } = (await res.json()) as { job: ApiJob };
    return { job, created: res.status === 201 };
  }
  submitBatch(body: { type?: string; jobs: Submission[] }): Promise<BatchSubmitResult> {
    return this.#json('POST', '/v1/jobs/batch', { body });
  }
  listJobs(query: ListJobsQuery = {}): Promise<{ jobs: ApiJob[]; nextCursor: string | null }> {
    return this.#json('GET', '/v1/jobs', { query: { ...query } });
  }
  async getJob(id: string): Promise<ApiJob> {
    return (await this.#json<{ job: ApiJob }>('GET', `/v1/jobs/${enc(id)}`)).job;
  }
  async cancelJob(id: string): Promise<ApiJob> {
    return (await this.#json<{ job: ApiJob }>('POST', `/v1/jobs/${enc(id)}/cancel`)).job;
  }
  async retryJob(id: string): Promise<ApiJob> {
    return (await this.#json<{ job: ApiJob }>('POST', `/v1/jobs/${enc(id)}/retry`)).job;
  }
  async jobLogs(id: string, after?: number): Promise<LogLine[]> {
    const q = { after };
    return (await this.#json<{ lines: LogLine[] }>('GET', `/v1/jobs/${enc(id)}/logs`, { query: q }))
      .lines;
  }

  // ---- dead-letter queue
  listDeadLetters(
    query: { type?: string; search?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ jobs: ApiJob[]; nextCursor: string | null }> {
    return this.#json('GET', '/v1/dead-letters', { query: { ...query } });
  }
  async getDeadLetter(id: string): Promise<ApiJob> {
    return (await this.#json<{ job: ApiJob }>('GET', `/v1/dead-letters/${enc(id)}`)).job;
  }
  async editDeadLetter(id: string, patch: DeadLetterEdit): Promise<ApiJob> {
    const path = `/v1/dead-letters/${enc(id)}`;
    return (await this.#json<{ job: ApiJob }>('PATCH', path, { body: patch })).job;
  }
  async replayDeadLetter(id: string): Promise<ApiJob> {
    const path = `/v1/dead-letters/${enc(id)}/replay`;
    return (await this.#json<{ job: ApiJob }>('POST', path)).job;
  }
  replayDeadLetters(selection: ReplaySelection): Promise<ReplayResult> {
    return this.#json('POST', '/v1/dead-letters/replay', { body: selection });
  }

  // ---- batches
  /** Streams `path` as multipart field `file`; the body is never held in memory. */
  async uploadCsv(
    path: string,
    options: UploadOptions = {},
  ): Promise<{ batch: Batch; rejected: Rejection[] }> {
    const size = (await stat(path)).size;
    const boundary = `----gaffer${crypto.randomUUID().replaceAll('-', '')}`;
    const name = basename(path).replace(/["\r\n]/g, '_');
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
        `Content-Type: text/csv\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const onProgress = options.onProgress;
    async function* parts(): AsyncGenerator<Uint8Array> {
      yield head;
      let sent = 0;
      onProgress?.(0, size);
      for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
        const buf = chunk as Buffer;
        sent += buf.length;
        yield buf;
        onProgress?.(sent, size);
      }
      yield tail;
    }
    const res = await this.#request('POST', '/v1/batches', {
      query: { type: options.type, priority: options.priority },
      raw: streamOf(parts()),
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + size + tail.length),
      },
    });
    return (await res.json()) as { batch: Batch; rejected: Rejection[] };
  }
  async getBatch(id: string): Promise<Batch> {
    return (await this.#json<{ batch: Batch }>('GET', `/v1/batches/${enc(id)}`)).batch;
  }
  /** The rejected rows as CSV text (`row,code,message,raw`). */
  async batchRejected(id: string): Promise<string> {
    return (await this.#request('GET', `/v1/batches/${enc(id)}/rejected`)).text();
  }

  // ---- queues, workers, scaling
  async queues(): Promise<QueueStatus[]> {
    return (await this.#json<{ queues: QueueStatus[] }>('GET', '/v1/queues')).queues;
  }
  async workers(): Promise<WorkerInfo[]> {
    return (await this.#json<{ workers: WorkerInfo[] }>('GET', '/v1/workers')).workers;
  }
  async desiredScale(): Promise<Record<string, { current: number; desired: number }>> {
    return (
      await this.#json<{ types: Record<string, { current: number; desired: number }> }>(
        'GET',
        '/v1/scaling/desired',
      )
    ).types;
  }
  async decisions(query: { type?: string; limit?: number } = {}): Promise<ScalingDecision[]> {
    return (
      await this.#json<{ decisions: ScalingDecision[] }>('GET', '/v1/scaling/decisions', {
        query: { ...query },
      })
    ).decisions;
  }
  async workerEvents(query: { type?: string; limit?: number } = {}): Promise<WorkerEvent[]> {
    return (
      await this.#json<{ events: WorkerEvent[] }>('GET', '/v1/workers/events', {
        query: { ...query },
      })
    ).events;
  }
  config(): Promise<Record<string, unknown>> {
    return this.#json('GET', '/v1/config');
  }

  // ---- operations
  health(): Promise<{ status: string }> {
    return this.#json('GET', '/healthz');
  }
  async ready(): Promise<boolean> {
    try {
      await this.#request('GET', '/readyz');
      return true;
    } catch (err) {
      if (err instanceof ApiError) return false;
      throw err;
    }
  }
  async metrics(): Promise<string> {
    return (await this.#request('GET', '/metrics')).text();
  }

  // ---- plumbing
  async #json<T>(
    method: string,
    path: string,
    init: { query?: Query; body?: unknown } = {},
  ): Promise<T> {
    return (await (await this.#request(method, path, init)).json()) as T;
  }

  async #request(
    method: string,
    path: string,
    init: {
      query?: Query;
      body?: unknown;
      raw?: ReadableStream<Uint8Array>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const url = this.baseUrl + path + queryString(init.query);
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    let body: BodyInit | undefined;
    if (init.raw) body = init.raw;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(init.raw ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      throw new ConnectionError(this.baseUrl, err);
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (parsed.error?.code) {
      return new ApiError(
        res.status,
        parsed.error.code,
        parsed.error.message ?? res.statusText,
        parsed.error.details,
      );
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, `HTTP_${res.status}`, text.trim() || res.statusText);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** A web stream over an async generator, pulled on demand (backpressure). */
function streamOf(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await gen.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await gen.return(undefined);
    },
  });
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state as JobState);
}
