import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createKey } from '../../src/api/auth/keys.ts';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '../../src/api/grpc/client.ts';
import { startGrpcServer, type GrpcServer } from '../../src/api/grpc/server.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/** gRPC's PauseType, ResumeType, ListSchedules and TriggerSchedule against a real gaffer. */

let g: TestGaffer;
let server: GrpcServer;
let client: GrpcClient;
const alphaOp = createKey('alpha-op');

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      alpha: { worker: { command: ['cat'] }, scaling: { max: 1 } },
      beta: { worker: { command: ['true'] }, scaling: { max: 0 } },
    },
    auth: {
      keys: [
        { id: 'op', hash: createKey('op').hash, role: 'operator' },
        { id: 'alpha-op', hash: alphaOp.hash, role: 'operator', types: ['alpha'] },
      ],
    },
    schedules: {
      a: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin', submit: { type: 'alpha', payload: 1 } },
      b: { cron: '0 0 1 1 *', submit: { type: 'beta' } },
    },
  });
  server = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
  // A key scoped to alpha: beta's type and schedule are out of its reach.
  client = createGrpcClient({ address: `127.0.0.1:${server.port}`, apiKey: alphaOp.key });
});
after(async () => {
  client.close();
  await server.close();
  await g.close();
});

async function failure(promise: Promise<unknown>): Promise<GrpcCallError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GrpcCallError, String(err));
    return err;
  }
  assert.fail('the call succeeded');
}

test('PauseType holds the type, ResumeType runs its backlog; out of scope is PERMISSION_DENIED', async () => {
  assert.deepEqual(await client.pauseType('alpha'), { type: 'alpha', paused: true });
  const { job } = await client.submitJob({ type: 'alpha', payloadJson: '{}' });
  await g.orch.loop.tick();
  assert.equal(g.orch.gateway.workers('alpha').length, 0);
  assert.equal((await client.getJob(job!.id)).state, 'JOB_STATE_QUEUED');
  assert.deepEqual(await client.resumeType('alpha'), { type: 'alpha', paused: false });
  await until(g, async () => (await countByState(g, 'alpha'))['succeeded'] === 1, [
    'job:succeeded',
  ]);
  const denied = await failure(client.pauseType('beta'));
  assert.deepEqual(
    [denied.code, denied.gafferCode],
    [status.PERMISSION_DENIED, 'GAFFER_FORBIDDEN'],
  );
  const audit = await g.orch.services.audit.list({ limit: 50 }, { id: 'x', types: null });
  const pause = audit.entries.find((e) => e.action === 'type.pause');
  assert.deepEqual(pause?.details, { type: 'alpha', api: 'grpc' });
});

test("ListSchedules lists the scope's schedules; TriggerSchedule fires one now", async () => {
  const { schedules } = await client.listSchedules();
  assert.equal(schedules.length, 1, 'only the schedule of its type');
  const [a] = schedules;
  assert.deepEqual(
    [a!.name, a!.source, a!.cron, a!.timezone, a!.type, a!.paused, a!.lastJobId],
    ['a', 'config', '0 0 1 1 *', 'Europe/Berlin', 'alpha', false, ''],
  );
  assert.ok((a!.nextRunAtMs ?? 0) > Date.now());
  assert.equal(a!.lastRunAtMs, undefined);
  assert.equal(JSON.parse(a!.definitionJson).submit.payload, 1);
  const job = await client.triggerSchedule('a');
  assert.equal(job.type, 'alpha');
  assert.match(job.idempotencyKey, /^schedule:a:manual:/);
  const hidden = await failure(client.triggerSchedule('b'));
  assert.deepEqual(
    [hidden.code, hidden.gafferCode],
    [status.NOT_FOUND, 'GAFFER_SCHEDULE_NOT_FOUND'],
  );
});
