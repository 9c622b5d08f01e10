// Writes schema/gaffer.config.schema.json, the JSON Schema of a gaffer config file (YAML or JSON),
// from the TypeBox schema in src/config/schema.ts: `node scripts/gen-config-schema.ts`.
// test/package/config-schema.test.ts checks the file matches.
import { writeFileSync } from 'node:fs';
import { ConfigSchema } from '../src/config/schema.ts';
import { packageFile } from '../src/paths.ts';

export const CONFIG_SCHEMA_FILE = packageFile('schema', 'gaffer.config.schema.json');

/**
 * The schema a config file is checked against. ConfigSchema describes the config once defaults
 * are filled in, so a field with a default is required there; in a file it may be left out.
 */
export function configFileSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'gaffer configuration',
    description:
      'A gaffer.config.yaml (or .json), `gaffer up --config FILE`: fields with a default may be ' +
      "left out; GAFFER_* variables and up's flags override the file. Each field is described here " +
      "and in gaffer's docs/config.md. (gaffer also reads a bare type map, a jobs.config.json of " +
      'type name → {queue, image, threshold, …}, which this schema does not describe.)',
    ...(optionalDefaults(JSON.parse(JSON.stringify(ConfigSchema))) as object),
  };
}

function optionalDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(optionalDefaults);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = optionalDefaults(value);
  const props = out['properties'] as Record<string, { default?: unknown }> | undefined;
  if (Array.isArray(out['required']) && props) {
    const required = (out['required'] as string[]).filter((k) => props[k]?.default === undefined);
    if (required.length > 0) out['required'] = required;
    else delete out['required'];
  }
  return out;
}

export function configSchemaText(): string {
  return `${JSON.stringify(configFileSchema(), null, 2)}\n`;
}

if (import.meta.main) writeFileSync(CONFIG_SCHEMA_FILE, configSchemaText());
