// Writes gaffer's config file schema (scripts/gen-config-schema.ts, from src/config/schema.ts) into
// the Helm chart's values.schema.json as the schema of the `config` value, so a misspelt or
// mistyped setting fails `helm install` / `helm template` as gaffer itself would refuse it at
// start. The chart's other values keep their hand-written schema. test/deploy/helm.test.ts fails
// when the two differ.
// Run: npx node scripts/gen-chart-schema.ts && npx prettier --write deploy/helm/gaffer/values.schema.json
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configFileSchema } from './gen-config-schema.ts';

const root = path.resolve(import.meta.dirname, '..');
export const VALUES_SCHEMA = path.join(root, 'deploy/helm/gaffer/values.schema.json');

/** The config file's schema, as the chart's `config` value (a sub-schema: no $schema, no title). */
export function chartConfigSchema(): Record<string, unknown> {
  const { $schema: _schema, title: _title, ...schema } = configFileSchema();
  return {
    ...schema,
    description:
      "gaffer's configuration (docs/config.md), in gaffer's own shape (not a bare type " +
      'map), checked against src/config/schema.ts (scripts/gen-chart-schema.ts); ' +
      'gaffer checks the cross-field rules at start.',
  };
}

/** values.schema.json's text with its `config` schema replaced by `chartConfigSchema()`. */
export function renderValuesSchema(text: string): string {
  const schema = JSON.parse(text) as { properties: Record<string, unknown> };
  schema.properties['config'] = chartConfigSchema();
  return `${JSON.stringify(schema, null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(VALUES_SCHEMA, renderValuesSchema(readFileSync(VALUES_SCHEMA, 'utf8')));
  console.log(`wrote ${path.relative(root, VALUES_SCHEMA)}`);
}
