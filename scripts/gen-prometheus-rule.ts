// Copies the rule groups of deploy/prometheus/gaffer-rules.yaml (the one source of gaffer's alert
// and recording rules) into the PrometheusRule of deploy/kubernetes/monitoring.yaml, keeping that
// file's other documents and comments. test/metrics/rules.test.ts fails when the two differ.
// Run: npx node scripts/gen-prometheus-rule.ts && npx prettier --write deploy/kubernetes/monitoring.yaml
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

const root = path.resolve(import.meta.dirname, '..');
export const RULES_FILE = path.join(root, 'deploy/prometheus/gaffer-rules.yaml');
export const MONITORING_FILE = path.join(root, 'deploy/kubernetes/monitoring.yaml');

/** monitoring.yaml's text with its PrometheusRule's `spec.groups` replaced by the rules file's. */
export function renderMonitoring(monitoring: string, rules: string): string {
  const { groups } = parse(rules) as { groups: unknown };
  const docs = parseAllDocuments(monitoring);
  const rule = docs.find((d) => d.get('kind') === 'PrometheusRule');
  if (!rule) throw new Error(`${MONITORING_FILE} has no PrometheusRule`);
  rule.setIn(['spec', 'groups'], rule.createNode(groups));
  return docs.map((d) => d.toString({ lineWidth: 0 })).join('');
}

if (import.meta.main) {
  const out = renderMonitoring(
    readFileSync(MONITORING_FILE, 'utf8'),
    readFileSync(RULES_FILE, 'utf8'),
  );
  writeFileSync(MONITORING_FILE, out);
  console.log(`wrote ${path.relative(root, MONITORING_FILE)}`);
}
