import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createKey } from '../../src/api/auth/keys.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * The front ends of pausing a type and of cron schedules, through a real gaffer's HTTP API: real
 * worker processes, the real store, a restart on the same data dir.
 */

const gaffers: TestGaffer[] = [];
after(async () => {
  for (const g of gaffers) await g.close();
});

function rowType(queue: string) {
  return {
    queue: `${queue}-${process.pid}`,
    worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
    scaling: { min: 0, max: 2 },
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(
  g: TestGaffer,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  opts: { payload?: unknown; key?: string } = {},
) {
  const res = await g.app.inject({
    method,
    url,
    headers: opts.key ? { authorization: `Bearer ${opts.key}` } : {},
    ...(opts.payload === undefined ? {} : { payload: opts.payload as object }),
  });
  return { status: res.statusCode, body: (res.body ? res.json() : null) as Json };
}

test('pause over HTTP: submissions accepted, nothing starts, the job answers paused, a restart keeps it paused; resume runs the backlog', async () => {
  const config = { autoscaler: { intervalMs: 100 }, jobTypes: { row: rowType('pause-http') } };
  let g = await startGaffer(config);
  const paused = await call(g, 'POST', '/v1/types/row/pause');
  assert.deepEqual([paused.status, paused.body], [200, { type: 'row', paused: true }]);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await call(g, 'POST', '/v1/jobs', {
      payload: { type: 'row', payload: { id: String(i) } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    ids.push(res.body['job'].id);
  }
  await g.orch.loop.tick();
  assert.equal(g.orch.gateway.workers('row').length, 0, 'no worker started for a paused type');
  const job = await call(g, 'GET', `/v1/jobs/${ids[0]}`);
  assert.equal(job.body['job'].waiting.reason, 'paused');
  const queues = await call(g, 'GET', '/v1/queues');
  assert.equal(queues.body['queues'].find((q: Json) => q['type'] === 'row').paused, true);
  assert.deepEqual(
    (await call(g, 'GET', '/v1/types/paused')).body['paused'].map((p: Json) => p['type']),
    ['row'],
  );

  await g.stop();
  g = await startGaffer(config, g.dataDir);
  gaffers.push(g);
  await g.orch.loop.tick();
  assert.equal(g.orch.gateway.workers('row').length, 0, 'still nothing started after a restart');
  assert.equal((await call(g, 'GET', `/v1/jobs/${ids[1]}`)).body['job'].waiting.reason, 'paused');
  assert.deepEqual(await countByState(g, 'row'), { queued: 3 });

  const resumed = await call(g, 'POST', '/v1/types/row/resume');
  assert.deepEqual(resumed.body, { type: 'row', paused: false });
  await until(g, async () => (await countByState(g, 'row'))['succeeded'] === 3, ['job:succeeded']);
  assert.equal((await call(g, 'GET', '/v1/types/paused')).body['paused'].length, 0);
  const audit = await call(g, 'GET', '/v1/audit?limit=50');
  const actions = audit.body['entries'].map((e: Json) => e['action']);
  assert.ok(actions.includes('type.pause') && actions.includes('type.resume'), actions.join());
  assert.equal(
    (await call(g, 'POST', '/v1/types/nope/pause')).body['error'].code,
    'GAFFER_UNKNOWN_TYPE',
  );
});

test('schedules over HTTP: listed with next and last runs and their job; trigger, declare, pause, delete', async () => {
  const g = await startGaffer({
    jobTypes: { row: rowType('sched-http') },
    schedules: { tick: { cron: '* * * * * *', submit: { type: 'row', payload: { id: 'tick' } } } },
  });
  gaffers.push(g);
  const listed = await call(g, 'GET', '/v1/schedules');
  const [tick] = listed.body['schedules'];
  assert.equal(tick.name, 'tick');
  assert.equal(tick.source, 'config');
  assert.equal(tick.paused, false);
  assert.ok(tick.nextRunAt > g.clock.now() - 1000, 'the next run is ahead');

  // The leader's runner fires each second: wait for a fired tick to show as the last run.
  await until(
    g,
    async () => (await call(g, 'GET', '/v1/schedules/tick')).body['schedule'].lastRun !== null,
    ['job:queued', 'job:succeeded'],
  );
  const shown = await call(g, 'GET', '/v1/schedules/tick');
  const last = shown.body['schedule'].lastRun;
  assert.equal(shown.body['jobs'][0].id, last.jobId, 'its recent jobs hold the last run');
  assert.match(shown.body['jobs'][0].idempotencyKey, /^schedule:tick:\d{4}-/);

  const triggered = await call(g, 'POST', '/v1/schedules/tick/trigger');
  assert.equal(triggered.status, 201);
  assert.match(triggered.body['job'].idempotencyKey, /^schedule:tick:manual:/);
  assert.deepEqual(triggered.body['job'].payload, { id: 'tick' });

  // The API's own schedules: checked as the config's are; the config's names are not theirs.
  const daily = { cron: '0 9 * * *', timezone: 'Europe/Berlin', submit: { type: 'row' } };
  const put = await call(g, 'PUT', '/v1/schedules/daily', { payload: daily });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  assert.equal(put.body['schedule'].source, 'api');
  assert.equal(put.body['schedule'].definition.missed, 'skip', 'defaults as in the config');
  assert.equal((await call(g, 'PUT', '/v1/schedules/daily', { payload: daily })).status, 200);
  const clash = await call(g, 'PUT', '/v1/schedules/tick', { payload: daily });
  assert.deepEqual([clash.status, clash.body['error'].code], [409, 'GAFFER_SCHEDULE_CONFIGURED']);
  const bad = await call(g, 'PUT', '/v1/schedules/bad', {
    payload: { cron: 'every day', submit: { type: 'nope' } },
  });
  assert.equal(bad.status, 422);
  assert.equal(bad.body['error'].code, 'GAFFER_SCHEDULE_INVALID');
  assert.deepEqual(
    bad.body['error'].details.problems.map((p: Json) => p['path']),
    ['/schedules/bad/cron', '/schedules/bad/submit/type'],
  );
  assert.deepEqual(
    (await call(g, 'GET', '/v1/schedules')).body['schedules'].map((s: Json) => s['name']),
    ['daily', 'tick'],
  );

  const pausedTick = await call(g, 'POST', '/v1/schedules/tick/pause');
  assert.equal(pausedTick.body['schedule'].paused, true);
  assert.equal((await call(g, 'POST', '/v1/schedules/tick/resume')).body['schedule'].paused, false);
  assert.equal(
    (await call(g, 'DELETE', '/v1/schedules/tick')).body['error'].code,
    'GAFFER_SCHEDULE_CONFIGURED',
  );
  assert.equal((await call(g, 'DELETE', '/v1/schedules/daily')).status, 204);
  assert.equal(
    (await call(g, 'GET', '/v1/schedules/daily')).body['error'].code,
    'GAFFER_SCHEDULE_NOT_FOUND',
  );
  const actions = (await call(g, 'GET', '/v1/audit?limit=100')).body['entries'].map(
    (e: Json) => e['action'],
  );
  for (const action of [
    'schedule.trigger',
    'schedule.put',
    'schedule.pause',
    'schedule.resume',
    'schedule.delete',
  ]) {
    assert.ok(actions.includes(action), `${action} audited: ${actions.join()}`);
  }
});

describe('type scope', () => {
  const make = (id: string, role: 'viewer' | 'operator', types?: string[]) => {
    const { key, hash } = createKey(id);
    return { key, entry: { id, hash, role, ...(types ? { types } : {}) } };
  };
  const alphaOp = make('alpha-op', 'operator', ['alpha']);
  const viewer = make('viewer-1', 'viewer');
  const type = { worker: { command: ['true'] }, scaling: { max: 0 } };

  test('a key scoped to a type pauses, sees and acts on its own types and schedules only', async () => {
    const g = await startGaffer({
      jobTypes: { alpha: type, beta: type },
      auth: { keys: [alphaOp.entry, viewer.entry] },
      schedules: {
        a: { cron: '0 0 1 1 *', submit: { type: 'alpha' } },
        b: { cron: '0 0 1 1 *', submit: { type: 'beta' } },
      },
    });
    gaffers.push(g);
    const as = { key: alphaOp.key };
    assert.equal((await call(g, 'POST', '/v1/types/beta/pause', as)).status, 403);
    assert.equal((await call(g, 'POST', '/v1/types/alpha/pause', as)).status, 200);
    assert.equal((await call(g, 'POST', '/v1/types/alpha/pause', { key: viewer.key })).status, 403);
    await g.orch.service.pause('beta');
    assert.deepEqual(
      (await call(g, 'GET', '/v1/types/paused', as)).body['paused'].map((p: Json) => p['type']),
      ['alpha'],
    );
    assert.deepEqual(
      (await call(g, 'GET', '/v1/schedules', as)).body['schedules'].map((s: Json) => s['name']),
      ['a'],
    );
    for (const [method, url] of [
      ['GET', '/v1/schedules/b'],
      ['POST', '/v1/schedules/b/trigger'],
      ['POST', '/v1/schedules/b/pause'],
    ] as const) {
      const res = await call(g, method, url, as);
      assert.deepEqual(
        [res.status, res.body['error'].code],
        [404, 'GAFFER_SCHEDULE_NOT_FOUND'],
        url,
      );
    }
    assert.equal((await call(g, 'POST', '/v1/schedules/a/trigger', as)).status, 201);
    const put = await call(g, 'PUT', '/v1/schedules/c', {
      ...as,
      payload: { cron: '0 0 1 1 *', submit: { type: 'beta' } },
    });
    assert.deepEqual([put.status, put.body['error'].code], [403, 'GAFFER_FORBIDDEN']);
  });
});
