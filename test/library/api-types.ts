/**
 * The public API's types, pinned. Not run: `npm run check` (tsc) fails when a line here stops
 * compiling — a changed signature, a type no longer exported, a payload no longer checked — and a
 * `@ts-expect-error` whose line starts compiling fails too. Changing this file is changing the
 * API (docs/library.md).
 */
import {
  createGaffer,
  defineJob,
  type BatchPage,
  type BatchSubmitted,
  type BatchSummary,
  type ConfigInput,
  type Gaffer,
  type GafferEventMap,
  type GafferEventName,
  type GafferOptions,
  type Job,
  type JobContext,
  type JobHandle,
  type JobState,
  type PayloadOf,
  type RejectedRow,
  type ReloadStatus,
  type RetryFailedReport,
  type ResultOf,
  type ScheduleDetail,
  type ScheduleInput,
  type ScheduleView,
  type Submission,
  type Logger,
} from 'gaffer';
import { pino } from 'pino';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_: T): void {}

interface Resize {
  url: string;
  width: number;
}
const resize = defineJob({
  concurrency: 2,
  handler: async (ctx: JobContext<Resize>) => ({ bytes: ctx.payload.width * 2 }),
});
expectType<Equal<PayloadOf<typeof resize>, Resize>>(true);
expectType<Equal<ResultOf<typeof resize>, { bytes: number }>>(true);

// @ts-expect-error a misspelt setting is a type error in defineJob
defineJob({ concurency: 2, handler: () => 1 });
// @ts-expect-error settings keep their types
defineJob({ timeoutSeconds: '30', handler: () => 1 });

export async function typedUse(): Promise<void> {
  const gaffer = await createGaffer({
    config: { store: { dataDir: '.gaffer' }, server: { port: 0 } } satisfies ConfigInput,
    jobs: { resize, add: { handler: (ctx: JobContext<[number, number]>) => ctx.payload[0] + 1 } },
  });
  type Types = typeof gaffer extends Gaffer<infer J> ? keyof J : never;
  expectType<Equal<Types, 'resize' | 'add'>>(true);

  const handle = await gaffer.submit(
    'resize',
    { url: 'https://x', width: 3 },
    { priority: 'high' },
  );
  expectType<Equal<typeof handle, JobHandle<{ bytes: number }>>>(true);
  expectType<Equal<Awaited<ReturnType<typeof handle.result>>, { bytes: number }>>(true);
  expectType<Equal<Awaited<ReturnType<typeof handle.done>>, Job>>(true);
  expectType<Equal<Awaited<ReturnType<typeof gaffer.wait>>, Job>>(true);
  const sum: number = await (await gaffer.submit('add', [1, 2])).result();
  void sum;

  // @ts-expect-error the payload is checked against the handler's
  await gaffer.submit('resize', { url: 'https://x' });
  // @ts-expect-error only types given in code take the (type, payload) form
  await gaffer.submit('csv-row', {});
  // Any other type (from the config, or picked by the route rules) goes as a Submission.
  const _other = await gaffer.submit({
    type: 'csv-row',
    payload: { id: '1' },
  } satisfies Submission);
  expectType<Equal<typeof _other, JobHandle<unknown>>>(true);

  // Events are typed by name.
  const off = gaffer.on('job:succeeded', ({ job: _job }) => {
    expectType<Equal<typeof _job, Job>>(true);
  });
  off();
  const _retrying = await gaffer.once('job:retrying');
  expectType<Equal<typeof _retrying, GafferEventMap['job:retrying']>>(true);
  // @ts-expect-error unknown event
  gaffer.on('job:exploded', () => {});
  expectType<Equal<Extract<GafferEventName, 'job:queued'>, 'job:queued'>>(true);

  const state: JobState = (await gaffer.job(handle.id)).state;
  void state;
  const status: ReloadStatus = await gaffer.reload();
  void status;
  const url: string = await gaffer.listen({ port: 0 });
  void url;
  // Batches: submitted in code or uploaded over HTTP, read and retried alike.
  const batch: BatchSubmitted = await gaffer.submitBatch([{ payload: {} }], { type: 'csv-row' });
  const summary: BatchSummary = await gaffer.batch(batch.batchId);
  const page: BatchPage = await gaffer.batches({ limit: 10 });
  const rows: RejectedRow[] = await gaffer.rejectedRows(summary.id);
  const report: RetryFailedReport = await gaffer.retryFailed(summary.id);
  expectType<Equal<BatchSubmitted['accepted'], JobHandle[]>>(true);
  void [page, rows, report];
  // Pause a type; cron schedules: the config's and those declared in code.
  await gaffer.pause('csv-row');
  await gaffer.resume('csv-row');
  const nightly: ScheduleInput = { cron: '0 3 * * *', submit: { type: 'csv-row' } };
  const put: { schedule: ScheduleView; created: boolean } = await gaffer.putSchedule('n', nightly);
  const listed: ScheduleView[] = await gaffer.schedules();
  const one: ScheduleDetail = await gaffer.schedule('n');
  expectType<Equal<ScheduleDetail['recentJobs'], Job[]>>(true);
  const fired: Job = await gaffer.triggerSchedule('n');
  const paused: ScheduleView = await gaffer.pauseSchedule('n');
  await gaffer.resumeSchedule('n');
  await gaffer.deleteSchedule('n');
  // @ts-expect-error a schedule submits a job: it names its type
  await gaffer.putSchedule('x', { cron: '* * * * *', submit: {} });
  void [put, listed, one, fired, paused];
  const drained: boolean = await gaffer.drain(1000);
  void drained;
  await gaffer.close();
}

/** The members of a running gaffer: adding or removing one is an API change. */
expectType<
  Equal<
    keyof Gaffer,
    | 'config'
    | 'url'
    | 'types'
    | 'grpcPort'
    | 'submit'
    | 'submitMany'
    | 'submitBatch'
    | 'batch'
    | 'batches'
    | 'rejectedRows'
    | 'retryFailed'
    | 'job'
    | 'jobs'
    | 'waiting'
    | 'logs'
    | 'wait'
    | 'cancel'
    | 'retry'
    | 'queues'
    | 'pause'
    | 'resume'
    | 'schedules'
    | 'schedule'
    | 'putSchedule'
    | 'deleteSchedule'
    | 'pauseSchedule'
    | 'resumeSchedule'
    | 'triggerSchedule'
    | 'on'
    | 'once'
    | 'reload'
    | 'listen'
    | 'drain'
    | 'close'
  >
>(true);
expectType<
  Equal<
    keyof GafferOptions,
    'config' | 'jobs' | 'env' | 'overrides' | 'watch' | 'clock' | 'listen' | 'log'
  >
>(true);

// A pino logger is a Logger (the `log` option); so is any object with the four methods.
export function loggers(): void {
  const pinoLog: Logger = pino({ enabled: false });
  const ownLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  void createGaffer({ log: pinoLog });
  void createGaffer({ log: ownLog });
  // @ts-expect-error a logger needs all four levels
  void createGaffer({ log: { info() {}, error() {} } });
}
