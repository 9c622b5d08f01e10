import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { GafferEvents, type GafferEventMap, type WorkerInfo } from '../../src/domain/events.ts';
import type { Job } from '../../src/domain/job.ts';
import { createMetrics, type MetricsSources } from '../../src/metrics/metrics.ts';
import {
  parseStat,
  parseVmRss,
  sampleTrees,
  type ProcessSample,
} from '../../src/metrics/process.ts';
import type { QueueStats } from '../../src/store/job-store.ts';
import { stderrLogger } from '../helpers/log.ts';
import { snoozeError } from '../../src/jobs/delays.ts';

// Metric unit tests: each domain event (or scrape-time source) and the series it must move.
// Sources are plain data handed to createMetrics; the registry and its text are prom-client's.

const NOW = 1_000_000;

function job(over: Partial<Job>): Job {
  return {
    id: 'j1',
    type: 'echo',
    queue: 'echo',
    payload: null,
    priority: 0,
    attributes: {},
    state: 'queued',
    attempt: 1,
    maxAttempts: 3,
    replays: 0,
    timeoutMs: 1000,
    createdAt: NOW - 10_000,
    runAt: NOW - 10_000,
    startedAt: null,
    finishedAt: null,
    leaseToken: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    result: null,
    ...over,
  } as Job;
}

function worker(over: Partial<WorkerInfo>): WorkerInfo {
  return {
    id: 'w1',
    type: 'echo',
    mode: 'pool',
    state: 'idle',
    active: 0,
    concurrency: 1,
    startedAt: NOW,
    idleSince: NOW,
    pid: 10,
    ...over,
  };
}

interface Fixture {
  events: GafferEvents;
  registry: Registry;
  refresh(): Promise<void>;
  value(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

function fixture(over: Partial<MetricsSources> = {}): Fixture {
  const events = new GafferEvents(stderrLogger());
  const { registry, refresh } = createMetrics(events, {
    queueStats: async () => [],
    workers: () => [],
    now: () => NOW,
    throughput: { perMinute: () => 0, types: () => [] },
    sampleTrees: () => new Map(),
    ...over,
  });
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = registry.getSingleMetric(name.replace(/_(bucket|count|sum)$/, ''));
    assert.ok(metric, `${name} is registered`);
    const { values } = await metric.get();
    const hit = values.find((v) =>
      (v as { metricName?: string }).metricName === undefined ||
      (v as { metricName?: string }).metricName === name
        ? Object.entries(labels).every(
            ([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want,
          ) && Object.keys(v.labels).length === Object.keys(labels).length
        : false,
    );
    return hit?.value;
  };
  return { events, registry, refresh, value };
}

type Emission = { [K in keyof GafferEventMap]: [K, GafferEventMap[K]] }[keyof GafferEventMap];

const ended = (state: Job['state']) =>
  job({ state, startedAt: NOW - 2000, finishedAt: NOW, attempt: 1 });

const EVENT_CASES: {
  name: string;
  emit: Emission[];
  metric: string;
  labels: Record<string, string>;
  want: number;
}[] = [
  {
    name: 'a submit counts per type',
    emit: [['job:queued', { jobs: [job({}), job({ id: 'j2' })] }]],
    metric: 'gaffer_jobs_submitted_total',
    labels: { type: 'echo' },
    want: 2,
  },
  {
    name: 'a success counts as finished succeeded',
    emit: [['job:succeeded', { job: ended('succeeded') }]],
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'echo', state: 'succeeded' },
    want: 1,
  },
  {
    name: 'a dead letter counts as finished dead_lettered',
    emit: [['job:failed', { job: ended('dead_lettered') }]],
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'echo', state: 'dead_lettered' },
    want: 1,
  },
  {
    name: 'a cancel request on a running job is not an end',
    emit: [['job:cancelled', { job: job({ state: 'running' }) }]],
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'echo', state: 'running' },
    want: Number.NaN,
  },
  {
    name: 'run time is observed for an ended attempt',
    emit: [['job:succeeded', { job: ended('succeeded') }]],
    metric: 'gaffer_job_duration_seconds_sum',
    labels: { type: 'echo', state: 'succeeded' },
    want: 2,
  },
  {
    name: 'a retry counts by failure class',
    emit: [['job:retrying', { job: job({}), error: { class: 'timeout', message: 'slow' } }]],
    metric: 'gaffer_job_retries_total',
    labels: { type: 'echo', class: 'timeout' },
    want: 1,
  },
  {
    name: "a snooze is no failed attempt: it counts in no class's retries",
    emit: [['job:retrying', { job: job({}), error: snoozeError(5_000) }]],
    metric: 'gaffer_job_retries_total',
    labels: { type: 'echo', class: 'application' },
    want: Number.NaN,
  },
  {
    name: 'a redelivery counts by cause',
    emit: [
      ['job:redelivered', { job: job({}), cause: 'lease_expired' }],
      ['job:redelivered', { job: job({}), cause: 'lease_expired' }],
      ['job:redelivered', { job: job({}), cause: 'worker_lost' }],
    ],
    metric: 'gaffer_job_redeliveries_total',
    labels: { type: 'echo', cause: 'lease_expired' },
    want: 2,
  },
  {
    name: 'queue wait is observed once per attempt, from when the job was due',
    emit: [
      ['job:started', { job: job({ state: 'running', startedAt: NOW, runAt: NOW - 4000 }) }],
      ['job:started', { job: job({ state: 'running', startedAt: NOW + 5, runAt: NOW - 4000 }) }],
    ],
    metric: 'gaffer_job_queue_wait_seconds_count',
    labels: { type: 'echo' },
    want: 1,
  },
  {
    name: 'queue wait: the seconds between due and start',
    emit: [['job:started', { job: job({ state: 'running', startedAt: NOW, runAt: NOW - 4000 }) }]],
    metric: 'gaffer_job_queue_wait_seconds_sum',
    labels: { type: 'echo' },
    want: 4,
  },
  {
    name: 'a scaling decision counts by direction',
    emit: [
      [
        'scaler:decision',
        {
          decision: {
            type: 'echo',
            at: NOW,
            from: 3,
            to: 1,
            retire: [],
            reason: 'idle',
            inputs: {},
          },
        },
      ],
    ],
    metric: 'gaffer_scaling_decisions_total',
    labels: { type: 'echo', direction: 'in' },
    want: 1,
  },
  {
    name: 'a failed executor start counts as a scaler error',
    emit: [['scaler:error', { stage: 'start', type: 'echo', message: 'spawn failed' }]],
    metric: 'gaffer_scaler_errors_total',
    labels: { stage: 'start', type: 'echo' },
    want: 1,
  },
  {
    name: 'a failed tick counts as a scaler error without a type',
    emit: [['scaler:error', { stage: 'tick', type: null, message: 'store down' }]],
    metric: 'gaffer_scaler_errors_total',
    labels: { stage: 'tick', type: '' },
    want: 1,
  },
  {
    name: 'a worker that stopped uncleanly counts as crashed',
    emit: [
      ['worker:stopped', { worker: worker({}), code: 1, signal: null, clean: false }],
      ['worker:stopped', { worker: worker({}), code: 0, signal: null, clean: true }],
    ],
    metric: 'gaffer_worker_exits_total',
    labels: { type: 'echo', outcome: 'crashed' },
    want: 1,
  },
  {
    name: 'an ended attempt stamps the type',
    emit: [['job:retrying', { job: job({}), error: { class: 'application', message: 'x' } }]],
    metric: 'gaffer_last_attempt_end_timestamp_seconds',
    labels: { type: 'echo' },
    want: NOW / 1000,
  },
];

for (const c of EVENT_CASES) {
  test(`event metric: ${c.name}`, async () => {
    const f = fixture();
    for (const [name, payload] of c.emit) f.events.emit(name, payload as never);
    const got = await f.value(c.metric, c.labels);
    if (Number.isNaN(c.want)) assert.equal(got, undefined);
    else assert.equal(got, c.want);
  });
}

const stats = (over: Partial<QueueStats>): QueueStats => ({
  type: 'echo',
  ready: 0,
  delayed: 0,
  inFlight: 0,
  byState: {},
  oldestReadyAt: null,
  ...over,
});

const GAUGE_CASES: {
  name: string;
  sources: Partial<MetricsSources>;
  metric: string;
  labels: Record<string, string>;
  want: number | undefined;
}[] = [
  {
    name: 'queue length is the ready count',
    sources: { queueStats: async () => [stats({ ready: 7 })] },
    metric: 'job_queue_length',
    labels: { type: 'echo' },
    want: 7,
  },
  {
    name: 'dead letters now, per type',
    sources: { queueStats: async () => [stats({ byState: { dead_lettered: 4 } })] },
    metric: 'gaffer_jobs_dead_lettered',
    labels: { type: 'echo' },
    want: 4,
  },
  {
    name: 'oldest ready job age in seconds',
    sources: { queueStats: async () => [stats({ ready: 1, oldestReadyAt: NOW - 90_000 })] },
    metric: 'gaffer_oldest_ready_job_age_seconds',
    labels: { type: 'echo' },
    want: 90,
  },
  {
    name: 'a configured type with no jobs reads 0, not absent',
    sources: { types: () => [{ name: 'idle-type', timeoutSeconds: 30 }] },
    metric: 'job_queue_length',
    labels: { type: 'idle-type' },
    want: 0,
  },
  {
    name: "the type's timeout",
    sources: { types: () => [{ name: 'echo', timeoutSeconds: 30 }] },
    metric: 'gaffer_job_timeout_seconds',
    labels: { type: 'echo' },
    want: 30,
  },
  {
    name: 'a type never ended: its last end is when gaffer started',
    sources: { types: () => [{ name: 'echo', timeoutSeconds: 30 }] },
    metric: 'gaffer_last_attempt_end_timestamp_seconds',
    labels: { type: 'echo' },
    want: NOW / 1000,
  },
  {
    name: 'a configured type has its crash counter at 0',
    sources: { types: () => [{ name: 'echo', timeoutSeconds: 30 }] },
    metric: 'gaffer_worker_exits_total',
    labels: { type: 'echo', outcome: 'crashed' },
    want: 0,
  },
  {
    name: 'workers by type and state',
    sources: {
      workers: () => [
        worker({ id: 'a', state: 'busy' }),
        worker({ id: 'b', state: 'busy' }),
        worker({ id: 'c', state: 'idle' }),
      ],
    },
    metric: 'worker_pool_size',
    labels: { type: 'echo', state: 'busy' },
    want: 2,
  },
  {
    name: "desired workers: the autoscaler's latest decision",
    sources: { desired: () => new Map([['echo', { to: 4 }]]) },
    metric: 'gaffer_workers_desired',
    labels: { type: 'echo' },
    want: 4,
  },
  {
    name: 'processing rate per minute',
    sources: { throughput: { perMinute: () => 12, types: () => ['echo'] } },
    metric: 'job_processing_rate',
    labels: { type: 'echo' },
    want: 12,
  },
  {
    name: 'local workers: resident memory summed per type',
    sources: {
      workers: () => [worker({ id: 'a', pid: 10 }), worker({ id: 'b', pid: 11 })],
      isLocal: () => true,
      sampleTrees: (pids) => new Map(pids.map((p) => [p, { cpuSeconds: 1, rssBytes: p * 100 }])),
    },
    metric: 'gaffer_worker_resident_memory_bytes',
    labels: { type: 'echo' },
    want: 2100,
  },
  {
    name: 'a worker that is not local is never sampled (its pid is not ours)',
    sources: {
      workers: () => [worker({ id: 'remote-a', pid: 10 })],
      isLocal: (w) => !w.id.startsWith('remote-'),
      sampleTrees: (pids) => new Map(pids.map((p) => [p, { cpuSeconds: 1, rssBytes: 1 }])),
    },
    metric: 'gaffer_worker_processes_measured',
    labels: { type: 'echo' },
    want: undefined,
  },
  {
    name: 'local capacity in cores',
    sources: { localCapacity: { cpu: 2500, memory: 1 << 30 } },
    metric: 'gaffer_local_capacity_cpu_cores',
    labels: {},
    want: 2.5,
  },
];

for (const c of GAUGE_CASES) {
  test(`scrape metric: ${c.name}`, async () => {
    const f = fixture(c.sources);
    await f.refresh();
    assert.equal(await f.value(c.metric, c.labels), c.want);
  });
}

test('worker CPU is a counter: deltas between scrapes, a new process counted whole', async () => {
  let workers = [worker({ id: 'a', pid: 10 })];
  let cpu = new Map<number, number>([[10, 2]]);
  const f = fixture({
    workers: () => workers,
    isLocal: () => true,
    sampleTrees: (pids) => {
      const out = new Map<number, ProcessSample>();
      for (const p of pids) {
        const c = cpu.get(p);
        if (c !== undefined) out.set(p, { cpuSeconds: c, rssBytes: 0 });
      }
      return out;
    },
  });
  const steps: [WorkerInfo[], [number, number][], number][] = [
    [workers, [[10, 2]], 2],
    [workers, [[10, 3.5]], 3.5],
    [[worker({ id: 'a', pid: 20 })], [[20, 1]], 4.5], // restarted under the same id
    [[], [], 4.5], // gone: the counter keeps what it counted
    [[worker({ id: 'a', pid: 20 })], [[20, 1.5]], 6], // seen again after it was forgotten
  ];
  for (const [w, c, want] of steps) {
    workers = w;
    cpu = new Map(c);
    await f.refresh();
    assert.equal(await f.value('gaffer_worker_cpu_seconds_total', { type: 'echo' }), want);
  }
});

const STAT_CASES: { name: string; stat: string; want: { ppid: number; ticks: number } | null }[] = [
  {
    name: 'a plain command name',
    stat: '42 (node) S 7 42 42 0 -1 4194560 100 0 0 0 150 50 3 2 20 0 11 0 100 1000 200',
    want: { ppid: 7, ticks: 205 },
  },
  {
    name: 'a command name with spaces and parentheses',
    stat: '42 (my (odd) worker) R 9 42 42 0 -1 0 0 0 0 0 10 20 30 40 20 0 1 0 100 1000 200',
    want: { ppid: 9, ticks: 100 },
  },
  { name: 'garbage', stat: 'nonsense', want: null },
];

for (const c of STAT_CASES) {
  test(`/proc/<pid>/stat: ${c.name}`, () => assert.deepEqual(parseStat(c.stat), c.want));
}

test('/proc/<pid>/status: VmRSS in bytes; 0 without it (a zombie)', () => {
  assert.equal(parseVmRss('Name:\tnode\nVmRSS:\t    2048 kB\nThreads:\t1\n'), 2048 * 1024);
  assert.equal(parseVmRss('Name:\tzombie\nState:\tZ (zombie)\n'), 0);
});

test('sampleTrees reads a live process tree from /proc, and skips a pid that is gone', () => {
  const samples = sampleTrees([process.pid, 2 ** 22 + 12345]);
  const mine = samples.get(process.pid);
  assert.ok(mine && mine.cpuSeconds > 0 && mine.rssBytes > 0, JSON.stringify(mine));
  assert.equal(samples.size, 1);
});
