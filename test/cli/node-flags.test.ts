import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NODE_FLAGS } from '../../src/cli/node-flags.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(REPO, file), 'utf8');

/** Every place that starts gaffer's node gives it NODE_FLAGS (src/cli/node-flags.ts says why). */
test('every launcher of gaffer gives node the same flags', () => {
  const flags = NODE_FLAGS.join(' ');
  const bin = read('bin/gaffer.mjs');
  assert.equal(bin.split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  assert.ok(
    bin.includes(`const NODE_FLAGS = ${JSON.stringify([...NODE_FLAGS]).replaceAll('"', "'")};`),
  );
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'gaffer']) {
    assert.match(scripts[name]!, new RegExp(`^node ${flags} src/cli/main\\.ts`), name);
  }
  for (const file of ['deploy/Dockerfile', 'deploy/worker.Dockerfile']) {
    // The images run the packed package's `gaffer` bin, linked into /usr/local/bin.
    const entry = ['node', ...NODE_FLAGS, '/usr/local/bin/gaffer'];
    assert.ok(
      read(file).includes(`ENTRYPOINT ${JSON.stringify(entry).replaceAll(',', ', ')}`),
      file,
    );
  }
});
