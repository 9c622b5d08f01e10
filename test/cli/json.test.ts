import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createClient, type GafferClient } from '../../src/client/index.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

async function cli(args: string[]) {
  try {
    const run = promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' },
    });
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * Every API command with --json, against a real gaffer: exit 0 and one JSON document on stdout
 * (NDJSON, a document per line, for `events`).
 */
describe('--json on every API command', () => {
  let g: TestGaffer;
  let url: string;
  let client: GafferClient;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-json-'));
  const ids: Record<string, string> = {};

  before(async () => {
    g = await startGaffer({
      jobTypes: {
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
        ok: {
          worker: { command: ['sh', '-c', 'echo hi >&2; echo {}'] },
          scaling: { max: 1, threshold: 0 },
        },
        doomed: {
          worker: { command: ['false'] },
          retry: { maxAttempts: 1, backoffMs: 0 },
          scaling: { max: 1, threshold: 0 },
        },
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    client = createClient({ url });
    ids['held'] = (await client.jobs.submit({ type: 'held' })).job.id;
    ids['ok'] = (await client.jobs.submit({ type: 'ok' })).job.id;
    ids['dead'] = (await client.jobs.submit({ type: 'doomed' })).job.id;
    ids['batch'] = (await client.jobs.submitBatch({ type: 'doomed', jobs: [{}] })).batchId;
    for (const id of [ids['ok']!, ids['dead']!, ids['batch']!]) await client.waitFor(id);
    writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify([{ type: 'held' }]));
    writeFileSync(path.join(dir, 'jobs.ndjson'), '{"type": "held"}\n\n{"type": "held"}\n');
    writeFileSync(path.join(dir, 'rows.csv'), 'id\n1\n2\n');
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const f = (name: string) => path.join(dir, name);
  const cases: [string, () => string[]][] = [
    ['submit', () => ['submit', 'held']],
    ['submit-batch', () => ['submit-batch', f('jobs.json')]],
    ['submit-batch (NDJSON)', () => ['submit-batch', f('jobs.ndjson')]],
    ['upload', () => ['upload', f('rows.csv'), '-t', 'held', '--no-progress']],
    ['jobs', () => ['jobs', '--type', 'held']],
    ['job', () => ['job', ids['ok']!]],
    ['logs', () => ['logs', ids['ok']!]],
    ['wait', () => ['wait', ids['ok']!]],
    ['cancel', () => ['cancel', ids['held']!]],
    ['retry', () => ['retry', ids['held']!]],
    ['dlq list', () => ['dlq', 'list']],
    ['dlq show', () => ['dlq', 'show', ids['dead']!]],
    ['dlq edit', () => ['dlq', 'edit', ids['dead']!, '--max-attempts', '2']],
    ['dlq replay', () => ['dlq', 'replay', ids['dead']!]],
    ['batch', () => ['batch', ids['batch']!]],
    ['batch rejected', () => ['batch', 'rejected', ids['batch']!]],
    ['batch retry-failed', () => ['batch', 'retry-failed', ids['batch']!]],
    ['batches', () => ['batches']],
    ['queues', () => ['queues']],
    ['workers', () => ['workers']],
    ['workers events', () => ['workers', 'events']],
    ['decisions', () => ['decisions']],
    ['desired', () => ['desired']],
    ['top --once', () => ['top', '--once']],
    ['events', () => ['events', '--limit', '1']],
    ['stats', () => ['stats']],
    ['config', () => ['config']],
    ['health', () => ['health']],
    ['metrics', () => ['metrics']],
    ['openapi', () => ['openapi']],
    ['login', () => ['login', 'gaffer_k_x']],
    ['whoami', () => ['whoami']],
    ['logout', () => ['logout']],
    ['audit', () => ['audit']],
    ['trace', () => ['trace', '-o', f('trace.json')]],
    ['gen-data', () => ['gen-data', '-n', '3', '-o', f('gen.csv')]],
    ['completion', () => ['completion', 'bash']],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      const r = await cli(['--json', ...args(), '--url', url]);
      assert.equal(r.code, 0, r.stderr);
      const docs = r.stdout.trimEnd().split('\n');
      if (name !== 'events') assert.equal(docs.length, 1, `one document on one line: ${r.stdout}`);
      for (const doc of docs) assert.equal(typeof JSON.parse(doc), 'object');
    });
  }
});
