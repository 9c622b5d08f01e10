import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createKey } from '../../src/api/auth/keys.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

// With no API key, gaffer on loopback trusts whoever reaches it: programs of this machine. A web
// page can reach it too, by DNS rebinding: its own name, resolved again to 127.0.0.1, makes the
// browser send the page's requests to gaffer as same-origin ones (Origin and Host both the page's
// name), past the cross-origin check. So a request that reached a loopback address must name a
// loopback host (localhost, 127.0.0.0/8, ::1) or one of server.allowedOrigins' hosts.

const ADHOC = { adhoc: { enabled: true, allowedImages: ['busybox'] } };
let open: TestGaffer;
let keyed: TestGaffer;
const { key, hash } = createKey('ops');
before(async () => {
  open = await startGaffer(
    { ...ADHOC, server: { allowedOrigins: ['https://gaffer.example.com'] } },
    undefined,
    { port: 0 },
  );
  keyed = await startGaffer(
    { ...ADHOC, auth: { keys: [{ id: 'ops', hash, role: 'operator' }] } },
    undefined,
    { port: 0 },
  );
});
after(async () => {
  await open?.close();
  await keyed?.close();
});

/** A raw request to 127.0.0.1 naming `host` (fetch may not set Host). */
function request(
  g: TestGaffer,
  method: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; json: { error?: { code: string; message: string } } }> {
  const url = new URL(g.url!);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: url.port,
        method,
        path,
        headers: {
          host,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('a request on loopback that names another host (DNS rebinding)', () => {
  it('is refused, reads and writes alike, before anything runs', async () => {
    const port = new URL(open.url!).port;
    const rebound = `attacker.example:${port}`;
    const run = await request(
      open,
      'POST',
      '/v1/run',
      rebound,
      { origin: `http://${rebound}` },
      {
        cmd: 'true',
      },
    );
    assert.equal(run.status, 403, JSON.stringify(run.json));
    assert.equal(run.json.error?.code, 'GAFFER_FOREIGN_HOST');
    assert.match(run.json.error?.message ?? '', /attacker\.example/);
    const read = await request(open, 'GET', '/v1/jobs', rebound);
    assert.equal(read.json.error?.code, 'GAFFER_FOREIGN_HOST');
    const { jobs } = (await open.app.inject({ url: '/v1/jobs' })).json();
    assert.deepEqual(jobs, [], 'nothing was submitted');
  });

  it('loopback names and the allowed origins pass', async () => {
    const port = new URL(open.url!).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `127.1.2.3:${port}`,
      `[::1]:${port}`,
      'gaffer.example.com',
    ]) {
      const res = await request(open, 'GET', '/v1/jobs', host);
      assert.equal(res.status, 200, `${host}: ${JSON.stringify(res.json)}`);
    }
  });

  it('with an API key configured, the key is the guard: the host is not checked', async () => {
    const port = new URL(keyed.url!).port;
    const rebound = `attacker.example:${port}`;
    const anonymous = await request(keyed, 'GET', '/v1/jobs', rebound);
    assert.equal(anonymous.status, 401);
    const withKey = await request(keyed, 'GET', '/v1/jobs', rebound, {
      authorization: `Bearer ${key}`,
    });
    assert.equal(withKey.status, 200);
  });
});
