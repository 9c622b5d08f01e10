import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { ROUTES } from '../../src/client/index.ts';
import { REPO, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const CLIENT = path.join(REPO, 'src/client/index.ts');

/**
 * Every route the real app registers has a client method that calls it. The routes are collected
 * with an onRoute hook, added through Fastify's `fastify.initialization` diagnostics channel (it
 * fires as each instance is created, before any plugin registers a route), so this list is the
 * app's own and a new route fails here until the client covers it.
 */
const routes: RouteOptions[] = [];
const onInit = (message: unknown) => {
  (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (r) => void routes.push(r));
};

/** Not API capabilities: the dashboard's files, the workers' socket, the seeds' old paths. */
function excluded(r: RouteOptions): string | null {
  const tags = (r.schema as { tags?: string[] } | undefined)?.tags ?? [];
  if (tags.includes('seed aliases')) return 'seed alias';
  if (r.url === '/v1/workers/connect') return 'worker socket';
  // Static files (the dashboard and its vendored scripts) are public and carry no API schema.
  const access = (r.config as { access?: string } | undefined)?.access;
  if (access === 'public' && tags.length === 0 && r.url !== '/openapi.json') return 'public asset';
  return null;
}

describe('every API route has a client method', () => {
  let g: TestGaffer;
  const api = new Map<string, string>();

  before(async () => {
    diagnostics.subscribe('fastify.initialization', onInit);
    try {
      g = await startGaffer({ jobTypes: { x: { worker: { command: ['true'] } } } });
    } finally {
      diagnostics.unsubscribe('fastify.initialization', onInit);
    }
    for (const r of routes) {
      for (const method of [r.method].flat()) {
        // Fastify adds a HEAD route for every GET: the same capability.
        if (method === 'HEAD' || excluded(r)) continue;
        api.set(`${method} ${r.url}`, `${method} ${r.url}`);
      }
    }
  });
  after(() => g.close());

  it('collected the app’s routes', () => {
    assert.ok(api.size > 20, [...api.keys()].join('\n'));
  });

  const byRoute = new Map(Object.entries(ROUTES).map(([name, route]) => [route, name]));
  it('maps each route to the method that calls it', () => {
    const rows = [...api.keys()].sort().map((route) => [route, byRoute.get(route as never)]);
    const missing = rows.filter(([, method]) => !method).map(([route]) => route);
    assert.deepEqual(missing, [], `routes no client method calls:\n${missing.join('\n')}`);
  });

  for (const [name, route] of Object.entries(ROUTES)) {
    it(`${name} → ${route} is served by the app`, () => {
      assert.ok(api.has(route), `${name} calls ${route}, which the app does not serve`);
    });
  }
});

describe('the client loads no server code', () => {
  it('imports only src/client and Node built-ins (the server types are type-only)', async () => {
    // A fresh process records every module it resolves while importing the client.
    const probe = [
      "import { registerHooks } from 'node:module';",
      'const seen = [];',
      'registerHooks({ resolve: (s, c, next) => { const r = next(s, c); seen.push(r.url); return r; } });',
      `await import(${JSON.stringify(pathToFileURL(CLIENT).href)});`,
      'console.log(JSON.stringify(seen));',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      probe,
    ]);
    const loaded = JSON.parse(stdout) as string[];
    const outside = loaded.filter(
      (u) => !u.startsWith('node:') && !u.startsWith(pathToFileURL(path.dirname(CLIENT)).href),
    );
    assert.deepEqual(outside, []);
    assert.ok(loaded.some((u) => u.endsWith('/src/client/client.ts')));
  });
});
