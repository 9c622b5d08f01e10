import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as gaffer from 'gaffer';

/**
 * The package's public surface: what `import … from 'gaffer'` gives (values; the types are pinned
 * by test/library/api-types.ts under tsc), that nothing else of the package can be imported, and
 * that the example program, which uses only these exports, runs.
 */

const REPO = path.resolve(import.meta.dirname, '../..');

test('the values gaffer exports, exactly', () => {
  assert.deepEqual(Object.keys(gaffer).sort(), [
    'ConfigError',
    'ERRORS',
    'Gaffer',
    'GafferError',
    'JobFailedError',
    'NonRetryableError',
    'RetryAfter',
    'Snooze',
    'StartError',
    'createGaffer',
    'defineJob',
    'snooze',
  ]);
});

test('internals are not importable: only the exports map entries resolve', async () => {
  for (const internal of [
    'gaffer/src/orchestrator.ts',
    'gaffer/orchestrator',
    'gaffer/package.json',
  ]) {
    await assert.rejects(import(internal), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, internal);
  }
  const client = await import('gaffer/client');
  assert.equal(typeof client.createClient, 'function');
});

test('examples/library.ts runs jobs in-process with only the public exports', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-example-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(REPO, 'examples/library.ts'), dir],
    { cwd: REPO, timeout: 60_000 },
  );
  for (const width of [100, 200, 400]) {
    assert.match(stdout, new RegExp(`resized to ${width} px: ${width * 120} bytes`));
  }
  assert.match(stdout, /ended dead_lettered after 1 attempt: not an https URL/);
  assert.match(stdout, /log of \S+: resizing https:\/\/example\.com\/cat\.png to 100 px/);
  assert.equal(stdout.match(/^event: resize \S+ succeeded$/gm)?.length, 3);
});
