import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createKey } from '../../src/api/auth/keys.ts';
import { createClient, GafferApiError } from '../../src/client/index.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The API key, the session and exit code 4, against a gaffer with auth on. */
describe('API keys through the client and the CLI', () => {
  let g: TestGaffer;
  let url: string;
  const viewer = createKey('ci-viewer');
  const operator = createKey('ci-operator');

  before(async () => {
    g = await startGaffer({
      jobTypes: { held: { worker: { command: ['true'] }, scaling: { max: 0 } } },
      auth: {
        keys: [
          { id: 'ci-viewer', hash: viewer.hash, role: 'viewer' },
          { id: 'ci-operator', hash: operator.hash, role: 'operator' },
        ],
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => g.close());

  const cases: [string, string[], Record<string, string>, number, string | null][] = [
    ['no key: 401, exit 4', ['queues'], {}, 4, 'GAFFER_UNAUTHORIZED'],
    [
      'a wrong key: 401, exit 4',
      ['queues', '--api-key', 'gaffer_x_nope'],
      {},
      4,
      'GAFFER_UNAUTHORIZED',
    ],
    [
      'a viewer cancelling: 403, exit 4',
      ['cancel', 'j-1'],
      { GAFFER_API_KEY: viewer.key },
      4,
      'GAFFER_FORBIDDEN',
    ],
    ['a viewer reading: exit 0', ['queues'], { GAFFER_API_KEY: viewer.key }, 0, null],
    [
      '--api-key over the environment',
      ['submit', 'held', '--api-key', operator.key],
      { GAFFER_API_KEY: viewer.key },
      0,
      null,
    ],
  ];
  for (const [name, args, env, code, errorCode] of cases) {
    it(name, async () => {
      const r = await cli(['--json', ...args, '--url', url], env);
      assert.equal(r.code, code, r.stderr);
      if (errorCode) assert.equal(JSON.parse(r.stderr).error.code, errorCode);
    });
  }

  it('whoami names the key, never prints it', async () => {
    const r = await cli(['whoami', '--url', url], { GAFFER_API_KEY: operator.key });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ci-operator {2}operator {2}every type$/m);
    assert.ok(!r.stdout.includes(operator.key) && !r.stderr.includes(operator.key));
  });

  it('audit lists the operator actions', async () => {
    const r = await cli(['--json', 'audit', '--actor', 'ci-viewer', '--url', url], {
      GAFFER_API_KEY: operator.key,
    });
    assert.equal(r.code, 0, r.stderr);
    const page = JSON.parse(r.stdout) as { entries: { action: string; outcome: string }[] };
    assert.ok(
      page.entries.some((e) => e.outcome === 'refused'),
      'the viewer’s refused cancel',
    );
  });

  it('a client without a key rides on the session login opened', async () => {
    const client = createClient({ url });
    const refused = await client.queues().catch((e: unknown) => e);
    assert.ok(refused instanceof GafferApiError);
    assert.equal(refused.status, 401);
    const session = await client.session.login(viewer.key);
    assert.deepEqual(session.principal, { id: 'ci-viewer', role: 'viewer', types: null });
    assert.equal((await client.session.whoami()).principal.id, 'ci-viewer');
    assert.ok(Array.isArray(await client.queues()));
    await client.session.logout();
    const after = await client.queues().catch((e: unknown) => e);
    assert.ok(after instanceof GafferApiError);
    assert.equal(after.code, 'GAFFER_UNAUTHORIZED');
  });
});
