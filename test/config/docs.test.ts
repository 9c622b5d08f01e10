import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CONFIG_DOC_COMMAND,
  CONFIG_DOC_FILE,
  configDocText,
} from '../../scripts/gen-config-docs.ts';
import { API_KEYS_ENV, CONFIG_ENV } from '../../src/config/env.ts';
import { resolveConfig } from '../../src/config/load.ts';

test('docs/config.md is generated from the config schema and the environment overrides', () => {
  assert.equal(
    readFileSync(CONFIG_DOC_FILE, 'utf8'),
    configDocText(),
    `run: ${CONFIG_DOC_COMMAND}`,
  );
});

test('docs/config.md documents every field of a job type and every override', () => {
  const doc = configDocText();
  for (const path of ['server.port', 'jobTypes.<name>.scaling.threshold', 'adhoc.retry']) {
    assert.ok(doc.includes(`| \`${path}\` |`), path);
  }
  for (const { name } of [...CONFIG_ENV, API_KEYS_ENV]) assert.ok(doc.includes(`| \`${name}\` |`));
});

test('the loader applies each documented variable to the field the doc names', async () => {
  const samples: Record<string, string> = {
    GAFFER_PORT: '9100',
    GAFFER_GRPC_PORT: '9101',
    GAFFER_HOST: '10.0.0.1',
    GAFFER_DATA_DIR: 'from-env',
    GAFFER_SYNCHRONOUS: 'normal',
    GAFFER_WORKER_TOKEN: 'a-token-of-16-chars-or-more',
    GAFFER_STORE_URL: 'postgres://gaffer@db:5432/gaffer',
    GAFFER_BROKER_URL: 'amqp://gaffer@mq:5672',
  };
  for (const { name, path, parse } of CONFIG_ENV) {
    const text = samples[name];
    assert.ok(text, `a sample value for ${name}`);
    const config = (await resolveConfig({ env: { [name]: text } })) as unknown as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(config[path[0]]![path[1]], parse ? parse(text) : text, name);
  }
});
