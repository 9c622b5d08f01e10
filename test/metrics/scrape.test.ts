import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { PROMTOOL_BIN } from '../helpers/servers/prometheus.ts';

// What a real gaffer serves at /metrics after it ran jobs that succeeded, failed after a retry and
// were dead-lettered: promtool's linter accepts it, and the series say what happened.

const skip = !serviceAvailable(PROMTOOL_BIN);
let g: TestGaffer;
let text: string;

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      ok: { worker: { command: ['sh', '-c', 'cat'] }, scaling: { min: 1, max: 1 } },
      flaky: {
        worker: { command: ['sh', '-c', 'exit 3'] },
        retry: { maxAttempts: 2, backoffMs: 0 },
        deadLetter: false,
        scaling: { max: 1 },
      },
      poison: {
        worker: { command: ['sh', '-c', 'exit 4'] },
        retry: { maxAttempts: 1 },
        scaling: { max: 1 },
      },
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
    },
  });
  const submit = async (type: string, n: number) => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs/batch',
      payload: { type, jobs: Array.from({ length: n }, (_, i) => ({ payload: { i } })) },
    });
    assert.equal(res.statusCode, 201, res.body);
  };
  await submit('ok', 3);
  await submit('flaky', 1);
  await submit('poison', 2);
  await submit('held', 2);
  await until(g, async () => {
    const [ok, flaky, poison] = await Promise.all(
      ['ok', 'flaky', 'poison'].map((t) => countByState(g, t)),
    );
    const workers = g.orch.gateway.workers('ok');
    return (
      ok!['succeeded'] === 3 &&
      flaky!['failed'] === 1 &&
      poison!['dead_lettered'] === 2 &&
      workers.some((w) => w.pid !== null)
    );
  });
  const res = await g.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  text = res.body;
});
after(() => g.close());

/** The value of one sample line, e.g. `gaffer_jobs_finished_total{type="ok",state="succeeded"}`. */
function sample(name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

test('promtool check metrics accepts what a running gaffer serves', { skip }, async () => {
  const child = spawn(PROMTOOL_BIN, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin.end(text);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, out);
});

const CASES: { metric: string; labels: Record<string, string>; want: (v: number) => boolean }[] = [
  {
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'ok', state: 'succeeded' },
    want: (v) => v === 3,
  },
  {
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'flaky', state: 'failed' },
    want: (v) => v === 1,
  },
  {
    metric: 'gaffer_job_retries_total',
    labels: { type: 'flaky', class: 'application' },
    want: (v) => v === 1,
  },
  {
    metric: 'gaffer_jobs_finished_total',
    labels: { type: 'poison', state: 'dead_lettered' },
    want: (v) => v === 2,
  },
  { metric: 'gaffer_jobs_dead_lettered', labels: { type: 'poison' }, want: (v) => v === 2 },
  { metric: 'job_queue_length', labels: { type: 'held' }, want: (v) => v === 2 },
  { metric: 'gaffer_job_queue_wait_seconds_count', labels: { type: 'ok' }, want: (v) => v === 3 },
  {
    metric: 'gaffer_job_duration_seconds_count',
    labels: { type: 'ok', state: 'succeeded' },
    want: (v) => v === 3,
  },
  {
    metric: 'gaffer_worker_exits_total',
    labels: { type: 'ok', outcome: 'crashed' },
    want: (v) => v === 0,
  },
  { metric: 'gaffer_job_timeout_seconds', labels: { type: 'ok' }, want: (v) => v === 300 },
  { metric: 'gaffer_worker_processes_measured', labels: { type: 'ok' }, want: (v) => v >= 1 },
  { metric: 'gaffer_worker_resident_memory_bytes', labels: { type: 'ok' }, want: (v) => v > 0 },
  { metric: 'gaffer_worker_cpu_seconds_total', labels: { type: 'ok' }, want: (v) => v > 0 },
  { metric: 'gaffer_local_capacity_cpu_cores', labels: {}, want: (v) => v >= 1 },
  { metric: 'process_cpu_seconds_total', labels: {}, want: (v) => v > 0 },
  { metric: 'process_resident_memory_bytes', labels: {}, want: (v) => v > 0 },
];

for (const c of CASES) {
  test(`after the run, ${c.metric}${JSON.stringify(c.labels)} holds`, () => {
    const v = sample(c.metric, c.labels);
    assert.ok(v !== undefined && c.want(v), `${c.metric} ${JSON.stringify(c.labels)} = ${v}`);
  });
}

test('no series is labelled by a job or worker id', () => {
  for (const line of text.split('\n')) {
    assert.doesNotMatch(line, /^[^#].*\b(id|job_id|worker|worker_id)="/, line);
  }
});
