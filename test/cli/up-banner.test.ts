import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { cliPointers } from '../../src/cli/up.ts';
import { REPO } from '../helpers/gaffer.ts';

const MAIN = path.join(REPO, 'src/cli/main.ts');

describe("gaffer up's banner says how to point the CLI at it", () => {
  it('nothing to say at the CLI defaults', () => {
    assert.deepEqual(cliPointers('http://127.0.0.1:8080', null), []);
    assert.deepEqual(cliPointers('http://127.0.0.1:8080', '127.0.0.1:9090'), []);
  });

  it('another port or host: the export line the CLI needs', () => {
    assert.deepEqual(cliPointers('http://127.0.0.1:8081', null), [
      'gaffer up: for the CLI in another shell: export GAFFER_URL=http://127.0.0.1:8081',
    ]);
    assert.deepEqual(cliPointers('http://10.0.0.5:8080', '10.0.0.5:9091'), [
      'gaffer up: for the CLI in another shell: export GAFFER_URL=http://10.0.0.5:8080',
      'gaffer up: for --mode grpc: export GAFFER_GRPC=10.0.0.5:9091',
    ]);
  });

  it('the real gaffer up on a free port prints a line whose export the CLI then works with', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-banner-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(
      process.execPath,
      [MAIN, 'up', '--port', '0', '--data-dir', path.join(dir, 'data')],
      {
        cwd: REPO,
        env: { ...process.env, GAFFER_CONFIG: '', GAFFER_HOST: '', GAFFER_PORT: '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig)));
    let url = '';
    const exported = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        url ||= /gaffer up: (http:\/\/\S+)/.exec(line)?.[1] ?? '';
        const m = /export GAFFER_URL=(\S+)$/.exec(line);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`gaffer up exited (${String(code)})`)));
    });
    try {
      assert.equal(exported, url);
      const { stdout } = await promisify(execFile)(process.execPath, [MAIN, '--json', 'health'], {
        env: { ...process.env, GAFFER_URL: exported },
      });
      assert.ok(stdout.length > 0);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
