import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { RULES_FILE } from '../../scripts/gen-prometheus-rule.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import {
  PROMETHEUS_BIN,
  poll,
  startPrometheus,
  type PrometheusServer,
} from '../helpers/servers/prometheus.ts';

// A real Prometheus scrapes a real gaffer every second and evaluates gaffer's rules file, plus a
// copy of one alert with a 1 s `for` (the real ones wait minutes). gaffer is given a backlog of a
// type that has no worker; the test polls Prometheus's HTTP API until the target is up, the
// queue length is queryable with the right value, every rule evaluates cleanly and the alert fires.

const skip = !serviceAvailable(PROMETHEUS_BIN);
const DEADLINE_MS = 60_000;
const ALERT = 'GafferBacklogWithoutWorkers';

interface Rule {
  alert?: string;
  record?: string;
  for?: string;
}
let g: TestGaffer;
let prom: PrometheusServer;
let dir: string;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(tmpdir(), 'gaffer-prom-rules-'));
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      ok: { worker: { command: ['sh', '-c', 'cat'] }, scaling: { min: 1, max: 1 } },
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
    },
  });
  const address = await g.app.listen({ host: '127.0.0.1', port: 0 });
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/jobs/batch',
    payload: { type: 'held', jobs: [{ payload: 1 }, { payload: 2 }, { payload: 3 }] },
  });
  assert.equal(res.statusCode, 201, res.body);
  await until(g, () => g.orch.gateway.workers('ok').length > 0);

  // The real alert, waiting 1 s instead of 5 min, in a group of its own.
  const { groups } = parse(await readFile(RULES_FILE, 'utf8')) as {
    groups: { rules: Rule[] }[];
  };
  const real = groups.flatMap((gr) => gr.rules).find((r) => r.alert === ALERT)!;
  const testRules = path.join(dir, 'test-rules.yaml');
  await writeFile(
    testRules,
    stringify({ groups: [{ name: 'gaffer.test', rules: [{ ...real, for: '1s' }] }] }),
  );
  prom = await startPrometheus({
    targets: [new URL(address).host],
    ruleFiles: [RULES_FILE, testRules],
  });
});
after(async () => {
  await prom?.stop();
  await g?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Prometheus scrapes gaffer: the target is up', { skip }, async () => {
  await poll(async () => {
    const { activeTargets } = await prom.api<{ activeTargets: { health: string }[] }>('targets');
    return activeTargets.length === 1 && activeTargets[0]!.health === 'up';
  }, DEADLINE_MS);
});

test('a gaffer metric is queryable with the right value', { skip }, async () => {
  await poll(async () => {
    const { result } = await prom.api<{ result: { value: [number, string] }[] }>('query', {
      query: 'job_queue_length{job="gaffer", type="held"}',
    });
    return result.length === 1 && result[0]!.value[1] === '3';
  }, DEADLINE_MS);
});

test('every rule of the rules file evaluates without error on live data', { skip }, async () => {
  const { groups: file } = parse(await readFile(RULES_FILE, 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  };
  const expected = file.flatMap((gr) => gr.rules.map((r) => r.alert ?? r.record));
  await poll(async () => {
    const { groups } = await prom.api<{
      groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
    }>('rules');
    const loaded = groups.filter(
      (gr) => gr.name.startsWith('gaffer.') && gr.name !== 'gaffer.test',
    );
    const rules = loaded.flatMap((gr) => gr.rules);
    const bad = rules.filter((r) => r.health !== 'ok');
    // Thrown, so a deadline miss says which rule failed and why.
    if (bad.length > 0) throw new Error(`not ok yet: ${JSON.stringify(bad)}`);
    return rules.length === expected.length;
  }, DEADLINE_MS);
});

test(
  `${ALERT} fires for the type with a backlog and no worker, not for the other`,
  { skip },
  async () => {
    await poll(async () => {
      const { alerts } = await prom.api<{
        alerts: { labels: Record<string, string>; state: string }[];
      }>('alerts');
      const firing = alerts.filter((a) => a.labels['alertname'] === ALERT && a.state === 'firing');
      return firing.length === 1 && firing[0]!.labels['type'] === 'held';
    }, DEADLINE_MS);
    // The real rule (5 min `for`) holds the same condition: it is pending.
    const { groups } = await prom.api<{
      groups: { name: string; rules: { name: string; state?: string }[] }[];
    }>('rules', { type: 'alert' });
    const realRule = groups
      .find((gr) => gr.name === 'gaffer.alerts')
      ?.rules.find((r) => r.name === ALERT);
    assert.equal(realRule?.state, 'pending');
  },
);
