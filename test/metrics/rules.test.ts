import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { GafferEvents } from '../../src/domain/events.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import {
  MONITORING_FILE,
  RULES_FILE,
  renderMonitoring,
} from '../../scripts/gen-prometheus-rule.ts';
import { REPO } from '../helpers/gaffer.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { PROMTOOL_BIN } from '../helpers/servers/prometheus.ts';
import { stderrLogger } from '../helpers/log.ts';

// The alert and recording rules, their Kubernetes copy, the Grafana dashboard and the runbook,
// checked offline: promtool validates and unit-tests the rules; the dashboard's PromQL is parsed
// by promtool too, and may name only metrics gaffer serves or the rules record.

const run = promisify(execFile);
const skip = !serviceAvailable(PROMTOOL_BIN);
const DASHBOARD = path.join(REPO, 'deploy/grafana/gaffer-dashboard.json');
const RULES_TESTS = path.join(REPO, 'deploy/prometheus/gaffer-rules.test.yaml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: { name: string; rules: Rule[] }[];
}

let rules: RulesFile;
let dir: string;
before(async () => {
  rules = parse(await readFile(RULES_FILE, 'utf8')) as RulesFile;
  dir = await mkdtemp(path.join(tmpdir(), 'gaffer-rules-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const promtool = async (...args: string[]) => {
  try {
    return (await run(PROMTOOL_BIN, args, { cwd: REPO })).stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`, { cause: err });
  }
};

test('promtool check rules accepts the rules file', { skip }, async () => {
  assert.match(await promtool('check', 'rules', RULES_FILE), /SUCCESS/);
});

test(
  'promtool test rules: the key alerts fire on bad series and not on healthy ones',
  { skip },
  async () => {
    assert.match(await promtool('test', 'rules', RULES_TESTS), /SUCCESS/);
    // The unit tests cover the alerts an operator is paged for.
    const tested = (
      parse(await readFile(RULES_TESTS, 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string }[] }[];
      }
    ).tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => a.alertname));
    for (const name of [
      'GafferQueueBacklog',
      'GafferJobFailureRateHigh',
      'GafferWorkerCrashLooping',
      'GafferDeadLettersGrowing',
      'GafferBacklogWithoutWorkers',
      'GafferJobsStuck',
      'GafferDown',
    ]) {
      assert.ok(tested.includes(name), `${name} has a unit test`);
    }
  },
);

test('every alert has a for, a severity, a summary, a description and a runbook entry', async () => {
  const doc = await readFile(path.join(REPO, 'docs/metrics.md'), 'utf8');
  const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);
  assert.ok(alerts.length >= 10);
  for (const a of alerts) {
    assert.ok(a.for, `${a.alert}: for`);
    assert.match(a.labels?.['severity'] ?? '', /^(info|warning|critical)$/, `${a.alert}: severity`);
    assert.ok(a.annotations?.['summary'], `${a.alert}: summary`);
    assert.ok(a.annotations?.['description'], `${a.alert}: description`);
    assert.match(
      doc,
      new RegExp(`^### ${a.alert}$`, 'm'),
      `${a.alert}: runbook in docs/metrics.md`,
    );
  }
});

test("monitoring.yaml's PrometheusRule carries exactly the rules file's groups", async () => {
  const monitoring = await readFile(MONITORING_FILE, 'utf8');
  const rule = parseAllDocuments(monitoring)
    .map((d) => d.toJS() as { kind: string; spec: { groups: unknown } })
    .find((d) => d.kind === 'PrometheusRule');
  assert.deepEqual(
    rule?.spec.groups,
    rules.groups,
    'run: npx node scripts/gen-prometheus-rule.ts && npx prettier --write deploy/kubernetes/monitoring.yaml',
  );
  // The generator is what keeps them equal: its output from the current files changes nothing.
  const regenerated = parseAllDocuments(
    renderMonitoring(monitoring, await readFile(RULES_FILE, 'utf8')),
  );
  assert.deepEqual(
    regenerated.map((d) => d.toJS()),
    parseAllDocuments(monitoring).map((d) => d.toJS()),
  );
});

/** Every PromQL expression of the dashboard, with Grafana's variables given example values. */
async function dashboardExprs(): Promise<string[]> {
  const dash = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
    templating: { list: { name: string; type: string; query: unknown }[] };
    panels: { targets?: { expr: string }[] }[];
  };
  const vars = dash.templating.list.map((v) => v.name).sort();
  assert.deepEqual(vars, ['datasource', 'type']);
  return dash.panels
    .flatMap((p) => p.targets ?? [])
    .map((t) => t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$type', '.*'));
}

test(
  'the dashboard: every PromQL expression parses (promtool, as recording rules)',
  { skip },
  async () => {
    const exprs = await dashboardExprs();
    assert.ok(exprs.length >= 20);
    const file = path.join(dir, 'dashboard-exprs.yaml');
    const group = {
      name: 'dashboard',
      rules: exprs.map((expr, i) => ({ record: `dashboard_expr_${i}`, expr })),
    };
    await writeFile(file, stringify({ groups: [group] }));
    assert.match(
      await promtool('check', 'rules', file),
      new RegExp(`SUCCESS: ${exprs.length} rules`),
    );
  },
);

/**
 * The metric names an expression selects. PromQL has no parser among gaffer's dependencies (and
 * promtool 2.42 has no query command), so this strips what cannot be a metric name — strings,
 * label matchers, ranges, grouping clauses, function calls, keywords, numbers — and keeps the
 * rest; promtool has already parsed each expression, so the text is well-formed.
 */
export function selectedMetrics(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on']);
  const names = [...stripped.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)\s*(\()?/g)]
    .filter((m) => !m[2] && !keywords.has(m[1]!))
    .map((m) => m[1]!);
  return [...new Set(names)];
}

test('selectedMetrics finds the selected names only', () => {
  assert.deepEqual(
    selectedMetrics(
      'histogram_quantile(0.95, sum by (type, le) (rate(a_bucket{type=~"x|y"}[5m]))) / on (type) group_left () b:rec and c offset 5m',
    ),
    ['a_bucket', 'b:rec', 'c'],
  );
});

test('the dashboard names only metrics gaffer serves or its rules record', async () => {
  const { registry } = createMetrics(new GafferEvents(stderrLogger()), {
    queueStats: async () => [],
    workers: () => [],
    now: () => 0,
    throughput: { perMinute: () => 0, types: () => [] },
    localCapacity: { cpu: 1000, memory: 1 },
  });
  const served = new Set(['up']);
  for (const m of await registry.getMetricsAsJSON()) {
    served.add(m.name);
    if (String(m.type) === 'histogram') {
      for (const s of ['_bucket', '_sum', '_count']) served.add(m.name + s);
    }
  }
  for (const g of rules.groups) for (const r of g.rules) if (r.record) served.add(r.record);
  for (const expr of await dashboardExprs()) {
    for (const name of selectedMetrics(expr)) {
      assert.ok(served.has(name), `${name} (in ${expr}) is neither served nor recorded`);
    }
  }
  // And so do the rules themselves.
  for (const g of rules.groups) {
    for (const r of g.rules) {
      for (const name of selectedMetrics(r.expr)) {
        assert.ok(
          served.has(name),
          `${name} (in ${r.alert ?? r.record}) is neither served nor recorded`,
        );
      }
    }
  }
});
