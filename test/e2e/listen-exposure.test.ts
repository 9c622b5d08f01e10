import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { isLoopbackHost } from '../../src/api/auth/exposure.ts';
import { createKey } from '../../src/api/auth/keys.ts';
import { ConfigError, createGaffer } from '../../src/index.ts';
import { REPO } from '../helpers/gaffer.ts';

// With no API key every caller is the operator of every type: gaffer listens only on loopback
// then, unless told explicitly (`--allow-unauthenticated`, `server.allowUnauthenticated`,
// `listen({ allowUnauthenticated: true })`). The real `gaffer up`, spawned; and the library.

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-listen-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const { key: KEY, hash: HASH } = createKey('ops');

interface Up {
  /** 'listening' once it announced its address (then stopped with SIGTERM), else its exit code. */
  outcome: 'listening' | number | string | null;
  url: string | null;
  stdout: string;
  stderr: string;
  dataDir: string;
}

/** Runs `gaffer up ARGS` until it announces its address (then stops it) or exits by itself. */
async function up(
  args: string[],
  env: Record<string, string> = {},
  probe: (url: string) => Promise<void> = async () => {},
): Promise<Up> {
  const dataDir = path.join(tmp, `data-${++dirs}`);
  const child = spawn(
    process.execPath,
    ['src/cli/main.ts', 'up', '--port', '0', '--data-dir', dataDir, ...args],
    {
      cwd: REPO,
      env: { ...process.env, GAFFER_HOST: '', GAFFER_API_KEYS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  const announced = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      const m = /gaffer up: (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
  });
  const first = await Promise.race([announced, exited.then((code) => ({ code }))]);
  if (typeof first === 'string') {
    const status = await fetch(`${first}/healthz`).then((r) => r.status);
    assert.equal(status, 200);
    await probe(first).finally(() => child.kill('SIGTERM'));
    assert.equal(await exited, 0, 'stops cleanly');
    return { outcome: 'listening', url: first, stdout, stderr, dataDir };
  }
  return { outcome: first.code, url: null, stdout, stderr, dataDir };
}

function config(lines: string[]): string {
  const file = path.join(tmp, `config-${++dirs}.yaml`);
  writeFileSync(file, lines.join('\n'));
  return file;
}

const KEYS = `[{"id":"ops","hash":"${HASH}","role":"operator"}]`;

describe('loopback, as gaffer counts it', () => {
  it('127.0.0.0/8, ::1 in any spelling and localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
      assert.ok(isLoopbackHost(h), h);
    }
    for (const h of ['0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '::', '', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1']) {
      assert.ok(!isLoopbackHost(h), h);
    }
    // A name could resolve anywhere: only `localhost` itself counts.
    for (const h of ['example.com', 'localhost.example.com', '127.0.0.1.nip.io']) {
      assert.ok(!isLoopbackHost(h), h);
    }
  });
});

describe('gaffer up on a non-loopback address', () => {
  it('with no API key, refuses to start, says how to proceed, and starts nothing', async () => {
    for (const [args, env] of [
      [['--host', '0.0.0.0'], {}],
      [['--host', '::'], {}],
      [[], { GAFFER_HOST: '0.0.0.0' }],
      [['--config', config(['server: { host: 0.0.0.0 }'])], {}],
    ] as [string[], Record<string, string>][]) {
      const r = await up(args, env);
      assert.equal(r.outcome, 1, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stdout}`);
      assert.match(r.stderr, /refuses to listen on (0\.0\.0\.0|::)/);
      assert.match(r.stderr, /no API key/);
      assert.match(r.stderr, /gaffer keys create/);
      assert.match(r.stderr, /auth\.keys/);
      assert.match(r.stderr, /--allow-unauthenticated/);
      assert.match(r.stderr, /server\.allowUnauthenticated: true/);
      assert.equal(r.stdout, '', 'nothing announced');
      assert.ok(!existsSync(r.dataDir), 'no store opened');
    }
  });

  it('starts when the operator says so explicitly, and warns', async () => {
    const flag = await up(['--host', '0.0.0.0', '--allow-unauthenticated']);
    assert.equal(flag.outcome, 'listening', flag.stderr);
    assert.match(flag.stderr, /WARNING: no API key configured and listening on 0\.0\.0\.0/);
    const file = config(['server: { host: 0.0.0.0, allowUnauthenticated: true }']);
    const fromConfig = await up(['--config', file]);
    assert.equal(fromConfig.outcome, 'listening', fromConfig.stderr);
  });

  it('starts with an API key configured (file or GAFFER_API_KEYS), and asks callers for one', async () => {
    const file = config([
      'server: { host: 0.0.0.0 }',
      'auth:',
      '  keys:',
      `    - { id: ops, hash: '${HASH}', role: operator }`,
    ]);
    for (const [args, env] of [
      [['--config', file], {}],
      [['--host', '0.0.0.0'], { GAFFER_API_KEYS: KEYS }],
    ] as [string[], Record<string, string>][]) {
      const r = await up(args, env, async (url) => {
        assert.equal((await fetch(`${url}/v1/jobs`)).status, 401);
      });
      assert.equal(r.outcome, 'listening', r.stderr);
      assert.doesNotMatch(r.stderr, /WARNING/);
    }
  });

  it('on loopback needs neither', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const r = await up(['--host', host]);
      assert.equal(r.outcome, 'listening', `${host}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /WARNING/);
    }
  });
});

describe("the library's listen agrees with gaffer up", () => {
  it('refuses a non-loopback host with no key (a ConfigError), unless allowUnauthenticated', async () => {
    const gaffer = await createGaffer({ config: { store: { dataDir: path.join(tmp, 'lib') } } });
    try {
      await assert.rejects(gaffer.listen({ host: '0.0.0.0', port: 0 }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /refuses to listen on 0\.0\.0\.0/);
        assert.match(err.message, /listen\(\{ allowUnauthenticated: true \}\)/);
        assert.deepEqual(
          err.problems.map((p) => p.path),
          ['/server/host'],
        );
        return true;
      });
      assert.equal(gaffer.url, null, 'listening nowhere');
      const url = await gaffer.listen({ host: '0.0.0.0', port: 0, allowUnauthenticated: true });
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    } finally {
      await gaffer.close();
    }
  });

  it('with ad-hoc commands on and no key, refuses every non-loopback host, allowUnauthenticated or not', async () => {
    const gaffer = await createGaffer({
      config: { store: { dataDir: path.join(tmp, 'lib-adhoc') }, adhoc: { enabled: true } },
    });
    try {
      for (const allowUnauthenticated of [false, true]) {
        await assert.rejects(
          gaffer.listen({ host: '0.0.0.0', port: 0, allowUnauthenticated }),
          (err: unknown) => {
            assert.ok(err instanceof ConfigError);
            assert.match(err.message, /ad-hoc commands are on/);
            assert.match(err.message, /adhoc\.enabled: false/);
            return true;
          },
        );
      }
      assert.equal(gaffer.url, null, 'listening nowhere');
      const url = await gaffer.listen({ host: '127.0.0.1', port: 0 });
      assert.equal((await fetch(`${url}/healthz`)).status, 200, 'loopback is fine');
    } finally {
      await gaffer.close();
    }
  });

  it('listens on a non-loopback host when a key is configured; anonymous callers get 401', async () => {
    const gaffer = await createGaffer({
      config: { store: { dataDir: path.join(tmp, 'lib-keys') } },
      env: { GAFFER_API_KEYS: KEYS },
    });
    try {
      const url = await gaffer.listen({ host: '0.0.0.0', port: 0 });
      assert.equal((await fetch(`${url}/v1/jobs`)).status, 401);
      const ok = await fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(ok.status, 200);
    } finally {
      await gaffer.close();
    }
  });
});
