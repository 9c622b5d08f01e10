import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { CONFIG_SCHEMA_FILE, configSchemaText } from '../../scripts/gen-config-schema.ts';
import { REPO } from './project.ts';

/** The config's JSON Schema the package ships (schema/), generated from src/config/schema.ts. */

test('schema/gaffer.config.schema.json is generated from the config schema', () => {
  assert.equal(
    readFileSync(CONFIG_SCHEMA_FILE, 'utf8'),
    configSchemaText(),
    'run: npx node scripts/gen-config-schema.ts',
  );
});

test('it accepts the example config and an empty file, and names a misspelt field', () => {
  const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as object;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const example = YAML.parse(readFileSync(path.join(REPO, 'examples/gaffer.config.yaml'), 'utf8'));
  assert.ok(validate(example), JSON.stringify(validate.errors));
  assert.ok(validate({}), JSON.stringify(validate.errors));
  assert.equal(validate({ server: { prot: 8080 } }), false);
  assert.deepEqual(
    validate.errors?.map((e) => [e.instancePath, e.params]),
    [['/server', { additionalProperty: 'prot' }]],
  );
});
