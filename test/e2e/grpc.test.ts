import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { createKey } from '../../src/api/auth/keys.ts';
import { createGrpcClient, GrpcCallError, type GrpcClient } from '../../src/api/grpc/client.ts';
import {
  ERROR_CODE_KEY,
  GAFFER_SERVICE,
  packageDefinition,
  serviceDefinition,
} from '../../src/api/grpc/definition.ts';
import { GRPC_STATUS, toServiceError } from '../../src/api/grpc/errors.ts';
import { startGrpcServer, type GrpcServer } from '../../src/api/grpc/server.ts';
import * as pb from '../../src/api/grpc/types.ts';
import { stateFromProto, stateToProto } from '../../src/api/grpc/convert.ts';
import { JOB_STATES } from '../../src/domain/job.ts';
import { ERRORS, GafferError, type ErrorCode } from '../../src/errors.ts';
import { REPO, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';
import { gafferDir } from '../helpers/process.ts';

let g: TestGaffer;
let server: GrpcServer;
let client: GrpcClient;

before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      echo: { worker: { command: ['cat'] }, scaling: { max: 2 } },
      watched: { worker: { command: ['cat'] }, scaling: { max: 1 } },
      // Never runs (max 0): stays queued for cancel, paging and idempotency.
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
      paged: { worker: { command: ['true'] }, scaling: { max: 0 } },
      strict: {
        worker: { command: ['true'] },
        scaling: { max: 0 },
        payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
      },
    },
  });
  server = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
  client = createGrpcClient({ address: `127.0.0.1:${server.port}` });
});
after(async () => {
  client.close();
  await server.close();
  await g.close();
});

/** The rejection of `promise`, which must be a GrpcCallError. */
async function failure(promise: Promise<unknown>): Promise<GrpcCallError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GrpcCallError, `a GrpcCallError, not ${String(err)}`);
    return err;
  }
  assert.fail('the call succeeded');
}

async function collect(stream: AsyncIterable<pb.Job>): Promise<pb.Job[]> {
  const seen: pb.Job[] = [];
  for await (const job of stream) seen.push(job);
  return seen;
}

describe('messages', () => {
  const job: Required<pb.Job> = {
    id: 'j-1',
    type: 'echo',
    queue: 'echo',
    state: 'JOB_STATE_FAILED',
    payloadJson: '{"a":1}',
    priority: 2.5,
    attributesJson: '{"rows":10}',
    attempt: 2,
    maxAttempts: 3,
    replays: 1,
    timeoutMs: 60_000,
    createdAtMs: 1_763_900_000_000,
    runAtMs: 1_763_900_000_001,
    startedAtMs: 1_763_900_000_002,
    finishedAtMs: 1_763_900_000_003,
    cancelRequested: true,
    resultJson: 'null',
    error: {
      class: 'application',
      message: 'exit 3',
      exitCode: 3,
      signal: 'SIGKILL',
      nonRetryable: true,
      workerLost: true,
      oomKills: 1,
    } satisfies Required<pb.JobError>,
    batchId: 'b-1',
    idempotencyKey: 'k',
    routeReason: 'rows > 5',
    data: { inputs: ['s3://b/k'], output: 's3://b/out/' } satisfies Required<pb.DataRefs>,
    leaseOwner: 'local-1-echo-1',
    leaseExpiresAtMs: 1_763_900_000_004,
    resources: { cpu: '500m', memory: '1Gi', gpus: 1 } satisfies Required<pb.Resources>,
    expiresAtMs: 1_763_900_000_005,
    waiting: {
      reason: 'rate_limit',
      message: 'the window is full',
      position: 3,
      estimatedStartAtMs: 1_763_900_000_006,
    } satisfies Required<pb.Waiting>,
  };
  const submit: Required<Omit<pb.SubmitJobRequest, 'priorityName'>> = {
    type: 'echo',
    payloadJson: '[1,2]',
    priority: 5,
    idempotencyKey: 'k-1',
    attributesJson: '{}',
    maxAttempts: 2,
    timeoutSeconds: 1.5,
    data: { inputs: ['/in'], output: '/out' },
    resources: { cpu: '1', memory: '2Gi', gpus: 1 },
    runAt: '2026-12-07T14:00:00Z',
    delay: '30s',
    expiresAt: '1763900000005',
    expireIn: '5m',
    dedup: { mode: 'ttl', ttlSeconds: 60, debounceSeconds: 1 } satisfies Required<pb.DedupMode>,
  };
  const method = serviceDefinition(GAFFER_SERVICE) as unknown as Record<
    string,
    {
      requestSerialize(v: unknown): Buffer;
      requestDeserialize(b: Buffer): unknown;
      responseSerialize(v: unknown): Buffer;
      responseDeserialize(b: Buffer): unknown;
    }
  >;
  const request = (name: string) => (v: unknown) =>
    method[name]!.requestDeserialize(method[name]!.requestSerialize(v));
  const response = (name: string) => (v: unknown) =>
    method[name]!.responseDeserialize(method[name]!.responseSerialize(v));

  // Each message with every field set, and the message the types.ts interface says it is:
  // `Required<…>` makes the compiler hold each sample to its whole interface.
  const cases: { message: string; sample: object; roundTrip: (v: unknown) => unknown }[] = [
    { message: 'Job', sample: job, roundTrip: response('GetJob') },
    {
      message: 'JobError',
      sample: job.error!,
      roundTrip: (v) => response('GetJob')({ ...job, error: v }),
    },
    {
      message: 'DataRefs',
      sample: job.data!,
      roundTrip: (v) => response('GetJob')({ ...job, data: v }),
    },
    {
      message: 'SubmitJobRequest',
      sample: { ...submit, priorityName: 'high', priority: undefined },
      roundTrip: request('SubmitJob'),
    },
    {
      message: 'SubmitJobResponse',
      sample: { job, created: true } satisfies Required<pb.SubmitJobResponse>,
      roundTrip: response('SubmitJob'),
    },
    {
      message: 'SubmitJobsRequest',
      sample: { type: 'echo', jobs: [submit] } satisfies Required<pb.SubmitJobsRequest>,
      roundTrip: request('SubmitJobs'),
    },
    {
      message: 'SubmitJobsResponse',
      sample: {
        jobIds: ['a', 'b'],
        batchId: 'batch-1',
        rejected: [
          {
            index: 1,
            code: 'GAFFER_UNKNOWN_TYPE',
            message: 'no',
          } satisfies Required<pb.RejectedItem>,
        ],
      } satisfies Required<pb.SubmitJobsResponse>,
      roundTrip: response('SubmitJobs'),
    },
    {
      message: 'Waiting',
      sample: job.waiting!,
      roundTrip: (v) => response('GetJob')({ ...job, waiting: v }),
    },
    {
      message: 'Resources',
      sample: job.resources!,
      roundTrip: (v) => response('GetJob')({ ...job, resources: v }),
    },
    {
      message: 'RunCommandRequest',
      sample: {
        cmd: 'echo hi',
        image: 'busybox',
        timeoutSeconds: 60,
        env: { A: '1' },
      } satisfies Required<pb.RunCommandRequest>,
      roundTrip: request('RunCommand'),
    },
    {
      message: 'RunCommandResponse',
      sample: { job } satisfies Required<pb.RunCommandResponse>,
      roundTrip: response('RunCommand'),
    },
    {
      message: 'GetJobRequest',
      sample: { id: 'x' } satisfies Required<pb.GetJobRequest>,
      roundTrip: request('GetJob'),
    },
    {
      message: 'CancelJobRequest',
      sample: { id: 'x' } satisfies Required<pb.CancelJobRequest>,
      roundTrip: request('CancelJob'),
    },
    {
      message: 'WatchJobRequest',
      sample: { id: 'x' } satisfies Required<pb.WatchJobRequest>,
      roundTrip: request('WatchJob'),
    },
    {
      message: 'ListJobsRequest',
      sample: {
        type: 'echo',
        state: 'JOB_STATE_QUEUED',
        cursor: 'c',
        limit: 7,
        delayed: true,
      } satisfies Required<pb.ListJobsRequest>,
      roundTrip: request('ListJobs'),
    },
    {
      message: 'ListJobsResponse',
      sample: { jobs: [job], nextCursor: 'n' } satisfies Required<pb.ListJobsResponse>,
      roundTrip: response('ListJobs'),
    },
  ];

  for (const { message, sample, roundTrip } of cases) {
    test(`${message}: types.ts names exactly the proto's fields, and a message round-trips`, () => {
      const type = (
        packageDefinition()[`gaffer.v1.${message}`] as { type: { field: { name: string }[] } }
      ).type;
      const protoFields = type.field.map((f) =>
        f.name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()),
      );
      const set = Object.entries(sample).filter(([, v]) => v !== undefined);
      // SubmitJobRequest's sample sets one member of the priority oneof; the other is in `submit`.
      const names = new Set([
        ...set.map(([k]) => k),
        ...(message === 'SubmitJobRequest' ? ['priority'] : []),
      ]);
      assert.deepEqual([...names].sort(), protoFields.sort());
      const back = roundTrip(sample) as Record<string, unknown>;
      const part: Record<string, string> = {
        JobError: 'error',
        DataRefs: 'data',
        Resources: 'resources',
        Waiting: 'waiting',
      };
      const whole = message in part ? back[part[message]!] : back;
      assert.deepEqual(whole, Object.fromEntries(set));
    });
  }

  test("JobState: the proto's values are types.ts's, and every domain state maps there and back", () => {
    const values = (
      packageDefinition()['gaffer.v1.JobState'] as { type: { value: { name: string }[] } }
    ).type.value.map((v) => v.name);
    assert.deepEqual(values, [...pb.JOB_STATE_NAMES]);
    assert.deepEqual(JOB_STATES.map(stateToProto), pb.JOB_STATE_NAMES.slice(1));
    assert.deepEqual(JOB_STATES.map(stateToProto).map(stateFromProto), [...JOB_STATES]);
  });
});

describe('error mapping', () => {
  const DOCS = readFileSync(path.join(REPO, 'docs/grpc.md'), 'utf8');
  /** The gRPC statuses an HTTP status may become; a code with a new HTTP status must be added. */
  const BY_HTTP: Record<number, status[]> = {
    400: [status.INVALID_ARGUMENT],
    401: [status.UNAUTHENTICATED],
    403: [status.PERMISSION_DENIED],
    404: [status.NOT_FOUND, status.UNIMPLEMENTED],
    408: [status.DEADLINE_EXCEEDED],
    409: [status.FAILED_PRECONDITION, status.ABORTED, status.ALREADY_EXISTS],
    410: [status.FAILED_PRECONDITION],
    413: [status.RESOURCE_EXHAUSTED],
    415: [status.INVALID_ARGUMENT],
    422: [status.INVALID_ARGUMENT],
    429: [status.RESOURCE_EXHAUSTED],
    431: [status.RESOURCE_EXHAUSTED],
    500: [status.INTERNAL],
    503: [status.UNAVAILABLE],
    507: [status.RESOURCE_EXHAUSTED],
  };
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    test(`${code} has a gRPC status fitting HTTP ${ERRORS[code].status}, and travels with its code`, () => {
      const mapped = (GRPC_STATUS as Record<string, status | undefined>)[code];
      assert.notEqual(mapped, undefined, `${code} has no entry in GRPC_STATUS`);
      assert.ok(
        BY_HTTP[ERRORS[code].status]?.includes(mapped!),
        `${code} (HTTP ${ERRORS[code].status}) → ${status[mapped!]}`,
      );
      const err = toServiceError(new GafferError(code, 'detail'));
      assert.equal(err.code, mapped);
      assert.equal(err.details, `${ERRORS[code].message}: detail`);
      assert.deepEqual(err.metadata?.get(ERROR_CODE_KEY), [code]);
      const row = new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*\`${status[mapped!]}\`\\s*\\|`);
      assert.match(DOCS, row, `docs/grpc.md's table shows ${code} → ${status[mapped!]}`);
    });
  }
  test('the table has no code the catalogue lacks', () => {
    assert.deepEqual(Object.keys(GRPC_STATUS).sort(), Object.keys(ERRORS).sort());
  });
});

describe('Gaffer service', () => {
  test('SubmitJob → the job runs → GetJob shows it succeeded with its result', async () => {
    const { job, created } = await client.submitJob({
      type: 'echo',
      payloadJson: '{"hello":"grpc"}',
    });
    assert.equal(created, true);
    assert.equal(job.state, 'JOB_STATE_QUEUED');
    const states = await collect(client.watchJob(job.id));
    assert.equal(states.at(-1)?.state, 'JOB_STATE_SUCCEEDED');
    const done = await client.getJob(job.id);
    assert.equal(done.state, 'JOB_STATE_SUCCEEDED');
    assert.deepEqual(JSON.parse(done.resultJson), { hello: 'grpc' });
    assert.equal(done.attempt, 1);
    assert.ok(done.finishedAtMs! >= done.createdAtMs);
  });

  test('WatchJob streams queued … succeeded, in order, and ends', async () => {
    // Nothing may claim the job before the watch has seen it queued: the autoscaler waits.
    g.orch.loop.stop();
    await g.orch.loop.idle();
    const { job } = await client.submitJob({ type: 'watched', payloadJson: '7' });
    const stream = client.watchJob(job.id);
    const first = await stream.next();
    assert.equal(first.done, false);
    assert.equal(first.value!.state, 'JOB_STATE_QUEUED');
    g.orch.loop.start();
    const rest = await collect({ [Symbol.asyncIterator]: () => stream });
    const order = [
      'JOB_STATE_QUEUED',
      'JOB_STATE_STARTING',
      'JOB_STATE_RUNNING',
      'JOB_STATE_SUCCEEDED',
    ];
    const ranks = [first.value!, ...rest].map((j) => order.indexOf(j.state));
    assert.ok(
      ranks.every((r, i) => r >= 0 && (i === 0 || r > ranks[i - 1]!)),
      `order: ${ranks}`,
    );
    assert.equal(rest.at(-1)?.state, 'JOB_STATE_SUCCEEDED');
    assert.equal(rest.at(-1)?.resultJson, '7');
  });

  const invalid: { name: string; req: pb.SubmitJobRequest; code: ErrorCode }[] = [
    {
      name: 'payload against the schema',
      req: { type: 'strict', payloadJson: '{"n":"x"}' },
      code: 'GAFFER_PAYLOAD_INVALID',
    },
    { name: 'unknown type', req: { type: 'nope' }, code: 'GAFFER_UNKNOWN_TYPE' },
    {
      name: 'payload that is not JSON',
      req: { type: 'echo', payloadJson: '{oops' },
      code: 'GAFFER_BAD_JSON',
    },
    {
      name: 'attributes not an object',
      req: { type: 'echo', attributesJson: '[1]' },
      code: 'GAFFER_BAD_REQUEST',
    },
    {
      name: 'max_attempts out of range',
      req: { type: 'echo', maxAttempts: 0 },
      code: 'GAFFER_BAD_REQUEST',
    },
    {
      name: 'a bad data reference',
      req: { type: 'echo', data: { inputs: ['relative/path'] } },
      code: 'GAFFER_DATA_REF_INVALID',
    },
    // The HTTP body's JSON guards hold for payload_json and attributes_json too.
    {
      name: 'payload_json nested deeper than 64',
      req: { type: 'echo', payloadJson: '['.repeat(65) + ']'.repeat(65) },
      code: 'GAFFER_BAD_REQUEST',
    },
    {
      name: 'payload_json with a __proto__ key',
      req: { type: 'echo', payloadJson: '{"a":{"__proto__":{"polluted":true}}}' },
      code: 'GAFFER_BAD_JSON',
    },
    {
      name: 'attributes_json with constructor.prototype',
      req: { type: 'echo', attributesJson: '{"constructor":{"prototype":{"x":1}}}' },
      code: 'GAFFER_BAD_JSON',
    },
    {
      name: 'timeout_seconds 0.0001 (0 ms: no timer)',
      req: { type: 'echo', timeoutSeconds: 0.0001 },
      code: 'GAFFER_BAD_REQUEST',
    },
    {
      name: 'timeout_seconds Infinity',
      req: { type: 'echo', timeoutSeconds: Infinity },
      code: 'GAFFER_BAD_REQUEST',
    },
    {
      name: 'timeout_seconds 1e306',
      req: { type: 'echo', timeoutSeconds: 1e306 },
      code: 'GAFFER_TIMEOUT_TOO_LONG',
    },
    {
      name: 'priority_name "0x10"',
      req: { type: 'echo', priorityName: '0x10' },
      code: 'GAFFER_BAD_REQUEST',
    },
    { name: 'priority 1e10', req: { type: 'echo', priority: 1e10 }, code: 'GAFFER_BAD_REQUEST' },
    { name: 'priority 2.5', req: { type: 'echo', priority: 2.5 }, code: 'GAFFER_BAD_REQUEST' },
  ];
  for (const { name, req, code } of invalid) {
    test(`SubmitJob, ${name} → INVALID_ARGUMENT with gaffer-error-code ${code}`, async () => {
      const err = await failure(client.submitJob(req));
      assert.equal(err.code, status.INVALID_ARGUMENT);
      assert.equal(err.gafferCode, code);
      // On the wire: the trailing metadata itself, and the catalogue message as details.
      assert.deepEqual((err.cause as ServiceError).metadata.get('gaffer-error-code'), [code]);
      assert.ok(err.message.startsWith(ERRORS[code].message), err.message);
    });
  }

  /**
   * A raw call whose request carries fields this proto does not define (a newer client's
   * `run_at = 10`, a `delay_seconds = 11`): encoded by the proto, then the unknown fields appended.
   */
  const rawSubmit = (method: 'SubmitJob' | 'SubmitJobs', request: object, extra: Buffer) => {
    const def = serviceDefinition(GAFFER_SERVICE)[method]!;
    const raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
    return new Promise<{ err: ServiceError | null; res: unknown }>((resolve) => {
      raw.makeUnaryRequest(
        def.path,
        (req: object) => Buffer.concat([def.requestSerialize(req), extra]),
        (buf: Buffer) => def.responseDeserialize(buf),
        request,
        (err, res) => {
          raw.close();
          resolve({ err, res });
        },
      );
    });
  };
  // Field 11 as a varint (1), field 12 as a string ("x"): numbers SubmitJobRequest does not use.
  const UNKNOWN = Buffer.from([0x58, 0x01, 0x62, 0x01, 0x78]);

  test('SubmitJob with fields this proto does not define → INVALID_ARGUMENT, GAFFER_UNKNOWN_FIELD', async () => {
    const before = (await g.orch.store.list({ limit: 1000, type: 'held' })).jobs.length;
    const { err } = await rawSubmit('SubmitJob', { type: 'held', payloadJson: '1' }, UNKNOWN);
    assert.equal(err?.code, status.INVALID_ARGUMENT, String(err));
    assert.deepEqual(err?.metadata.get(ERROR_CODE_KEY), ['GAFFER_UNKNOWN_FIELD']);
    assert.match(err?.details ?? '', /11, 12/);
    assert.equal((await g.orch.store.list({ limit: 1000, type: 'held' })).jobs.length, before);
  });

  test('SubmitJobs: an item with unknown fields is rejected by index; unknown batch fields refuse it', async () => {
    const item = serviceDefinition(GAFFER_SERVICE).SubmitJob!.requestSerialize({
      type: 'held',
      payloadJson: '1',
    });
    // Items are field 2 of SubmitJobsRequest: one plain, one with the unknown fields inside.
    const field2 = (bytes: Buffer) => Buffer.concat([Buffer.from([0x12, bytes.length]), bytes]);
    const items = Buffer.concat([field2(item), field2(Buffer.concat([item, UNKNOWN]))]);
    const { err, res } = await rawSubmit('SubmitJobs', {}, items);
    assert.equal(err, null, String(err));
    const out = res as pb.SubmitJobsResponse;
    assert.equal(out.jobIds?.length, 1);
    assert.deepEqual(
      out.rejected?.map((r) => [r.index, r.code]),
      [[1, 'GAFFER_UNKNOWN_FIELD']],
    );
    const whole = await rawSubmit('SubmitJobs', { jobs: [] }, Buffer.from([0x18, 0x01]));
    assert.deepEqual(whole.err?.metadata.get(ERROR_CODE_KEY), ['GAFFER_UNKNOWN_FIELD']);
  });

  test('an unknown id → NOT_FOUND (GetJob, CancelJob, WatchJob)', async () => {
    for (const call of [
      () => client.getJob('job-nope'),
      () => client.cancelJob('job-nope'),
      () => collect(client.watchJob('job-nope')),
    ]) {
      const err = await failure(call());
      assert.equal(err.code, status.NOT_FOUND);
      assert.equal(err.gafferCode, 'GAFFER_JOB_NOT_FOUND');
    }
    const empty = await failure(client.getJob(''));
    assert.deepEqual(
      [empty.code, empty.gafferCode],
      [status.INVALID_ARGUMENT, 'GAFFER_BAD_REQUEST'],
    );
  });

  test('an idempotency key answers the same job, created only once', async () => {
    const first = await client.submitJob({
      type: 'held',
      payloadJson: '1',
      idempotencyKey: 'grpc-k1',
    });
    const second = await client.submitJob({
      type: 'held',
      payloadJson: '1',
      idempotencyKey: 'grpc-k1',
    });
    assert.deepEqual([first.created, second.created], [true, false]);
    assert.equal(second.job.id, first.job.id);
    assert.equal(second.job.payloadJson, '1');
    const other = await failure(
      client.submitJob({ type: 'held', payloadJson: '2', idempotencyKey: 'grpc-k1' }),
    );
    assert.equal(other.gafferCode, 'GAFFER_IDEMPOTENCY_CONFLICT');
  });

  test('SubmitJobs: valid items accepted together, bad ones rejected by index with their codes', async () => {
    const res = await client.submitJobs({
      type: 'held',
      jobs: [
        { payloadJson: '1' },
        { type: 'nope' },
        { payloadJson: '{bad' },
        { type: 'strict', payloadJson: '{}' },
        { payloadJson: '5', priorityName: 'high' },
      ],
    });
    assert.deepEqual(
      res.rejected.map((r) => [r.index, r.code]),
      [
        [1, 'GAFFER_UNKNOWN_TYPE'],
        [2, 'GAFFER_BAD_JSON'],
        [3, 'GAFFER_PAYLOAD_INVALID'],
      ],
    );
    assert.equal(res.jobIds.length, 2);
    const jobs = await Promise.all(res.jobIds.map((id) => client.getJob(id)));
    assert.deepEqual(
      jobs.map((j) => [j.type, j.payloadJson, j.priority]),
      [
        ['held', '1', 0],
        ['held', '5', 10],
      ],
    );
  });

  test('SubmitJobs records a batch as POST /v1/jobs/batch does: its counts, done, its jobs', async () => {
    const items = [
      { payload: 1 },
      { type: 'nope' },
      { type: 'strict', payload: {} },
      { payload: 2 },
    ];
    const res = await client.submitJobs({
      type: 'held',
      jobs: items.map(({ payload, ...rest }) =>
        payload === undefined ? rest : { ...rest, payloadJson: JSON.stringify(payload) },
      ),
    });
    assert.match(res.batchId, /^batch-/);
    const http = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs/batch',
      payload: { type: 'held', jobs: items },
    });
    assert.equal(http.statusCode, 201);
    const batchOf = async (id: string) =>
      (await g.app.inject({ method: 'GET', url: `/v1/batches/${id}` })).json().batch;
    const [viaGrpc, viaHttp] = [await batchOf(res.batchId), await batchOf(http.json().batchId)];
    const shown = ({
      id: _id,
      createdAt: _at,
      source: _source,
      ...rest
    }: Record<string, unknown>) => rest;
    assert.deepEqual(shown(viaGrpc), shown(viaHttp));
    assert.deepEqual(
      [viaGrpc.type, viaGrpc.accepted, viaGrpc.rejected, viaGrpc.done, viaGrpc.source],
      ['held', 2, 2, true, 'grpc'],
    );
    for (const id of res.jobIds) assert.equal((await client.getJob(id)).batchId, res.batchId);
  });

  test('CancelJob cancels a queued job; a second cancel is FAILED_PRECONDITION', async () => {
    const { job } = await client.submitJob({ type: 'held' });
    const cancelled = await client.cancelJob(job.id);
    assert.equal(cancelled.state, 'JOB_STATE_CANCELLED');
    assert.equal((await client.getJob(job.id)).state, 'JOB_STATE_CANCELLED');
    const again = await failure(client.cancelJob(job.id));
    assert.deepEqual(
      [again.code, again.gafferCode],
      [status.FAILED_PRECONDITION, 'GAFFER_NOT_CANCELLABLE'],
    );
  });

  test('ListJobs pages through a type with its cursor; filters by state', async () => {
    const res = await client.submitJobs({
      type: 'paged',
      jobs: [1, 2, 3, 4, 5].map((n) => ({ payloadJson: String(n) })),
    });
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor = '';
    do {
      const page = await client.listJobs({ type: 'paged', limit: 2, cursor });
      sizes.push(page.jobs.length);
      seen.push(...page.jobs.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(sizes.slice(0, 2), [2, 2]);
    assert.deepEqual([...seen].sort(), [...res.jobIds].sort());
    const queued = await client.listJobs({ type: 'paged', state: 'JOB_STATE_QUEUED', limit: 100 });
    assert.equal(queued.jobs.length, 5);
    const none = await client.listJobs({ type: 'paged', state: 'JOB_STATE_SUCCEEDED' });
    assert.deepEqual([none.jobs.length, none.nextCursor], [0, '']);
    const tooMany = await failure(client.listJobs({ limit: 1001 }));
    assert.deepEqual(
      [tooMany.code, tooMany.gafferCode],
      [status.INVALID_ARGUMENT, 'GAFFER_BAD_REQUEST'],
    );
  });

  test('grpc.health.v1: SERVING; an unknown service is NOT_FOUND', async () => {
    assert.equal(await client.health(), 'SERVING');
    assert.equal(await client.health('gaffer.v1.Gaffer'), 'SERVING');
    const err = await failure(client.health('nope.Service'));
    assert.equal(err.code, status.NOT_FOUND);
  });

  test('closing the server ends an open WatchJob with UNAVAILABLE', async () => {
    const other = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
    const c = createGrpcClient({ address: `127.0.0.1:${other.port}` });
    try {
      const { job } = await c.submitJob({ type: 'held' });
      const stream = c.watchJob(job.id);
      assert.equal((await stream.next()).value?.state, 'JOB_STATE_QUEUED');
      await other.close();
      const err = await failure(stream.next());
      assert.deepEqual([err.code, err.gafferCode], [status.UNAVAILABLE, 'GAFFER_UNAVAILABLE']);
    } finally {
      c.close();
    }
  });
});

describe('authentication and roles', () => {
  // Real keys, checked by the HTTP API's key check (the server's default): gaffer's own config
  // with `auth.keys` set, as `gaffer keys create` prints them.
  const made = {
    viewer: createKey('grpc-viewer'),
    submitter: createKey('grpc-submitter'),
    operator: createKey('grpc-operator'),
    held: createKey('grpc-held'),
    pair: createKey('grpc-pair'),
  };
  const keyOf = { ...made, wrong: { key: `gaffer_grpc-operator_${'x'.repeat(43)}` } };
  const secure = (failedAuthLimit: { max: number; timeWindowMs: number }) =>
    startGrpcServer(
      {
        service: g.orch.service,
        services: g.orch.services,
        events: g.orch.events,
        clock: g.orch.clock,
        log: g.orch.log,
        config: {
          ...g.orch.config,
          auth: {
            ...g.orch.config.auth,
            failedAuthLimit,
            keys: [
              { id: 'grpc-viewer', hash: made.viewer.hash, role: 'viewer' },
              { id: 'grpc-submitter', hash: made.submitter.hash, role: 'submitter' },
              { id: 'grpc-operator', hash: made.operator.hash, role: 'operator' },
              { id: 'grpc-held', hash: made.held.hash, role: 'operator', types: ['held'] },
              { id: 'grpc-pair', hash: made.pair.hash, role: 'viewer', types: ['held', 'paged'] },
            ],
          },
        },
      },
      { host: '127.0.0.1', port: 0 },
    );
  let secured: GrpcServer;
  const clients: GrpcClient[] = [];
  const clientAs = (who?: keyof typeof keyOf, server = secured) => {
    const apiKey = who === undefined ? undefined : keyOf[who].key;
    const c = createGrpcClient({
      address: `127.0.0.1:${server.port}`,
      ...(apiKey ? { apiKey } : {}),
    });
    clients.push(c);
    return c;
  };
  let heldJob: string;
  let otherJob: string;
  before(async () => {
    secured = await secure({ max: 1000, timeWindowMs: 60_000 });
    heldJob = (await client.submitJob({ type: 'held' })).job.id;
    // A job of another type than the scoped key's: 'paged' never runs, so it stays put.
    otherJob = (await client.submitJob({ type: 'paged' })).job.id;
  });
  after(async () => {
    for (const c of clients) c.close();
    await secured.close();
  });

  test('no key or a wrong key → UNAUTHENTICATED', async () => {
    for (const who of [undefined, 'wrong'] as const) {
      const err = await failure(clientAs(who).getJob(heldJob));
      assert.deepEqual([err.code, err.gafferCode], [status.UNAUTHENTICATED, 'GAFFER_UNAUTHORIZED']);
    }
  });

  type Call = (c: GrpcClient) => Promise<unknown>;
  const calls: { method: string; right: 'read' | 'submit' | 'operate'; call: Call }[] = [
    { method: 'SubmitJob', right: 'submit', call: (c) => c.submitJob({ type: 'held' }) },
    {
      method: 'SubmitJobs',
      right: 'submit',
      call: (c) => c.submitJobs({ type: 'held', jobs: [{}] }),
    },
    { method: 'GetJob', right: 'read', call: (c) => c.getJob(heldJob) },
    { method: 'ListJobs', right: 'read', call: (c) => c.listJobs({ type: 'held' }) },
    { method: 'WatchJob', right: 'read', call: (c) => c.watchJob(heldJob).next() },
    // Cancels a fresh job each time, so a permitted cancel never meets an ended one.
    {
      method: 'CancelJob',
      right: 'operate',
      call: async (c) => c.cancelJob((await client.submitJob({ type: 'held' })).job.id),
    },
  ];
  const RIGHTS = {
    viewer: ['read'],
    submitter: ['read', 'submit'],
    operator: ['read', 'submit', 'operate'],
  };
  for (const { method, right, call } of calls) {
    for (const [role, rights] of Object.entries(RIGHTS)) {
      const allowed = rights.includes(right);
      test(`${method} needs ${right}: ${role} → ${allowed ? 'allowed' : 'PERMISSION_DENIED'}`, async () => {
        const c = clientAs(role as 'viewer' | 'submitter' | 'operator');
        if (allowed) {
          await call(c);
        } else {
          const err = await failure(call(c));
          assert.deepEqual(
            [err.code, err.gafferCode],
            [status.PERMISSION_DENIED, 'GAFFER_FORBIDDEN'],
          );
        }
      });
    }
  }

  test('CancelJob is in the audit log: done, refused and failed, by key id', async () => {
    const { job } = await client.submitJob({ type: 'held' });
    await failure(clientAs('submitter').cancelJob(job.id));
    await clientAs('operator').cancelJob(job.id);
    await failure(clientAs('operator').cancelJob(job.id));
    const { entries } = await g.orch.store.listAudit({ limit: 100, action: 'job.cancel' });
    const mine = entries.filter((e) => e.target === job.id).reverse();
    assert.deepEqual(
      mine.map((e) => [e.actor, e.outcome, e.details]),
      [
        ['grpc-submitter', 'refused', { code: 'GAFFER_FORBIDDEN', api: 'grpc' }],
        ['grpc-operator', 'ok', { api: 'grpc' }],
        ['grpc-operator', 'failed', { code: 'GAFFER_NOT_CANCELLABLE', api: 'grpc' }],
      ],
    );
  });

  test('a key scoped to a type: submitting or listing other types → PERMISSION_DENIED, their jobs → NOT_FOUND as unknown ids, its own type works', async () => {
    const c = clientAs('held');
    const denied = [() => c.submitJob({ type: 'paged' }), () => c.listJobs({ type: 'paged' })];
    for (const call of denied) {
      const err = await failure(call());
      assert.deepEqual([err.code, err.gafferCode], [status.PERMISSION_DENIED, 'GAFFER_FORBIDDEN']);
    }
    const hidden = [
      (id: string) => c.getJob(id),
      (id: string) => c.cancelJob(id),
      (id: string) => c.watchJob(id).next(),
    ];
    for (const call of hidden) {
      const err = await failure(call(otherJob));
      const none = await failure(call('job-unknown'));
      assert.deepEqual([err.code, err.gafferCode], [status.NOT_FOUND, 'GAFFER_JOB_NOT_FOUND']);
      assert.equal(err.message.replaceAll(otherJob, 'job-unknown'), none.message);
    }
    const { entries } = await g.orch.store.listAudit({ limit: 100, action: 'job.cancel' });
    const refused = entries.find((e) => e.actor === 'grpc-held' && e.target === otherJob);
    assert.deepEqual(refused?.outcome, 'refused');
    assert.equal((await c.getJob(heldJob)).type, 'held');
    const listed = await c.listJobs({ limit: 1000 });
    assert.ok(listed.jobs.length > 0 && listed.jobs.every((j) => j.type === 'held'));
    const batch = await c.submitJobs({ jobs: [{ type: 'held' }, { type: 'paged' }] });
    assert.equal(batch.jobIds.length, 1);
    assert.deepEqual(
      batch.rejected.map((r) => [r.index, r.code]),
      [[1, 'GAFFER_FORBIDDEN']],
    );
  });

  test('ListJobs for a key scoped to several types lists them all, merged newest first', async () => {
    const c = clientAs('pair');
    const { jobs } = await c.listJobs({ limit: 1000 });
    const types = new Set(jobs.map((j) => j.type));
    assert.deepEqual([...types].sort(), ['held', 'paged']);
    // Newest first; jobs of one millisecond in the store's order (SQLite: as it recorded them).
    const created = jobs.map((j) => j.createdAtMs);
    assert.deepEqual(
      created,
      created.toSorted((a, b) => b - a),
    );
    // Pages of the merged listing, cursor passed back, add up to the whole.
    const paged: string[] = [];
    let cursor = '';
    do {
      const page = await c.listJobs({ limit: 7, cursor });
      paged.push(...page.jobs.map((j) => j.id));
      cursor = page.nextCursor;
    } while (cursor !== '');
    assert.deepEqual(
      paged,
      jobs.map((j) => j.id),
    );
    const err = await failure(c.listJobs({ type: 'echo' }));
    assert.deepEqual([err.code, err.gafferCode], [status.PERMISSION_DENIED, 'GAFFER_FORBIDDEN']);
  });

  test('failed authentications past auth.failedAuthLimit → RESOURCE_EXHAUSTED, even with a good key', async () => {
    const limited = await secure({ max: 2, timeWindowMs: 600_000 });
    try {
      for (let i = 0; i < 2; i++) {
        const err = await failure(clientAs('wrong', limited).getJob(heldJob));
        assert.equal(err.code, status.UNAUTHENTICATED);
      }
      const err = await failure(clientAs('operator', limited).getJob(heldJob));
      assert.deepEqual(
        [err.code, err.gafferCode],
        [status.RESOURCE_EXHAUSTED, 'GAFFER_RATE_LIMITED'],
      );
      assert.ok((err.details as { retryAfterSeconds: number }).retryAfterSeconds > 0);
    } finally {
      await limited.close();
    }
  });
});

test('`gaffer up` with server.grpcPort serves gRPC and stops with it', async () => {
  const { args } = gafferDir('gaffer-grpc-', [
    'server: { grpcPort: 0 }',
    'autoscaler: { intervalMs: 100 }',
    'jobTypes:',
    '  echo: { worker: { command: [cat] }, scaling: { max: 1 } }',
  ]);
  const child = spawn(process.execPath, ['src/cli/main.ts', 'up', '--port', '0', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /gRPC on (\S+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`gaffer exited (${code}) before serving gRPC`)));
    });
    const c = createGrpcClient({ address });
    try {
      assert.equal(await c.health(), 'SERVING');
      const { job } = await c.submitJob({ type: 'echo', payloadJson: '{"up":true}' });
      const states = await collect(c.watchJob(job.id));
      assert.equal(states.at(-1)?.resultJson, '{"up":true}');
    } finally {
      c.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
