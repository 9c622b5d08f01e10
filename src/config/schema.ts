import Type, { type Static } from 'typebox';

/**
 * The configuration schema: the source of truth for job types and every other setting.
 * Types are inferred from it; defaults live here, and each field says what it means.
 */

/** One failure class's overrides of the type's retry settings; absent fields inherit them. */
const ClassRetry = Type.Object(
  {
    /**
     * A failure of this class is retried only while the attempt that failed is below this (and
     * below the job's own maxAttempts, the ceiling for every class): it can lower, never raise.
     */
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    backoffMs: Type.Optional(Type.Integer({ minimum: 0 })),
    maxBackoffMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const Retry = Type.Object(
  {
    /** Attempts of any failure class; a job's own `maxAttempts` at submit replaces it. */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
    /** First backoff; doubles each attempt up to maxBackoffMs, with ±20% jitter. */
    backoffMs: Type.Integer({ minimum: 0, default: 1000 }),
    maxBackoffMs: Type.Integer({ minimum: 0, default: 60_000 }),
    /**
     * Per failure class (`application`, `infrastructure`, `timeout`, `oom`): a lower attempt limit
     * or another backoff, e.g. `{ application: { maxAttempts: 1 } }` to retry only faults of the
     * machine. Absent: every class retries alike (the behaviour before classes existed).
     */
    classes: Type.Object(
      {
        application: Type.Optional(ClassRetry),
        infrastructure: Type.Optional(ClassRetry),
        timeout: Type.Optional(ClassRetry),
        oom: Type.Optional(ClassRetry),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * A command (or Kubernetes container) exiting with one of these codes failed for good (bad
     * input, say): the job ends after that attempt, to the dead-letter queue when enabled.
     */
    nonRetryableExitCodes: Type.Array(Type.Integer({ minimum: 1, maximum: 255 }), { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

const Scaling = Type.Object(
  {
    min: Type.Integer({ minimum: 0, default: 0 }),
    max: Type.Integer({ minimum: 0, default: 5 }),
    /** Backlog (ready jobs) over this starts workers in bursts of `burst`. */
    threshold: Type.Integer({ minimum: 0, default: 40 }),
    /** Most workers started in one decision when the backlog is over `threshold`. */
    burst: Type.Integer({ minimum: 1, default: 5 }),
    /**
     * Jobs (ready + in flight) per worker before another starts (as KEDA's queue length per
     * replica). Absent: the worker's concurrency.
     */
    targetPerWorker: Type.Optional(Type.Integer({ minimum: 1 })),
    /** A worker idle this long may be retired, never while jobs are ready. */
    idleSeconds: Type.Number({ minimum: 0, default: 30 }),
    /**
     * Rate term: size the pool from the arrival rate and the observed run time (p50) so that the
     * backlog drains within this many seconds, and scale out straight to that size instead of
     * `burst` steps. 0 turns it off (one worker at a time, `burst` over `threshold`). Absent: 30.
     */
    drainTargetSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    /** Scale out to the lowest desired count of this window (HPA's scale-up window). Absent: 0. */
    scaleUpStabilizationSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    /** Scale in no lower than the highest desired count of this window. Absent: 0. */
    scaleDownStabilizationSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    /** The last worker goes only this long after the type's last job ended. Absent: idleSeconds. */
    scaleToZeroSeconds: Type.Optional(Type.Number({ minimum: 0 })),
    /** Global capacity (`autoscaler.capacity`) goes to higher priority first. Absent: 0. */
    priority: Type.Optional(Type.Integer()),
    /** …then in proportion to weight among equal priorities. Absent: 1. */
    weight: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false, default: {} },
);

/** Kubernetes quantities, e.g. cpu "500m" or "2", memory "512Mi" or "4Gi". */
const Cpu = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?m?$' });
const Memory = Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$' });
const Quantities = Type.Object(
  { cpu: Type.Optional(Cpu), memory: Type.Optional(Memory) },
  { additionalProperties: false, default: {} },
);

const Worker = Type.Object(
  {
    /** A command run once per job: payload on stdin and in $GAFFER_PAYLOAD_FILE; result on stdout or $GAFFER_RESULT_FILE. */
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    /** A TypeScript/JavaScript module whose default export handles a job, `path` or `path#export`. */
    handler: Type.Optional(Type.String({ minLength: 1 })),
    /** Container image (Kubernetes executor); a bare type map's `image`. */
    image: Type.Optional(Type.String({ minLength: 1 })),
    /** The job's environment: a command's, a handler's worker process's, a container's. */
    env: Type.Record(Type.String(), Type.String(), { default: {} }),
    cwd: Type.Optional(Type.String()),
    /**
     * What one local worker of this type takes of the machine (a pool worker: all its slots), so
     * the autoscaler starts no more than `executor.local` fits. Absent: not counted, no limit.
     */
    resources: Type.Optional(
      Type.Object(
        { cpu: Type.Optional(Cpu), memory: Type.Optional(Memory) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Toleration = Type.Object(
  {
    key: Type.Optional(Type.String()),
    operator: Type.Optional(Type.Union([Type.Literal('Exists'), Type.Literal('Equal')])),
    value: Type.Optional(Type.String()),
    effect: Type.Optional(
      Type.Union([
        Type.Literal('NoSchedule'),
        Type.Literal('PreferNoSchedule'),
        Type.Literal('NoExecute'),
      ]),
    ),
  },
  { additionalProperties: false },
);

/** How a job of this type runs on the Kubernetes executor (per-job: a Job; pool: worker pods). */
const Kubernetes = Type.Object(
  {
    resources: Type.Object(
      { requests: Quantities, limits: Quantities },
      { additionalProperties: false, default: {} },
    ),
    /**
     * After an attempt is OOMKilled, the next one gets the next rung as its memory request and
     * limit (a retry with more memory); past the last rung it stays there.
     */
    memoryLadder: Type.Array(Memory, { default: [] }),
    /** GPUs per job (`nvidia.com/gpu`); such pods also get `gpuNodeSelector` and a toleration. */
    gpus: Type.Integer({ minimum: 0, default: 0 }),
    gpuNodeSelector: Type.Record(Type.String(), Type.String(), {
      default: { 'nvidia.com/gpu.present': 'true' },
    }),
    nodeSelector: Type.Record(Type.String(), Type.String(), { default: {} }),
    tolerations: Type.Array(Toleration, { default: [] }),
    /** Environment variables read from Secrets: NAME → { secret, key } (never in the config). */
    secretEnv: Type.Record(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      Type.Object(
        { secret: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
      { default: {} },
    ),
    serviceAccountName: Type.Optional(Type.String({ minLength: 1 })),
    /** Added to the pod's labels and annotations (cost allocation, mesh sidecars, …). */
    podLabels: Type.Record(Type.String(), Type.String(), { default: {} }),
    podAnnotations: Type.Record(Type.String(), Type.String(), { default: {} }),
    /** Finished Jobs are deleted by Kubernetes this long after they end. */
    ttlSecondsAfterFinished: Type.Integer({ minimum: 0, default: 300 }),
    /**
     * activeDeadlineSeconds = the job's timeout + this: room for scheduling, image pull and the
     * worker's own kill grace, so gaffer's timeout fires first and the deadline is the backstop
     * (invariant 7).
     */
    deadlineSlackSeconds: Type.Integer({ minimum: 1, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);

/** The Kubernetes executor's own settings: where Jobs go and how hard gaffer may push the API. */
const KubernetesExecutor = Type.Object(
  {
    namespace: Type.String({ minLength: 1, default: 'default' }),
    /** A kubeconfig file; absent: in-cluster service account, else $KUBECONFIG / ~/.kube/config. */
    kubeconfig: Type.Optional(Type.String({ minLength: 1 })),
    /** Client-side rate limit on API calls (client-go's --kube-api-qps / --kube-api-burst). */
    qps: Type.Number({ exclusiveMinimum: 0, default: 20 }),
    burst: Type.Integer({ minimum: 1, default: 40 }),
    /** The cap on jobs in flight across all types; per type it is `scaling.max`. */
    maxJobs: Type.Optional(Type.Integer({ minimum: 1 })),
    /** How gaffer keeps from creating far more Jobs than the cluster can place (admission.ts). */
    admission: Type.Object(
      {
        /**
         * At most this many of gaffer's pods wait for a node at once: the scheduler's verdict,
         * namespace-scoped. null: no limit.
         */
        maxUnscheduled: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: 20 }),
        /**
         * Also create a Job only while the nodes' free allocatable fits its requests (admission.ts).
         * Needs list/watch on nodes, a cluster-scoped right (deploy/kubernetes/node-reader.yaml).
         */
        nodes: Type.Boolean({ default: false }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Pool mode: the Secret (and its key) holding the worker token that worker pods present at
     * /v1/workers/connect; gaffer's own `server.workerToken` must hold the same value.
     */
    workerTokenSecret: Type.Object(
      {
        name: Type.String({ minLength: 1, default: 'gaffer-worker' }),
        key: Type.String({ minLength: 1, default: 'token' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const JobTypeSchema = Type.Object(
  {
    queue: Type.Optional(Type.String({ minLength: 1 })),
    description: Type.Optional(Type.String()),
    /** pool: long-lived workers pull jobs; per-job: one process (or Kubernetes Job) per job. */
    mode: Type.Union([Type.Literal('pool'), Type.Literal('per-job')], { default: 'pool' }),
    worker: Worker,
    /** Jobs one pool worker runs at once. */
    concurrency: Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 300 }),
    priority: Type.Integer({ default: 0 }),
    retry: Retry,
    scaling: Scaling,
    /** JSON Schema every payload of this type must match. */
    payloadSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Keep jobs that exhaust their attempts in the dead-letter queue (else they end `failed`). */
    deadLetter: Type.Boolean({ default: true }),
    kubernetes: Kubernetes,
    /**
     * A submission's `timeoutSeconds` above this is refused (GAFFER_TIMEOUT_TOO_LONG). Absent:
     * no ceiling. The ad-hoc type takes `adhoc.maxTimeoutSeconds`.
     */
    maxTimeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);

/**
 * Ad-hoc commands (`gaffer run --image busybox --cmd "echo Hello World"`, POST /v1/run):
 * a job type gaffer defines itself, whose jobs carry their shell command (and image) in the
 * payload (src/worker/adhoc.ts). Off by default: whoever may submit it runs any command — on the
 * local executor a shell on gaffer's machine, as gaffer's user (docs/security.md).
 */
const Adhoc = Type.Object(
  {
    enabled: Type.Boolean({ default: false }),
    /** The job type's name (its queue, metrics, key scopes); must not be a configured type. */
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$', default: 'adhoc' }),
    /** The image of a submission that names none (Kubernetes; recorded only, locally). */
    image: Type.String({ minLength: 1, default: 'busybox' }),
    /**
     * Images a submission may name besides `image`: glob patterns (`*` stops at `/`), e.g.
     * `busybox:*` or `registry.example.com/tools/*`. Checked on every executor.
     */
    allowedImages: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** A submission's timeout when it gives none (capped by maxTimeoutSeconds). */
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 60 }),
    /** A submission asking for more is refused (GAFFER_TIMEOUT_TOO_LONG). */
    maxTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 3600 }),
    /** Retries: a command is not known to be safe to run twice, so one attempt by default. */
    retry: Type.Object(Retry.properties, {
      additionalProperties: false,
      default: { maxAttempts: 1 },
    }),
    /** `scaling.max` is how many ad-hoc commands run at once (one worker, or Job, each). */
    scaling: Scaling,
    kubernetes: Kubernetes,
  },
  { additionalProperties: false, default: {} },
);

const Condition = Type.Object(
  {
    /** A payload or attribute field, e.g. `latency_sensitive`. */
    field: Type.Optional(Type.String()),
    equals: Type.Optional(Type.Unknown()),
    /** Compared with the field, or with the cost when no field is given. */
    above: Type.Optional(Type.Number()),
    atMost: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

export const RouteRuleSchema = Type.Object(
  { when: Type.Optional(Condition), type: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

const Cost = Type.Object(
  {
    rowsPerUnit: Type.Number({ exclusiveMinimum: 0, default: 1_000_000 }),
    secondsPerUnit: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    highPriorityFactor: Type.Number({ exclusiveMinimum: 0, default: 1.5 }),
  },
  { additionalProperties: false, default: {} },
);

/** An S3-compatible server (AWS, MinIO, …) for `s3://` data references. */
const StorageS3 = Type.Object(
  {
    /** e.g. http://127.0.0.1:9000 for MinIO; absent: AWS. */
    endpoint: Type.Optional(Type.String({ minLength: 1 })),
    region: Type.Optional(Type.String({ minLength: 1 })),
    /** bucket in the path (http://host/bucket/key), as MinIO needs; AWS uses virtual hosts. */
    forcePathStyle: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * Local paths (`/abs/path`, `file:///abs/path`) as data references: off unless roots are listed.
 * A reference must name a root or a path below one; gaffer checks that at submit (lexically) and
 * the worker again on its own filesystem, with symlinks resolved against the roots' real paths.
 */
const StorageLocal = Type.Object(
  {
    /**
     * Directories jobs may read inputs from and write outputs to. Relative paths are resolved
     * against the working directory when the config is loaded. Default: none, so no job can name
     * a local path. A root must not contain `store.dataDir` (the job store and the scratch files
     * of other jobs).
     */
    roots: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  },
  { additionalProperties: false, default: {} },
);

/**
 * How much of the past the store keeps (jobs/retention.ts). Every limit is off by default: records,
 * results and logs are kept until an operator sets one. Enforced by a sweep every `sweepMs`.
 */
const Retention = Type.Object(
  {
    sweepMs: Type.Integer({ minimum: 1000, default: 60_000 }),
    /** Ended jobs (with their logs) are deleted this many days after they ended. */
    maxAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** At most this many ended jobs are kept; those that ended first are deleted first. */
    maxJobs: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * Whether dead-lettered jobs count as ended for the two limits above. Default false: they wait
     * for an operator to replay them, however old.
     */
    deadLetters: Type.Boolean({ default: false }),
    /**
     * A job's log is cut to its newest lines that fit in this many bytes (UTF-8), under a marker
     * line saying earlier lines were dropped. Checked each sweep, so a log may overshoot between.
     */
    logBytesPerJob: Type.Optional(Type.Integer({ minimum: 1024 })),
    /**
     * A result whose JSON is larger is stored as `{ truncated: true, bytes, limit }` instead,
     * when the job succeeds.
     */
    resultBytes: Type.Optional(Type.Integer({ minimum: 64 })),
  },
  { additionalProperties: false, default: {} },
);

/**
 * Names gaffer gives callers without a key — every caller with auth off, a program using the
 * library — in the audit log and the scope of idempotency keys; no key may take one.
 */
export const RESERVED_KEY_IDS: ReadonlySet<string> = new Set(['anonymous', 'library']);

/**
 * One API key (docs/security.md). The key itself is never configured, only `sha256:<hex>` of it:
 * `gaffer keys create` prints both. The id is the part of the key that selects this entry.
 */
export const ApiKeySchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }),
    hash: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('submitter'), Type.Literal('operator')]),
    /** The job types this key may submit and see; absent: every type. */
    types: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);

/**
 * API authentication (docs/security.md). On when at least one key is configured (here or
 * in GAFFER_API_KEYS); off otherwise, so the one-machine default on 127.0.0.1 needs no setup.
 */
const Auth = Type.Object(
  {
    keys: Type.Array(ApiKeySchema, { default: [] }),
    /** A dashboard session (POST /v1/session) ends this long after login. */
    sessionTtlMs: Type.Integer({ minimum: 1000, default: 12 * 3600 * 1000 }),
    /**
     * Requests per key (per IP when anonymous) per window. Absent: 6000 a minute when auth is on,
     * no limit when it is off. A batch or a CSV upload is one request.
     */
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({ minimum: 1 }),
          timeWindowMs: Type.Integer({ minimum: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Failed authentications per client IP per window, beyond which it is answered 429. */
    failedAuthLimit: Type.Object(
      {
        max: Type.Integer({ minimum: 1, default: 30 }),
        timeWindowMs: Type.Integer({ minimum: 1, default: 60_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        /**
         * Listen on a non-loopback `host` with no API key configured (auth off: every caller is
         * the operator of every type). Refused unless this is true (src/api/auth/exposure.ts).
         */
        allowUnauthenticated: Type.Boolean({ default: false }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        /** Largest CSV upload accepted. */
        uploadLimitBytes: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024 }),
        /** Largest JSON body accepted. */
        bodyLimitBytes: Type.Integer({ minimum: 1, default: 16 * 1024 * 1024 }),
        maxBatchJobs: Type.Integer({ minimum: 1, default: 1_000_000 }),
        /** A request's headers must arrive within this (408 GAFFER_REQUEST_TIMEOUT, then closed). */
        headersTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
        /**
         * A request's body must arrive whole within this of its headers (408, then closed), on
         * every route but the uploads: 16 MiB of JSON at 2.2 Mbit/s. A body still arriving after
         * the request was refused (a 401) is cut as soon as the answer is sent.
         */
        requestTimeoutMs: Type.Integer({ minimum: 1, default: 60_000 }),
        /**
         * Uploads (POST /v1/batches, /upload) may run long: one is cut (408) when no byte of it
         * arrives for this long (detected within twice this), while gaffer is waiting for it.
         */
        uploadIdleTimeoutMs: Type.Integer({ minimum: 1, default: 30_000 }),
        /**
         * The longest any request may take to arrive, an upload included (408): 512 MiB at
         * 1.2 Mbit/s.
         */
        uploadTimeoutMs: Type.Integer({ minimum: 1, default: 3_600_000 }),
        /**
         * An idle keep-alive connection is closed after this. Above the 60 s idle timeout of
         * common load balancers, so they never reuse a connection gaffer is closing.
         */
        keepAliveTimeoutMs: Type.Integer({ minimum: 1, default: 72_000 }),
        /**
         * Open HTTP connections at most (API clients, dashboards' event streams and remote workers'
         * WebSockets together); past it a new connection is closed at once.
         */
        maxConnections: Type.Integer({ minimum: 1, default: 10_000 }),
        /**
         * Origins (`https://gaffer.example.com`) besides gaffer's own whose pages may send it
         * state-changing requests without a key (the dashboard behind a proxy that rewrites Host
         * and sets no X-Forwarded-Host). Others are refused: 403 GAFFER_CROSS_ORIGIN.
         */
        allowedOrigins: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        /**
         * Workers on other machines connect to /v1/workers/connect with this bearer token. Absent:
         * remote workers are refused (local workers never need it).
         */
        workerToken: Type.Optional(Type.String({ minLength: 16 })),
        /**
         * The gRPC API (gaffer.v1.Gaffer, docs/grpc.md) listens on this port, on `host`; 0: a free
         * port. Absent: no gRPC server.
         */
        grpcPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      },
      { additionalProperties: false, default: {} },
    ),
    store: Type.Object(
      {
        /** sqlite: the embedded file (the default); postgres: a server shared by gaffer replicas. */
        kind: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { default: 'sqlite' }),
        /** postgres://… when kind is postgres. */
        url: Type.Optional(Type.String({ minLength: 1 })),
        /** Directory of the SQLite file and per-job scratch files. */
        dataDir: Type.String({ default: '.gaffer' }),
        /** FULL survives power loss; NORMAL only a process crash. */
        synchronous: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], {
          default: 'FULL',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    broker: Type.Object(
      {
        /**
         * none: the embedded store is the queue (the default, fastest on one machine). embedded:
         * a SQLite broker file; rabbitmq / redis: a server at `url`.
         */
        kind: Type.Union(
          [
            Type.Literal('none'),
            Type.Literal('embedded'),
            Type.Literal('rabbitmq'),
            Type.Literal('redis'),
          ],
          { default: 'none' },
        ),
        /** amqp://… or redis://…; for embedded, the file (default: <dataDir>/broker.db). */
        url: Type.Optional(Type.String({ minLength: 1 })),
        /**
         * A job due this long with no ready message for it in the broker is published again
         * (checked on every lease sweep; see src/jobs/republish.ts).
         */
        republishAfterMs: Type.Integer({ minimum: 0, default: 30_000 }),
        /**
         * Redis and embedded brokers: a delivery whose consumer stopped refreshing it (its worker
         * died, froze or lost the broker) goes to another consumer after this long. Live
         * consumers refresh what they hold, so it bounds detection, not a job's length.
         */
        visibilityTimeoutMs: Type.Integer({ minimum: 100, default: 30_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    executor: Type.Object(
      {
        /**
         * Where workers run. local: processes on this machine (the default). kubernetes: per-job
         * types as one batch/v1 Job per attempt in `kubernetes.namespace`; a type needs
         * `worker.image` there (src/executors/kubernetes/).
         */
        kind: Type.Union([Type.Literal('local'), Type.Literal('kubernetes')], { default: 'local' }),
        kubernetes: KubernetesExecutor,
        /**
         * The local executor's capacity, shared by the workers of every type that declares
         * `worker.resources`. Absent: this machine's CPUs (os.availableParallelism) and memory.
         */
        local: Type.Object(
          { cpus: Type.Optional(Cpu), memory: Type.Optional(Memory) },
          { additionalProperties: false, default: {} },
        ),
        /**
         * How gaffer starts its workers. ipc: child processes on a Node IPC channel (the default).
         * network: `gaffer worker` processes that connect back to the API over a WebSocket,
         * knowing only gaffer's address, a worker token and the broker's address.
         */
        transport: Type.Union([Type.Literal('ipc'), Type.Literal('network')], { default: 'ipc' }),
        /** The API address network workers connect to; default: the address gaffer listens on. */
        gafferUrl: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    autoscaler: Type.Object(
      {
        intervalMs: Type.Integer({ minimum: 10, default: 1000 }),
        /**
         * Workers of all types at once, shared by scaling priority then weight (each type's `max`
         * caps its own share). Absent: unlimited.
         */
        capacity: Type.Optional(Type.Integer({ minimum: 0 })),
        /**
         * With a shared store, one gaffer runs the autoscaler: the holder of a lease this long,
         * renewed every third of it. Another takes over within this time when the holder dies.
         */
        leaderTtlMs: Type.Integer({ minimum: 100, default: 10_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    leases: Type.Object(
      {
        /** A worker that misses heartbeats this long loses its jobs. */
        ttlMs: Type.Integer({ minimum: 100, default: 30_000 }),
        /** How often expired leases are swept; must be below ttlMs (invariant 7). */
        sweepMs: Type.Integer({ minimum: 10, default: 5_000 }),
      },
      { additionalProperties: false, default: {} },
    ),
    retention: Retention,
    jobTypes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), JobTypeSchema, {
      default: {},
    }),
    routes: Type.Object(
      {
        cost: Cost,
        /** First match wins; absent: the default cost rules (when actor, spark, ml and batch exist). */
        rules: Type.Optional(Type.Array(RouteRuleSchema)),
        /**
         * The type of every row of a CSV upload that names none (`?type=`, `gaffer upload
         * --type`). Absent: each row is routed by the rules like an untyped submission.
         */
        uploadType: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    storage: Type.Object(
      {
        /**
         * Where `s3://` data references go. Absent fields: the AWS SDK's defaults (AWS_REGION,
         * AWS_ENDPOINT_URL_S3, …). Credentials are never configured here: workers take them from
         * the standard AWS environment variables or the SDK's default chain.
         */
        s3: Type.Optional(StorageS3),
        local: StorageLocal,
        /**
         * The most files a job's inputs may bring in (every input together, local or s3), and
         * the most its output may write; a local directory walk counts every entry it meets
         * (directories and links too). Over it, the attempt fails and is not retried.
         */
        maxFilesPerJob: Type.Integer({ minimum: 1, default: 10_000 }),
        /** The most bytes a job's inputs may bring in, and its output may write (1 GiB). */
        maxBytesPerJob: Type.Integer({ minimum: 1, default: 1024 ** 3 }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Auth,
    adhoc: Adhoc,
  },
  { additionalProperties: false },
);

export type GafferConfig = Static<typeof ConfigSchema>;
export type JobTypeConfig = Static<typeof JobTypeSchema> & { queue: string };
export type RouteRule = Static<typeof RouteRuleSchema>;
export type CostConfig = Static<typeof Cost>;
export type ScalingConfig = Static<typeof Scaling>;
export type S3Config = Static<typeof StorageS3>;
export type StorageConfig = GafferConfig['storage'];
export type LocalStorageConfig = Static<typeof StorageLocal>;
export type KubernetesExecutorConfig = Static<typeof KubernetesExecutor>;
export type RetryConfig = Static<typeof Retry>;
export type RetentionConfig = Static<typeof Retention>;
export type ApiKeyConfig = Static<typeof ApiKeySchema>;
export type AuthConfig = GafferConfig['auth'];
export type AdhocConfig = Static<typeof Adhoc>;
