import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ConfigError,
  loadConfigFile,
  parseConfig,
  resolveConfig,
  type ConfigProblem,
} from '../../src/config/load.ts';
import { DEFAULT_COST_RULES } from '../../src/router/classify.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The problems a config raises (fails the test if it raises none, or something else). */
function problemsOf(raw: unknown): ConfigProblem[] {
  try {
    parseConfig(raw, 'test');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

const FULL_YAML = `
server:
  port: 9090
store:
  dataDir: /tmp/gaffer-data
  synchronous: NORMAL
leases:
  ttlMs: 10000
  sweepMs: 1000
jobTypes:
  csv-row:
    queue: rows
    worker:
      command: [node, examples/csv-row.ts]
    concurrency: 4
    scaling: { max: 8, threshold: 40, burst: 5, idleSeconds: 30 }
    payloadSchema:
      type: object
      required: [email]
      properties: { email: { type: string, format: email } }
  resize:
    mode: per-job
    worker: { image: 'resizer:1', command: [resize] }
routes:
  cost: { rowsPerUnit: 500000 }
  rules:
    - when: { field: kind, equals: csv }
      type: csv-row
    - type: resize
`;

describe('loadConfigFile', () => {
  test('a full YAML file', async () => {
    const config = await loadConfigFile(write('full.yaml', FULL_YAML));
    assert.equal(config.server.port, 9090);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.store.synchronous, 'NORMAL');
    assert.deepEqual(Object.keys(config.jobTypes), ['csv-row', 'resize']);
    const row = config.jobTypes['csv-row'];
    assert.equal(row?.queue, 'rows');
    assert.equal(row?.concurrency, 4);
    assert.equal(row?.scaling.max, 8);
    assert.equal(row?.scaling.min, 0);
    assert.equal(config.jobTypes['resize']?.queue, 'resize');
    assert.equal(config.jobTypes['resize']?.mode, 'per-job');
    assert.deepEqual(config.routes.cost, {
      rowsPerUnit: 500_000,
      secondsPerUnit: 10,
      highPriorityFactor: 1.5,
    });
    assert.equal(config.routes.rules.length, 2);
  });

  test('the bare type-map format (jobs.config.json)', async () => {
    const file = write(
      'jobs.config.json',
      JSON.stringify({
        'new-job': {
          queue: 'queue_new',
          image: 'worker-new:latest',
          command: ['run'],
          threshold: 10,
        },
        'local-job': { command: 'echo hi', max_workers: 3, min_workers: 1 },
      }),
    );
    const config = await loadConfigFile(file);
    const newJob = config.jobTypes['new-job'];
    assert.equal(newJob?.queue, 'queue_new');
    assert.equal(newJob?.worker.image, 'worker-new:latest');
    assert.equal(newJob?.scaling.threshold, 10);
    assert.equal(newJob?.scaling.burst, 5);
    const local = config.jobTypes['local-job'];
    assert.deepEqual(local?.worker.command, ['sh', '-c', 'echo hi']);
    assert.equal(local?.queue, 'local-job');
    assert.deepEqual([local?.scaling.min, local?.scaling.max], [1, 3]);
    assert.equal(config.server.port, 8080);
  });

  test('an unparsable file is a ConfigError naming the file', async () => {
    const file = write('broken.json', '{"a": ');
    await assert.rejects(loadConfigFile(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /broken\.json/);
      return true;
    });
  });
});

describe('parseConfig problems', () => {
  test('a file with 3 separate errors yields 3 problems, each with its path', () => {
    const file = write(
      'three.yaml',
      `
jobTypes:
  csv-row:
    worker: { command: [x] }
    scaling: { max: -1 }
    mode: sometimes
server:
  prot: 80
`,
    );
    return assert.rejects(loadConfigFile(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.path).sort(),
        ['/jobTypes/csv-row/mode', '/jobTypes/csv-row/scaling/max', '/server/prot'].sort(),
      );
      assert.match(err.message, /\/jobTypes\/csv-row\/mode: must be one of "pool", "per-job"/);
      assert.equal(err.message.split('\n').length, 4);
      return true;
    });
  });

  const cases: [string, unknown, ConfigProblem[]][] = [
    [
      'a key limit that limits nothing',
      { jobTypes: { a: { worker: { command: ['x'] }, keyLimit: { key: 'payload.tenant' } } } },
      [{ path: '/jobTypes/a/keyLimit', message: 'give running, or starts with perSeconds' }],
    ],
    [
      'key starts without a window',
      {
        jobTypes: {
          a: { worker: { command: ['x'] }, keyLimit: { key: 'payload.tenant', starts: 5 } },
        },
      },
      [{ path: '/jobTypes/a/keyLimit', message: 'give starts and perSeconds together' }],
    ],
    [
      'a key that is neither in the payload nor in the attributes',
      { jobTypes: { a: { worker: { command: ['x'] }, keyLimit: { key: 'tenant', running: 1 } } } },
      [
        {
          path: '/jobTypes/a/keyLimit/key',
          message: 'must match pattern "^(payload|attributes)(\\.[^.]+)+$"',
        },
      ],
    ],
    [
      'a ttl dedup without its window',
      { jobTypes: { a: { worker: { command: ['x'] }, dedup: { mode: 'ttl' } } } },
      [{ path: '/jobTypes/a/dedup', message: 'mode ttl needs ttlSeconds' }],
    ],
    [
      "a live dedup with another mode's window",
      {
        jobTypes: { a: { worker: { command: ['x'] }, dedup: { mode: 'live', ttlSeconds: 5 } } },
      },
      [{ path: '/jobTypes/a/dedup/ttlSeconds', message: 'is not for mode live' }],
    ],
    [
      'a worker with nothing to run',
      { jobTypes: { a: { worker: {} } } },
      [{ path: '/jobTypes/a/worker', message: 'needs a command, a handler or an image' }],
    ],
    [
      'both command and handler',
      { jobTypes: { a: { worker: { command: ['x'], handler: 'h.ts' } } } },
      [{ path: '/jobTypes/a/worker', message: 'give a command or a handler, not both' }],
    ],
    [
      'a missing worker',
      { jobTypes: { a: {} } },
      [{ path: '/jobTypes/a/worker', message: 'is required' }],
    ],
    [
      'min above max',
      { jobTypes: { a: { worker: { command: ['i'] }, scaling: { min: 3, max: 2 } } } },
      [{ path: '/jobTypes/a/scaling/min', message: 'must not exceed scaling.max (3 > 2)' }],
    ],
    [
      'a bad type name',
      { jobTypes: { 'bad name': { worker: { command: ['i'] } } } },
      [
        {
          path: '/jobTypes/bad name',
          message: 'a type name must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$',
        },
      ],
    ],
  ];
  for (const [name, raw, expected] of cases) {
    test(name, () => assert.deepEqual(problemsOf(raw), expected));
  }

  test('route rules must name existing types', () => {
    const problems = problemsOf({
      jobTypes: { a: { worker: { command: ['i'] } } },
      routes: { rules: [{ type: 'a' }, { when: { above: 1 }, type: 'nope' }] },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/routes/rules/1/type'],
    );
  });

  test("a local data root must not hold the store's data folder", () => {
    const problems = problemsOf({
      store: { dataDir: '/srv/gaffer/.gaffer' },
      storage: {
        local: { roots: ['/srv/data', '/srv/gaffer', '/', '/srv/gaffer/.gaffer/outputs'] },
      },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/storage/local/roots/1', '/storage/local/roots/2'],
    );
    assert.match(problems[0]!.message, /contains store\.dataDir/);
  });

  test('sweep must be below the lease TTL (invariant 7)', () => {
    const problems = problemsOf({ leases: { ttlMs: 1000, sweepMs: 1000 } });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/leases/sweepMs'],
    );
  });

  test('a server store or broker needs its URL (from the file or the environment)', async () => {
    assert.deepEqual(
      problemsOf({ store: { kind: 'postgres' }, broker: { kind: 'rabbitmq' } }).map((p) => p.path),
      ['/store/url', '/broker/url'],
    );
    assert.deepEqual(
      problemsOf({ broker: { kind: 'redis' } }).map((p) => p.path),
      ['/broker/url'],
    );
    assert.doesNotThrow(() => parseConfig({ broker: { kind: 'embedded' } }, 'test'));
    const config = await resolveConfig({
      raw: { store: { kind: 'postgres' }, broker: { kind: 'redis' } },
      env: { GAFFER_STORE_URL: 'postgres://db/gaffer', GAFFER_BROKER_URL: 'redis://r:6379' },
    });
    assert.deepEqual(
      [config.store.url, config.broker.url],
      ['postgres://db/gaffer', 'redis://r:6379'],
    );
  });

  test('a retry class limit may lower the type limit, never raise it', () => {
    const retry = (classes: object) => ({
      jobTypes: { a: { worker: { command: ['i'] }, retry: { maxAttempts: 3, classes } } },
    });
    assert.doesNotThrow(() =>
      parseConfig(retry({ application: { maxAttempts: 3 }, oom: { maxAttempts: 1 } }), 'test'),
    );
    assert.deepEqual(
      problemsOf(retry({ infrastructure: { maxAttempts: 5 } })).map((p) => p.path),
      ['/jobTypes/a/retry/classes/infrastructure/maxAttempts'],
    );
    assert.deepEqual(
      problemsOf(retry({ fatal: { maxAttempts: 1 } })).map((p) => p.path),
      ['/jobTypes/a/retry/classes/fatal'],
      'only the four classes',
    );
  });

  test('a payload schema must compile', () => {
    const problems = problemsOf({
      jobTypes: { a: { worker: { command: ['i'] }, payloadSchema: { type: 'no-such-type' } } },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/jobTypes/a/payloadSchema'],
    );
  });

  test('a type with only an image: refused on the local executor, which could not run it', () => {
    const problems = problemsOf({ jobTypes: { render: { worker: { image: 'render:1' } } } });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/jobTypes/render/worker'],
    );
    assert.match(problems[0]!.message, /only an image.*executor\.kind: kubernetes/);
    assert.match(problems[0]!.message, /command or a handler/);
    // A bare type map: the same refusal, not jobs that wait for ever.
    const bare = problemsOf({ 'new-job': { queue: 'q', image: 'worker-new:latest' } });
    assert.deepEqual(
      bare.map((p) => p.path),
      ['/jobTypes/new-job/worker'],
    );
    // On Kubernetes the image is what runs; locally an image beside a command is only recorded.
    const k8s = { kind: 'kubernetes' };
    assert.doesNotThrow(() =>
      parseConfig({ executor: k8s, jobTypes: { render: { worker: { image: 'r:1' } } } }, 't'),
    );
    assert.doesNotThrow(() =>
      parseConfig({ jobTypes: { render: { worker: { image: 'r:1', command: ['r'] } } } }, 't'),
    );
  });

  test("a type's own executor: kubernetes needs the Kubernetes executor configured", () => {
    const heavy = { executor: 'kubernetes', mode: 'per-job', worker: { image: 'heavy:1' } };
    const light = { worker: { command: ['light'] } };
    const problems = problemsOf({ jobTypes: { heavy, light } });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/jobTypes/heavy/executor'],
    );
    assert.match(problems[0]!.message, /executor\.kubernetes/);
    // With an `executor.kubernetes` section, the light type runs locally and the heavy one there.
    const executor = { kubernetes: { namespace: 'jobs' } };
    const config = parseConfig({ executor, jobTypes: { heavy, light } }, 't');
    assert.equal(config.jobTypes['heavy']!.executor, 'kubernetes');
    assert.equal(config.executor.kind, 'local');
    // On Kubernetes by default, a type may still run locally: then it needs a command or handler.
    const k8s = { kind: 'kubernetes' };
    assert.doesNotThrow(() => parseConfig({ executor: k8s, jobTypes: { light } }, 't'));
    const imageOnly = { executor: 'local', worker: { image: 'x:1' } };
    assert.deepEqual(
      problemsOf({ executor: k8s, jobTypes: { imageOnly } }).map((p) => p.path),
      ['/jobTypes/imageOnly/worker'],
    );
    // A type naming kubernetes runs an image there.
    const noImage = { executor: 'kubernetes', worker: { command: ['x'] } };
    assert.deepEqual(
      problemsOf({ executor: k8s, jobTypes: { noImage } }).map((p) => p.path),
      ['/jobTypes/noImage/worker'],
    );
  });

  test('routes.uploadType must name a job type', () => {
    const jobTypes = { 'csv-row': { worker: { command: ['x'] } } };
    assert.equal(
      parseConfig({ jobTypes, routes: { uploadType: 'csv-row' } }, 't').routes.uploadType,
      'csv-row',
    );
    assert.equal(parseConfig({ jobTypes }, 't').routes.uploadType, undefined);
    assert.deepEqual(
      problemsOf({ jobTypes, routes: { uploadType: 'csv' } }).map((p) => p.path),
      ['/routes/uploadType'],
    );
  });

  test('semantic and schema problems are reported together', () => {
    const problems = problemsOf({
      jobTypes: { a: { worker: {}, concurrency: 0 } },
      leases: { ttlMs: 1000, sweepMs: 5000 },
    });
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      '/jobTypes/a/concurrency',
      '/jobTypes/a/worker',
      '/leases/sweepMs',
    ]);
  });
});

describe('defaults and routes', () => {
  test('no file: defaults everywhere and no job types', async () => {
    const config = await resolveConfig({ env: {} });
    assert.deepEqual(config.jobTypes, {});
    assert.deepEqual(config.routes.rules, []);
    assert.equal(config.server.port, 8080);
    assert.equal(config.store.dataDir, '.gaffer');
    assert.equal(config.store.synchronous, 'FULL');
    assert.deepEqual(config.leases, { ttlMs: 30_000, sweepMs: 5_000 });
    assert.equal(config.autoscaler.intervalMs, 1000);
    // No local paths unless an operator lists roots; explicit per-job caps.
    assert.deepEqual(config.storage, {
      local: { roots: [] },
      maxFilesPerJob: 10_000,
      maxBytesPerJob: 1024 ** 3,
    });
  });

  test('local data roots are made absolute against the working directory at load', () => {
    const config = parseConfig(
      { storage: { local: { roots: ['examples/data', '/srv/x/'] } } },
      't',
    );
    assert.deepEqual(config.storage.local.roots, [path.resolve('examples/data'), '/srv/x']);
  });

  test('a type gets every default', () => {
    const config = parseConfig({ jobTypes: { t: { worker: { handler: 'h.ts' } } } }, 'test');
    assert.deepEqual(config.jobTypes['t'], {
      queue: 't',
      mode: 'pool',
      worker: { handler: 'h.ts', env: {} },
      concurrency: 1,
      timeoutSeconds: 300,
      priority: 0,
      retry: {
        maxAttempts: 3,
        backoffMs: 1000,
        maxBackoffMs: 60_000,
        classes: {},
        nonRetryableExitCodes: [],
      },
      scaling: { min: 0, max: 5, threshold: 40, burst: 5, idleSeconds: 30 },
      deadLetter: true,
      kubernetes: {
        resources: { requests: {}, limits: {} },
        memoryLadder: [],
        gpus: 0,
        gpuNodeSelector: { 'nvidia.com/gpu.present': 'true' },
        nodeSelector: {},
        tolerations: [],
        secretEnv: {},
        podLabels: {},
        podAnnotations: {},
        ttlSecondsAfterFinished: 300,
        deadlineSlackSeconds: 60,
      },
    });
  });

  test('parseConfig does not mutate its input', () => {
    const raw = { jobTypes: { t: { worker: { command: ['i'] } } } };
    parseConfig(raw, 'test');
    assert.deepEqual(raw, { jobTypes: { t: { worker: { command: ['i'] } } } });
  });

  const typesOf = (names: string[]) =>
    Object.fromEntries(names.map((n) => [n, { worker: { command: [n] } }]));

  test('routes default to the cost rules when actor, spark, ml and batch exist', () => {
    const config = parseConfig({ jobTypes: typesOf(['actor', 'spark', 'ml', 'batch']) }, 't');
    assert.deepEqual(config.routes.rules, DEFAULT_COST_RULES);
  });

  test('routes default to none when one of those types is missing', () => {
    const config = parseConfig({ jobTypes: typesOf(['actor', 'spark', 'ml']) }, 't');
    assert.deepEqual(config.routes.rules, []);
  });

  test('explicit rules win, even an empty list', () => {
    const jobTypes = typesOf(['actor', 'spark', 'ml', 'batch']);
    assert.deepEqual(parseConfig({ jobTypes, routes: { rules: [] } }, 't').routes.rules, []);
    const rules = [{ type: 'ml' }];
    assert.deepEqual(parseConfig({ jobTypes, routes: { rules } }, 't').routes.rules, rules);
  });
});

describe('layering: defaults < file < env < overrides', () => {
  const file = write(
    'layers.yaml',
    'server: { port: 9000, host: 0.0.0.0 }\nstore: { dataDir: from-file, synchronous: FULL }\n',
  );

  test('the file over defaults', async () => {
    const config = await resolveConfig({ file, env: {} });
    assert.deepEqual([config.server.port, config.server.host], [9000, '0.0.0.0']);
    assert.equal(config.store.dataDir, 'from-file');
  });

  test('the environment over the file', async () => {
    const env = {
      GAFFER_PORT: '9100',
      GAFFER_HOST: '10.0.0.1',
      GAFFER_DATA_DIR: 'from-env',
      GAFFER_SYNCHRONOUS: 'normal',
      GAFFER_WORKER_TOKEN: 'from-a-kubernetes-secret',
      GAFFER_GRPC_PORT: '0',
    };
    const config = await resolveConfig({ file, env });
    assert.equal(config.server.grpcPort, 0, 'GAFFER_GRPC_PORT');
    assert.deepEqual([config.server.port, config.server.host], [9100, '10.0.0.1']);
    assert.deepEqual([config.store.dataDir, config.store.synchronous], ['from-env', 'NORMAL']);
    assert.equal(config.server.workerToken, 'from-a-kubernetes-secret');
  });

  test('the store and broker URLs from the environment (Secrets), over the file', async () => {
    const env = {
      GAFFER_STORE_URL: 'postgres://gaffer:pw@db:5432/gaffer',
      GAFFER_BROKER_URL: 'amqp://gaffer:pw@mq:5672',
    };
    const config = await resolveConfig({ file, env });
    assert.equal(config.store.url, env.GAFFER_STORE_URL);
    assert.equal(config.broker.url, env.GAFFER_BROKER_URL);
  });

  test('overrides over the environment', async () => {
    const config = await resolveConfig({
      file,
      env: { GAFFER_PORT: '9100', GAFFER_DATA_DIR: 'from-env' },
      overrides: { port: 9200, host: '::1', dataDir: 'from-flag' },
    });
    assert.deepEqual([config.server.port, config.server.host], [9200, '::1']);
    assert.equal(config.store.dataDir, 'from-flag');
  });

  test('layering works on a bare type map too', async () => {
    const bare = write('bare.json', '{"new-job": {"queue": "q", "command": "i"}}');
    const config = await resolveConfig({ file: bare, env: { GAFFER_PORT: '7000' } });
    assert.equal(config.server.port, 7000);
    assert.equal(config.jobTypes['new-job']?.queue, 'q');
  });

  test('a bad environment value is reported at its path', async () => {
    await assert.rejects(resolveConfig({ env: { GAFFER_PORT: 'eighty' } }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.problems.map((p) => p.path),
        ['/server/port'],
      );
      return true;
    });
  });
});
