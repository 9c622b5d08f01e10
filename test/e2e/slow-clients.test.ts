import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { createKey } from '../../src/api/auth/keys.ts';
import { createGaffer } from '../../src/library/gaffer.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Slow and greedy clients over real sockets: a body or headers trickled byte by byte are cut with
 * 408 GAFFER_REQUEST_TIMEOUT, a body sent after a refusal is cut with the refusal, an upload may
 * take longer as long as bytes keep coming, idle keep-alive connections are closed, and
 * connections past server.maxConnections are closed at once. Each test awaits the socket's close.
 */

const key = createKey('slow-op');
const LIMITS = {
  headersTimeoutMs: 400,
  requestTimeoutMs: 400,
  uploadIdleTimeoutMs: 1000,
  keepAliveTimeoutMs: 400,
};

interface Exchange {
  /** Everything the server sent before it closed the connection. */
  received: string;
  /** Bytes the client had sent when the connection closed. */
  sent: number;
}

/**
 * Sends `head` at once, then `trickle` one byte every 20 ms (from the start, `head` empty, for
 * trickled headers), and resolves when the server closes the connection.
 */
function exchange(port: number, head: string, trickle: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, sent });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent >= trickle.length) {
          clearInterval(timer);
          return;
        }
        socket.write(trickle[sent++]!);
      }, 20);
    });
    setTimeout(() => reject(new Error('the server never closed the connection')), 60_000).unref();
  });
}

const post = (path: string, length: number, type = 'application/json', extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${extra}\r\n`;

describe('slow clients', () => {
  let g: TestGaffer;
  let port: number;
  before(async () => {
    g = await startGaffer(
      {
        jobTypes: { alpha: { worker: { command: ['true'] }, scaling: { max: 0 } } },
        server: LIMITS,
        auth: { keys: [{ id: 'slow-op', hash: key.hash, role: 'operator' }] },
      },
      undefined,
      { port: 0 },
    );
    port = Number(new URL(g.url!).port);
  });
  after(() => g.close());

  test('a login body trickled byte by byte is cut with 408 GAFFER_REQUEST_TIMEOUT', async () => {
    const body = JSON.stringify({ key: 'gaffer_x_' + 'y'.repeat(150) });
    const { received, sent } = await exchange(port, post('/v1/session', body.length), body);
    assert.ok(sent < body.length, 'the whole body was sent');
    assert.match(received, /^HTTP\/1\.1 408 /);
    assert.match(received, /GAFFER_REQUEST_TIMEOUT/);
  });

  test('a body trickled to a route that refuses it (401) is cut with the 401', async () => {
    const body = JSON.stringify({ type: 'alpha', payload: { pad: 'z'.repeat(200) } });
    const { received, sent } = await exchange(port, post('/v1/jobs', body.length), body);
    assert.ok(sent < body.length, 'the whole body was sent');
    assert.match(received, /^HTTP\/1\.1 401 /);
    assert.match(received, /connection: close/i);
    assert.equal(received.match(/HTTP\/1\.1/g)?.length, 1);
  });

  test('headers trickled byte by byte are cut with 408', async () => {
    const head =
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ' + 'p'.repeat(200) + '\r\n\r\n';
    const { received, sent } = await exchange(port, '', head);
    assert.ok(sent < head.length, 'the whole head was sent');
    assert.match(received, /^HTTP\/1\.1 408 /);
    assert.match(received, /GAFFER_REQUEST_TIMEOUT/);
  });

  test('an upload may take longer than requestTimeoutMs while bytes keep coming, and is cut once they stop', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `{"type":"alpha","payload":{"n":${i}}}\n`);
    const body = lines.join('');
    const head = post(
      '/v1/batches',
      body.length,
      'application/x-ndjson',
      `Authorization: Bearer ${key.key}\r\n`,
    );
    // 20 ms a byte: the body takes far longer than requestTimeoutMs, but is never idle.
    const whole = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let received = '';
      let sent = 0;
      socket.on('data', (d) => {
        received += d.toString();
        if (received.includes('"batch"')) socket.end();
      });
      socket.on('close', () => resolve(received));
      socket.on('connect', () => {
        socket.write(head);
        const timer = setInterval(() => {
          if (sent >= body.length) return clearInterval(timer);
          socket.write(body.slice(sent, (sent += 8)));
        }, 20);
      });
    });
    assert.match(whole, /^HTTP\/1\.1 201 /);
    // The same upload stopping half way is cut.
    const half = body.slice(0, body.length / 2);
    const cut = await exchange(port, head + half, '');
    assert.match(cut.received, /^HTTP\/1\.1 408 /);
  });

  test('a client that closes its connection mid-body is logged at info, not as an internal error', async () => {
    const lines: { level: number; msg: string }[] = [];
    let seen: () => void;
    const gone = new Promise<void>((resolve) => (seen = resolve));
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const entry = JSON.parse(line) as { level: number; msg: string };
          lines.push(entry);
          if (/went before its request arrived|internal error/.test(entry.msg)) seen();
        }
        done();
      },
    });
    const logged = await buildApp(g.orch, { logger: true, logStream });
    const url = await logged.listen({ host: '127.0.0.1', port: 0 });
    try {
      const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
      socket.on('error', () => {});
      socket.write(post('/v1/session', 100) + '{"key":');
      // Closed once the request reached its handler's body parsing.
      await new Promise<void>((resolve) => {
        const check = () =>
          lines.some((l) => l.msg === 'incoming request') ? resolve() : setImmediate(check);
        check();
      });
      socket.destroy();
      await gone;
      assert.deepEqual(
        lines.filter((l) => l.level >= 50),
        [],
      );
    } finally {
      await logged.close();
    }
  });

  test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const { received } = await exchange(
      port,
      'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      '',
    );
    assert.match(received, /^HTTP\/1\.1 200 /);
  });
});

describe('connection cap', () => {
  let g: TestGaffer;
  let port: number;
  before(async () => {
    g = await startGaffer(
      {
        jobTypes: { alpha: { worker: { command: ['true'] }, scaling: { max: 0 } } },
        server: { maxConnections: 2 },
      },
      undefined,
      { port: 0 },
    );
    port = Number(new URL(g.url!).port);
  });
  after(() => g.close());

  const open = () =>
    new Promise<net.Socket>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', () => {});
    });
  const connections = () =>
    new Promise<number>((resolve, reject) =>
      g.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );

  test('past server.maxConnections a new connection is closed at once; once one ends, another is served', async () => {
    const held = [await open(), await open()];
    while ((await connections()) < 2) await new Promise((r) => setImmediate(r));
    const refused = await exchange(port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '');
    assert.equal(refused.received, '');
    const closed = new Promise((r) => held[0]!.once('close', r));
    held[0]!.destroy();
    await closed;
    while ((await connections()) > 1) await new Promise((r) => setImmediate(r));
    const served = await fetch(`${g.url}/healthz`);
    assert.equal(served.status, 200);
    held[1]!.destroy();
  });
});

describe('slow clients, as `gaffer up` serves (ports bound before the store)', () => {
  test('the same bounds hold on the server the ports were bound with: headers and bodies are cut', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-slow-'));
    const gaffer = await createGaffer({
      config: { store: { dataDir }, server: LIMITS },
      listen: { port: 0 },
    });
    try {
      const port = Number(new URL(gaffer.url!).port);
      const head =
        'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ' + 'p'.repeat(200) + '\r\n\r\n';
      const headers = await exchange(port, '', head);
      assert.ok(headers.sent < head.length, 'the whole head was sent');
      assert.match(headers.received, /^HTTP\/1\.1 408 /);
      const body = JSON.stringify({ key: 'gaffer_x_' + 'y'.repeat(150) });
      const login = await exchange(port, post('/v1/session', body.length), body);
      assert.ok(login.sent < body.length, 'the whole body was sent');
      assert.match(login.received, /^HTTP\/1\.1 408 /);
    } finally {
      await gaffer.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
