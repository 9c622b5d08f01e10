import Type, { type Static } from 'typebox';

/**
 * The configuration schema: the source of truth for job types and every other setting.
 * Types are inferred from it; defaults live here, and each field's `description` says what it
 * means (docs/config.md is generated from them by scripts/gen-config-docs.ts).
 */

const ClassRetry = Type.Object(
  {
    maxAttempts: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description:
          'A failure of this class is retried only while the attempt that failed is below this ' +
          "(and below the job's own maxAttempts, the ceiling for every class): it can lower, " +
          'never raise.',
      }),
    ),
    backoffMs: Type.Optional(
      Type.Integer({ minimum: 0, description: "This class's first backoff. Absent: the type's." }),
    ),
    maxBackoffMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "This class's longest backoff. Absent: the type's.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "One failure class's overrides of the type's retry settings; absent fields inherit them.",
  },
);

const Retry = Type.Object(
  {
    maxAttempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 3,
      description:
        "Attempts of any failure class; a job's own `maxAttempts` at submit replaces it.",
    }),
    backoffMs: Type.Integer({
      minimum: 0,
      default: 1000,
      description: 'First backoff; doubles each attempt up to maxBackoffMs, with ±20% jitter.',
    }),
    maxBackoffMs: Type.Integer({
      minimum: 0,
      default: 60_000,
      description: 'The longest backoff between attempts.',
    }),
    classes: Type.Object(
      {
        application: Type.Optional(ClassRetry),
        infrastructure: Type.Optional(ClassRetry),
        timeout: Type.Optional(ClassRetry),
        oom: Type.Optional(ClassRetry),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Per failure class (`application`, `infrastructure`, `timeout`, `oom`): a lower attempt ' +
          'limit or another backoff, e.g. `{ application: { maxAttempts: 1 } }` to retry only ' +
          'faults of the machine. Absent: every class retries alike.',
      },
    ),
    nonRetryableExitCodes: Type.Array(Type.Integer({ minimum: 1, maximum: 255 }), {
      default: [],
      description:
        'A command (or Kubernetes container) exiting with one of these codes failed for good (bad ' +
        'input, say): the job ends after that attempt, to the dead-letter queue when enabled.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description: 'How failed attempts are retried: attempts, exponential backoff, failure classes.',
  },
);

const Scaling = Type.Object(
  {
    min: Type.Integer({ minimum: 0, default: 0, description: 'Workers kept running at least.' }),
    max: Type.Integer({ minimum: 0, default: 5, description: 'Workers of this type at most.' }),
    threshold: Type.Integer({
      minimum: 0,
      default: 40,
      description: 'Backlog (ready jobs) over this starts workers in bursts of `burst`.',
    }),
    burst: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'Most workers started in one decision when the backlog is over `threshold`.',
    }),
    targetPerWorker: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "Jobs (ready + in flight) per worker before another starts (as KEDA's queue length " +
          "per replica). Absent: the worker's concurrency.",
      }),
    ),
    idleSeconds: Type.Number({
      minimum: 0,
      default: 30,
      description: 'A worker idle this long may be retired, never while jobs are ready.',
    }),
    drainTargetSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Rate term: size the pool from the arrival rate and the observed run time (p50) so ' +
          'that the backlog drains within this many seconds, and scale out straight to that ' +
          'size instead of `burst` steps. 0 turns it off (one worker at a time, `burst` over ' +
          '`threshold`). Absent: 30.',
      }),
    ),
    scaleUpStabilizationSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          "Scale out to the lowest desired count of this window (HPA's scale-up window). " +
          'Absent: 0.',
      }),
    ),
    scaleDownStabilizationSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'Scale in no lower than the highest desired count of this window. Absent: 0.',
      }),
    ),
    headroom: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Scale-in keeps the workers the measured demand needs: with a = arrivals/s × mean run ' +
          'time, ceil((a + headroom × √a) ÷ concurrency) (square-root staffing: 2 leaves about ' +
          '3 % of arrivals finding every slot busy); workers that start in a fraction of a run ' +
          'need fewer spares, √a shrinks to √(a × min(1, 2(1 − e^(−R/S)))) with R the measured ' +
          'start-up plus one tick and S the mean run. Idle workers over that retire after a short ' +
          'grace (5 s, or idleSeconds if shorter) instead of after idleSeconds. Absent: 2.',
      }),
    ),
    demandWindowSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'Scale-in by demand keeps the highest need of this window (a short lull does not ' +
          'retire workers). Absent: 60.',
      }),
    ),
    scaleToZeroSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          "The last worker goes only this long after the type's last job ended. Absent: " +
          'idleSeconds.',
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        description:
          'Global capacity (`autoscaler.capacity`) goes to higher priority first. Absent: 0.',
      }),
    ),
    weight: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: '…then in proportion to weight among equal priorities. Absent: 1.',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description: "How the autoscaler sizes this type's workers.",
  },
);

const Cpu = Type.String({
  pattern: '^[0-9]+(\\.[0-9]+)?m?$',
  description: 'CPUs as a Kubernetes quantity, e.g. "500m" or "2".',
});
const Memory = Type.String({
  pattern: '^[0-9]+(\\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$',
  description: 'Bytes as a Kubernetes quantity, e.g. "512Mi" or "4Gi".',
});
const Quantities = Type.Object(
  { cpu: Type.Optional(Cpu), memory: Type.Optional(Memory) },
  { additionalProperties: false, default: {} },
);

const Worker = Type.Object(
  {
    command: Type.Optional(
      Type.Array(Type.String(), {
        minItems: 1,
        description:
          'A command run once per job: payload on stdin and in $GAFFER_PAYLOAD_FILE; result on ' +
          'stdout or $GAFFER_RESULT_FILE.',
      }),
    ),
    handler: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A TypeScript/JavaScript module whose default export handles a job, `path` or ' +
          '`path#export`.',
      }),
    ),
    image: Type.Optional(
      Type.String({
        minLength: 1,
        description: "Container image (Kubernetes executor); a bare type map's `image`.",
      }),
    ),
    env: Type.Record(Type.String(), Type.String(), {
      default: {},
      description:
        "The job's environment: a command's, a handler's worker process's, a container's.",
    }),
    cwd: Type.Optional(
      Type.String({ description: "The working directory of a command or a handler's process." }),
    ),
    resources: Type.Optional(
      Type.Object(
        { cpu: Type.Optional(Cpu), memory: Type.Optional(Memory) },
        {
          additionalProperties: false,
          description:
            'What one local worker of this type takes of the machine (a pool worker: all its ' +
            'slots), so the autoscaler starts no more than `executor.local` fits. Absent: not ' +
            'counted, no limit.',
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    description: 'What runs a job: a command, a handler module or a container image.',
  },
);

const Toleration = Type.Object(
  {
    key: Type.Optional(Type.String({ description: 'The taint key this toleration matches.' })),
    operator: Type.Optional(
      Type.Union([Type.Literal('Exists'), Type.Literal('Equal')], {
        description: 'Exists: any value of the key; Equal: `value` (Kubernetes default: Equal).',
      }),
    ),
    value: Type.Optional(Type.String({ description: 'The taint value, with `Equal`.' })),
    effect: Type.Optional(
      Type.Union(
        [Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')],
        { description: 'The taint effect tolerated; absent: every effect.' },
      ),
    ),
  },
  { additionalProperties: false, description: "A pod toleration, as in Kubernetes' PodSpec." },
);

const Kubernetes = Type.Object(
  {
    resources: Type.Object(
      { requests: Quantities, limits: Quantities },
      {
        additionalProperties: false,
        default: {},
        description: "The pod's cpu and memory requests and limits.",
      },
    ),
    memoryLadder: Type.Array(Memory, {
      default: [],
      description:
        'After an attempt is OOMKilled, the next one gets the next rung as its memory request ' +
        'and limit (a retry with more memory); past the last rung it stays there.',
    }),
    gpus: Type.Integer({
      minimum: 0,
      default: 0,
      description:
        'GPUs per job (`nvidia.com/gpu`); such pods also get `gpuNodeSelector` and a toleration.',
    }),
    gpuNodeSelector: Type.Record(Type.String(), Type.String(), {
      default: { 'nvidia.com/gpu.present': 'true' },
      description: 'The node selector of pods that ask for GPUs.',
    }),
    nodeSelector: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "The pod's node selector.",
    }),
    tolerations: Type.Array(Toleration, { default: [], description: "The pod's tolerations." }),
    secretEnv: Type.Record(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      Type.Object(
        {
          secret: Type.String({ minLength: 1, description: "The Secret's name." }),
          key: Type.String({ minLength: 1, description: 'The key in it.' }),
        },
        { additionalProperties: false },
      ),
      {
        default: {},
        description:
          'Environment variables read from Secrets: NAME → { secret, key } (never in the config).',
      },
    ),
    serviceAccountName: Type.Optional(
      Type.String({ minLength: 1, description: "The pod's service account." }),
    ),
    podLabels: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "Added to the pod's labels (cost allocation, mesh sidecars, …).",
    }),
    podAnnotations: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: "Added to the pod's annotations.",
    }),
    ttlSecondsAfterFinished: Type.Integer({
      minimum: 0,
      default: 300,
      description: 'Finished Jobs are deleted by Kubernetes this long after they end.',
    }),
    deadlineSlackSeconds: Type.Integer({
      minimum: 1,
      default: 60,
      description:
        "activeDeadlineSeconds = the job's timeout + this: room for scheduling, image pull and " +
        "the worker's own kill grace, so gaffer's timeout fires first and the deadline is the " +
        'backstop (invariant 7).',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'How a job of this type runs on the Kubernetes executor (per-job: a Job; pool: worker pods).',
  },
);

const KubernetesExecutor = Type.Object(
  {
    namespace: Type.String({
      minLength: 1,
      default: 'default',
      description: "Where gaffer's Jobs and worker pods go.",
    }),
    kubeconfig: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A kubeconfig file; absent: in-cluster service account, else $KUBECONFIG / ' +
          '~/.kube/config.',
      }),
    ),
    qps: Type.Number({
      exclusiveMinimum: 0,
      default: 20,
      description: "Client-side rate limit on API calls (client-go's --kube-api-qps).",
    }),
    burst: Type.Integer({
      minimum: 1,
      default: 40,
      description: "Burst of the client-side rate limit (client-go's --kube-api-burst).",
    }),
    maxJobs: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'The cap on jobs in flight across all types; per type it is `scaling.max`.',
      }),
    ),
    admission: Type.Object(
      {
        maxUnscheduled: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
          default: 20,
          description:
            "At most this many of gaffer's pods wait for a node at once: the scheduler's " +
            'verdict, namespace-scoped. null: no limit.',
        }),
        nodes: Type.Boolean({
          default: false,
          description:
            "Also create a Job only while the nodes' free allocatable fits its requests. Needs " +
            'list/watch on nodes, a cluster-scoped right (deploy/kubernetes/node-reader.yaml).',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'How gaffer keeps from creating far more Jobs than the cluster can place ' +
          '(src/executors/kubernetes/admission.ts).',
      },
    ),
    workerTokenSecret: Type.Object(
      {
        name: Type.String({ minLength: 1, default: 'gaffer-worker', description: 'The Secret.' }),
        key: Type.String({ minLength: 1, default: 'token', description: 'Its key.' }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Pool mode: the Secret (and its key) holding the worker token that worker pods present ' +
          "at /v1/workers/connect; gaffer's own `server.workerToken` must hold the same value.",
      },
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      "The Kubernetes executor's own settings: where Jobs go and how hard gaffer may push the API.",
  },
);

const RateLimit = Type.Object(
  {
    starts: Type.Integer({
      minimum: 1,
      description: 'At most this many jobs of the type start…',
    }),
    perSeconds: Type.Number({
      exclusiveMinimum: 0,
      description: '…in any window of this many seconds.',
    }),
  },
  {
    additionalProperties: false,
    description:
      'Starts of the type per sliding window, across every worker and replica: a start counts ' +
      'for `perSeconds` after it happened (src/domain/flow.ts; docs/flow-control.md says why a sliding window). Jobs held ' +
      'by it wait as `rate_limit`, with the time the window frees a slot. Absent: no limit.',
  },
);

const DedupDefault = Type.Object(
  {
    mode: Type.Union([Type.Literal('live'), Type.Literal('ttl'), Type.Literal('debounce')], {
      description:
        '`live`: unique while queued or running; `ttl`: unique for `ttlSeconds` from the first ' +
        'submission; `debounce`: a later submission replaces the payload of the job not yet ' +
        'started and pushes its start back by `debounceSeconds`.',
    }),
    ttlSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 2_592_000, description: "`ttl` mode's window." }),
    ),
    debounceSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: 2_592_000,
        description: "`debounce` mode's window.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'The dedup mode of a submission of this type that has an idempotency key and names no ' +
      '`dedup` of its own (docs/dedup.md). Absent: a key is unique for ever.',
  },
);

const KeyLimit = Type.Object(
  {
    key: Type.String({
      pattern: '^(payload|attributes)(\\.[^.]+)+$',
      description:
        "Where a job's key is: `payload.<field>` or `attributes.<field>`, nested fields " +
        'dot-separated (e.g. `payload.tenant.id`). A string key is used as it is, a number or ' +
        'boolean as JSON; a job without one has the empty key, limited like any other.',
    }),
    running: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Jobs of one key in flight at once.' }),
    ),
    starts: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Starts of one key per `perSeconds` window.' }),
    ),
    perSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'The window of `starts`, in seconds.' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Per-key limits (a tenant, a domain): give `running`, or `starts` with `perSeconds`, or ' +
      "both. Jobs of a key at its limit wait as `key_limit` while other keys' jobs start; keys " +
      'take turns, least recently started first. Absent: no per-key limit.',
  },
);

export const JobTypeSchema = Type.Object(
  {
    queue: Type.Optional(
      Type.String({
        minLength: 1,
        description: "The queue its jobs wait in. Absent: the type's name.",
      }),
    ),
    description: Type.Optional(Type.String({ description: 'What the type is for, in words.' })),
    mode: Type.Union([Type.Literal('pool'), Type.Literal('per-job')], {
      default: 'pool',
      description:
        'pool: long-lived workers pull jobs; per-job: one process (or Kubernetes Job) per job.',
    }),
    worker: Worker,
    executor: Type.Optional(
      Type.Union([Type.Literal('local'), Type.Literal('kubernetes')], {
        description:
          "Which executor runs this type's workers, each within its own capacity and admission: " +
          'local processes (a command or a handler) or Kubernetes (an image: a Job per attempt, ' +
          'or pool pods). Absent: `executor.kind`. Naming kubernetes needs ' +
          '`executor.kind: kubernetes` or an `executor.kubernetes` section.',
      }),
    ),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      default: 1,
      description: 'Jobs one pool worker runs at once.',
    }),
    timeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 300,
      description: 'An attempt running longer is stopped and fails as `timeout`.',
    }),
    priority: Type.Integer({
      default: 0,
      description: "A job's priority when its submission gives none; higher runs first.",
    }),
    retry: Retry,
    rateLimit: Type.Optional(RateLimit),
    keyLimit: Type.Optional(KeyLimit),
    dedup: Type.Optional(DedupDefault),
    scaling: Scaling,
    payloadSchema: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: 'JSON Schema every payload of this type must match.',
      }),
    ),
    deadLetter: Type.Boolean({
      default: true,
      description:
        'Keep jobs that exhaust their attempts in the dead-letter queue (else they end `failed`).',
    }),
    kubernetes: Kubernetes,
    maxTimeoutSeconds: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          "A submission's `timeoutSeconds` above this is refused (GAFFER_TIMEOUT_TOO_LONG). " +
          'Absent: no ceiling. The ad-hoc type takes `adhoc.maxTimeoutSeconds`.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One job type: its worker, limits and policies.' },
);

const Adhoc = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'Turns ad-hoc commands on.' }),
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      default: 'adhoc',
      description:
        "The job type's name (its queue, metrics, key scopes); must not be a configured type.",
    }),
    image: Type.String({
      minLength: 1,
      default: 'busybox',
      description:
        'The image of a submission that names none (Kubernetes; recorded only, locally).',
    }),
    allowedImages: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Images a submission may name besides `image`: glob patterns (`*` stops at `/`), e.g. ' +
        '`busybox:*` or `registry.example.com/tools/*`. Checked on every executor.',
    }),
    timeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 60,
      description: "A submission's timeout when it gives none (capped by maxTimeoutSeconds).",
    }),
    maxTimeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 3600,
      description: 'A submission asking for more is refused (GAFFER_TIMEOUT_TOO_LONG).',
    }),
    retry: Type.Object(Retry.properties, {
      additionalProperties: false,
      default: { maxAttempts: 1 },
      description:
        'Retries: a command is not known to be safe to run twice, so one attempt by default.',
    }),
    scaling: Type.Object(Scaling.properties, {
      additionalProperties: false,
      default: {},
      description:
        '`scaling.max` is how many ad-hoc commands run at once (one worker, or Job, each).',
    }),
    kubernetes: Kubernetes,
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Ad-hoc commands (`gaffer run --image busybox --cmd "echo Hello World"`, POST /v1/run): a ' +
      'job type gaffer defines itself, whose jobs carry their shell command (and image) in the ' +
      'payload (src/worker/adhoc.ts). Off by default: whoever may submit it runs any command — on ' +
      "the local executor a shell on gaffer's machine, as gaffer's user (docs/security.md).",
  },
);

const Condition = Type.Object(
  {
    field: Type.Optional(
      Type.String({ description: 'A payload or attribute field, e.g. `latency_sensitive`.' }),
    ),
    equals: Type.Optional(Type.Unknown({ description: 'The field equals this value.' })),
    above: Type.Optional(
      Type.Number({
        description: 'Compared with the field, or with the cost when no field is given: above it.',
      }),
    ),
    atMost: Type.Optional(
      Type.Number({
        description:
          'Compared with the field, or with the cost when no field is given: at most it.',
      }),
    ),
  },
  { additionalProperties: false, description: 'When the rule applies; absent: always.' },
);

export const RouteRuleSchema = Type.Object(
  {
    when: Type.Optional(Condition),
    type: Type.String({ minLength: 1, description: 'The job type a matching submission gets.' }),
  },
  { additionalProperties: false, description: 'A route rule: a condition and the type it picks.' },
);

const Cost = Type.Object(
  {
    rowsPerUnit: Type.Number({
      exclusiveMinimum: 0,
      default: 1_000_000,
      description: 'Rows that make one unit of cost.',
    }),
    secondsPerUnit: Type.Number({
      exclusiveMinimum: 0,
      default: 10,
      description: 'Seconds of expected run time that make one unit of cost.',
    }),
    highPriorityFactor: Type.Number({
      exclusiveMinimum: 0,
      default: 1.5,
      description: 'A high-priority job costs this many times more.',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      "The cost rule's weights: rows / rowsPerUnit + runtime / secondsPerUnit, times " +
      'highPriorityFactor for high priority (src/router/classify.ts).',
  },
);

const StorageS3 = Type.Object(
  {
    endpoint: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'e.g. http://127.0.0.1:9000 for MinIO; absent: AWS.',
      }),
    ),
    region: Type.Optional(Type.String({ minLength: 1, description: "The bucket's region." })),
    forcePathStyle: Type.Optional(
      Type.Boolean({
        description:
          'Bucket in the path (http://host/bucket/key), as MinIO needs; AWS uses virtual hosts.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Where `s3://` data references go: an S3-compatible server (AWS, MinIO, …). Absent fields: ' +
      "the AWS SDK's defaults (AWS_REGION, AWS_ENDPOINT_URL_S3, …). Credentials are never " +
      'configured here: workers take them from the standard AWS environment variables or the ' +
      "SDK's default chain.",
  },
);

const StorageLocal = Type.Object(
  {
    roots: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Directories jobs may read inputs from and write outputs to. Relative paths are resolved ' +
        'against the working directory when the config is loaded. Default: none, so no job can ' +
        'name a local path. A root must not contain `store.dataDir` (the job store and the ' +
        'scratch files of other jobs).',
    }),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Local paths (`/abs/path`, `file:///abs/path`) as data references: off unless roots are ' +
      'listed. A reference must name a root or a path below one; gaffer checks that at submit ' +
      '(lexically) and the worker again on its own filesystem, with symlinks resolved against ' +
      "the roots' real paths.",
  },
);

const Retention = Type.Object(
  {
    sweepMs: Type.Integer({
      minimum: 1000,
      default: 60_000,
      description: 'How often the limits below are enforced.',
    }),
    maxAgeDays: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Ended jobs (with their logs) are deleted this many days after they ended.',
      }),
    ),
    maxJobs: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'At most this many ended jobs are kept; those that ended first are deleted first.',
      }),
    ),
    deadLetters: Type.Boolean({
      default: false,
      description:
        'Whether dead-lettered jobs count as ended for maxAgeDays and maxJobs. Default false: ' +
        'they wait for an operator to replay them, however old.',
    }),
    logBytesPerJob: Type.Optional(
      Type.Integer({
        minimum: 1024,
        description:
          "A job's log is cut to its newest lines that fit in this many bytes (UTF-8), under a " +
          'marker line saying earlier lines were dropped. Checked each sweep, so a log may ' +
          'overshoot between.',
      }),
    ),
    resultBytes: Type.Optional(
      Type.Integer({
        minimum: 64,
        description:
          'A result whose JSON is larger is stored as `{ truncated: true, bytes, limit }` ' +
          'instead, when the job succeeds.',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'How much of the past the store keeps (src/jobs/retention.ts). Every limit is off by ' +
      'default: records, results and logs are kept until an operator sets one.',
  },
);

/**
 * Names gaffer gives callers without a key — every caller with auth off, a program using the
 * library, the cron schedules' submissions — in the audit log and the scope of idempotency keys;
 * no key may take one (a key named like the scheduler could hold a tick's idempotency key).
 */
export const RESERVED_KEY_IDS: ReadonlySet<string> = new Set(['anonymous', 'library', 'scheduler']);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String({
      pattern: '^[A-Za-z0-9-]{1,64}$',
      description: 'The part of the key that selects this entry; unique.',
    }),
    hash: Type.String({
      pattern: '^sha256:[0-9a-f]{64}$',
      description: '`sha256:<hex>` of the key (`gaffer keys create` prints both).',
    }),
    role: Type.Union(
      [Type.Literal('viewer'), Type.Literal('submitter'), Type.Literal('operator')],
      { description: 'What the key may do (docs/security.md).' },
    ),
    types: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'The job types this key may submit and see; absent: every type.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'One API key (docs/security.md). The key itself is never configured, only `sha256:<hex>` ' +
      'of it.',
  },
);

const Auth = Type.Object(
  {
    keys: Type.Array(ApiKeySchema, {
      default: [],
      description: 'The API keys; GAFFER_API_KEYS adds more.',
    }),
    sessionTtlMs: Type.Integer({
      minimum: 1000,
      default: 12 * 3600 * 1000,
      description: 'A dashboard session (POST /v1/session) ends this long after login.',
    }),
    rateLimit: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({ minimum: 1, description: 'Requests per window.' }),
          timeWindowMs: Type.Integer({ minimum: 1, description: 'The window.' }),
        },
        {
          additionalProperties: false,
          description:
            'Requests per key (per IP when anonymous) per window. Absent: 6000 a minute when ' +
            'auth is on, no limit when it is off. A batch or a CSV upload is one request.',
        },
      ),
    ),
    failedAuthLimit: Type.Object(
      {
        max: Type.Integer({ minimum: 1, default: 30, description: 'Failures per window.' }),
        timeWindowMs: Type.Integer({ minimum: 1, default: 60_000, description: 'The window.' }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'Failed authentications per client IP per window, beyond which it is answered 429.',
      },
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'API authentication (docs/security.md). On when at least one key is configured (here or in ' +
      'GAFFER_API_KEYS); off otherwise, so the one-machine default on 127.0.0.1 needs no setup.',
  },
);

/**
 * What a schedule submits on each tick: a submission as every front end takes it
 * (src/jobs/prepare.ts `Submission`), minus the idempotency key, which the schedule sets per tick.
 */
const ScheduleSubmission = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      description: 'The job type (a configured one, an in-code one, or the ad-hoc type).',
    }),
    payload: Type.Optional(
      Type.Unknown({ description: "The job's payload; checked against the type's payloadSchema." }),
    ),
    priority: Type.Optional(
      Type.Union([Type.Integer(), Type.String()], {
        description: "A number (higher first) or low, normal, high. Absent: the type's.",
      }),
    ),
    attributes: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The job's attributes (routing, listing filters).",
      }),
    ),
    maxAttempts: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, description: "Absent: the type's." }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: "Absent: the type's." }),
    ),
    data: Type.Optional(
      Type.Object(
        {
          inputs: Type.Optional(
            Type.Array(Type.String(), {
              description:
                'Objects (or `s3://bucket/prefix/` for all under it) downloaded before the job runs.',
            }),
          ),
          output: Type.Optional(
            Type.String({
              description: "Where the job's output directory is uploaded after it succeeds.",
            }),
          ),
        },
        { additionalProperties: false, description: 'Inputs and output by reference.' },
      ),
    ),
    resources: Type.Optional(
      Type.Object(
        {
          cpu: Type.Optional(
            Type.Union([Cpu, Type.Number({ exclusiveMinimum: 0 })], {
              description: 'CPUs: a Kubernetes quantity ("500m") or a number of cores.',
            }),
          ),
          memory: Type.Optional(Memory),
          gpus: Type.Optional(Type.Integer({ minimum: 0, description: 'GPUs.' })),
        },
        {
          additionalProperties: false,
          description: "This job's cpu, memory and GPUs, within its type's resources.",
        },
      ),
    ),
    expireIn: Type.Optional(
      Type.Union([Type.Number({ minimum: 0 }), Type.String()], {
        description:
          'Not started this long after its tick: the job ends as expired, never run (seconds, or "30s", "5m", "2h", "1d"). Absent: it waits as long as it takes.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'The submission each tick makes, with the idempotency key `schedule:<name>:<tick>` from ' +
      'the `scheduler` submitter, so a tick fires once across replicas.',
  },
);

export const ScheduleSchema = Type.Object(
  {
    cron: Type.String({
      minLength: 1,
      description:
        'When it fires: 5 fields (minute hour day month weekday) or 6 (seconds first), or a ' +
        'nickname (@hourly, @daily…), read by croner; e.g. `0 9 * * MON-FRI`, `*/10 * * * * *`.',
    }),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The IANA time zone the expression is read in, e.g. `Europe/Berlin`. Absent: UTC. ' +
          'Across DST, a fixed time (`30 2 * * *`) in the spring gap fires right after it and ' +
          'once in the autumn overlap; an interval skips the gap and fires on both occurrences.',
      }),
    ),
    submit: ScheduleSubmission,
    missed: Type.Union(
      [
        Type.Literal('skip'),
        Type.Object(
          {
            catchUp: Type.Integer({
              minimum: 1,
              maximum: 1000,
              description: 'How many of the most recent missed ticks fire, oldest first.',
            }),
          },
          { additionalProperties: false },
        ),
      ],
      {
        default: 'skip',
        description:
          'Ticks that passed while no gaffer fired them (gaffer down, no leader): `skip` fires ' +
          'only the latest, if it is at most a minute late; `{ catchUp: N }` fires the N most ' +
          'recent, oldest first.',
      },
    ),
    overlap: Type.Union([Type.Literal('allow'), Type.Literal('skip')], {
      default: 'allow',
      description:
        "skip: a tick that comes while the previous tick's job is unfinished does not fire.",
    }),
    paused: Type.Boolean({
      default: false,
      description: 'Declared paused: ticks pass without firing (an operator may resume it).',
    }),
  },
  { additionalProperties: false, description: 'A cron schedule: when, and what it submits.' },
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({
          default: '127.0.0.1',
          description: 'The address the HTTP API (and gRPC) listens on.',
        }),
        allowUnauthenticated: Type.Boolean({
          default: false,
          description:
            'Listen on a non-loopback `host` with no API key configured (auth off: every caller ' +
            'is the operator of every type). Refused unless this is true ' +
            '(src/api/auth/exposure.ts).',
        }),
        port: Type.Integer({
          minimum: 0,
          maximum: 65535,
          default: 8080,
          description: 'The HTTP port; 0: a free port.',
        }),
        uploadLimitBytes: Type.Integer({
          minimum: 1,
          default: 512 * 1024 * 1024,
          description: 'Largest CSV upload accepted.',
        }),
        bodyLimitBytes: Type.Integer({
          minimum: 1,
          default: 16 * 1024 * 1024,
          description: 'Largest JSON body accepted.',
        }),
        maxBatchJobs: Type.Integer({
          minimum: 1,
          default: 1_000_000,
          description:
            'Most jobs in one JSON batch (POST /v1/jobs/batch, gRPC SubmitJobs); more: 413 ' +
            'GAFFER_BATCH_TOO_LARGE.',
        }),
        headersTimeoutMs: Type.Integer({
          minimum: 1,
          default: 30_000,
          description:
            "A request's headers must arrive within this (408 GAFFER_REQUEST_TIMEOUT, then closed).",
        }),
        requestTimeoutMs: Type.Integer({
          minimum: 1,
          default: 60_000,
          description:
            "A request's body must arrive whole within this of its headers (408, then closed), on " +
            'every route but the uploads: 16 MiB of JSON at 2.2 Mbit/s. A body still arriving ' +
            'after the request was refused (a 401) is cut as soon as the answer is sent.',
        }),
        uploadIdleTimeoutMs: Type.Integer({
          minimum: 1,
          default: 30_000,
          description:
            'Uploads (POST /v1/batches, /upload) may run long: one is cut (408) when no byte of ' +
            'it arrives for this long (detected within twice this), while gaffer is waiting for it.',
        }),
        uploadTimeoutMs: Type.Integer({
          minimum: 1,
          default: 3_600_000,
          description:
            'The longest any request may take to arrive, an upload included (408): 512 MiB at ' +
            '1.2 Mbit/s.',
        }),
        keepAliveTimeoutMs: Type.Integer({
          minimum: 1,
          default: 72_000,
          description:
            'An idle keep-alive connection is closed after this. Above the 60 s idle timeout of ' +
            'common load balancers, so they never reuse a connection gaffer is closing.',
        }),
        maxConnections: Type.Integer({
          minimum: 1,
          default: 10_000,
          description:
            "Open HTTP connections at most (API clients, dashboards' event streams and remote " +
            "workers' WebSockets together); past it a new connection is closed at once.",
        }),
        allowedOrigins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            "Origins (`https://gaffer.example.com`) besides gaffer's own whose pages may send it " +
            'state-changing requests without a key (the dashboard behind a proxy that rewrites ' +
            'Host and sets no X-Forwarded-Host). Others are refused: 403 GAFFER_CROSS_ORIGIN.',
        }),
        workerToken: Type.Optional(
          Type.String({
            minLength: 16,
            description:
              'Workers on other machines connect to /v1/workers/connect with this bearer token. ' +
              'Absent: remote workers are refused (local workers never need it).',
          }),
        ),
        grpcPort: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 65535,
            description:
              'The gRPC API (gaffer.v1.Gaffer, docs/grpc.md) listens on this port, on `host`; 0: ' +
              'a free port. Absent: no gRPC server.',
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'The HTTP (and gRPC) API: where it listens, its limits and timeouts.',
      },
    ),
    store: Type.Object(
      {
        kind: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], {
          default: 'sqlite',
          description:
            'sqlite: the embedded file (the default); postgres: a server shared by gaffer replicas.',
        }),
        url: Type.Optional(
          Type.String({ minLength: 1, description: 'postgres://… when kind is postgres.' }),
        ),
        dataDir: Type.String({
          default: '.gaffer',
          description: 'Directory of the SQLite file and per-job scratch files.',
        }),
        synchronous: Type.Union([Type.Literal('FULL'), Type.Literal('NORMAL')], {
          default: 'FULL',
          description: 'SQLite: FULL survives power loss; NORMAL only a process crash.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Where jobs, batches and logs are kept.',
      },
    ),
    broker: Type.Object(
      {
        kind: Type.Union(
          [
            Type.Literal('none'),
            Type.Literal('embedded'),
            Type.Literal('rabbitmq'),
            Type.Literal('redis'),
          ],
          {
            default: 'none',
            description:
              'none: the embedded store is the queue (the default, fastest on one machine). ' +
              'embedded: a SQLite broker file; rabbitmq / redis: a server at `url`.',
          },
        ),
        url: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'amqp://… or redis://…; for embedded, the file (default: `<dataDir>/broker.db`).',
          }),
        ),
        republishAfterMs: Type.Integer({
          minimum: 0,
          default: 30_000,
          description:
            'A job due this long with no ready message for it in the broker is published again ' +
            '(checked on every lease sweep; see src/jobs/republish.ts).',
        }),
        visibilityTimeoutMs: Type.Integer({
          minimum: 100,
          default: 30_000,
          description:
            'Redis and embedded brokers: a delivery whose consumer stopped refreshing it (its ' +
            'worker died, froze or lost the broker) goes to another consumer after this long. ' +
            "Live consumers refresh what they hold, so it bounds detection, not a job's length.",
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'The message broker that carries ready jobs to workers, if any.',
      },
    ),
    executor: Type.Object(
      {
        kind: Type.Union([Type.Literal('local'), Type.Literal('kubernetes')], {
          default: 'local',
          description:
            'Where workers run. local: processes on this machine (the default). kubernetes: ' +
            'per-job types as one batch/v1 Job per attempt in `kubernetes.namespace`; a type ' +
            'needs `worker.image` there (src/executors/kubernetes/).',
        }),
        kubernetes: KubernetesExecutor,
        local: Type.Object(
          { cpus: Type.Optional(Cpu), memory: Type.Optional(Memory) },
          {
            additionalProperties: false,
            default: {},
            description:
              "The local executor's capacity, shared by the workers of every type that declares " +
              "`worker.resources`. Absent: this machine's CPUs (os.availableParallelism) and " +
              'memory.',
          },
        ),
        transport: Type.Union([Type.Literal('ipc'), Type.Literal('network')], {
          default: 'ipc',
          description:
            'How gaffer starts its workers. ipc: child processes on a Node IPC channel (the ' +
            'default). network: `gaffer worker` processes that connect back to the API over a ' +
            "WebSocket, knowing only gaffer's address, a worker token and the broker's address.",
        }),
        gafferUrl: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'The API address network workers connect to; default: the address gaffer listens on.',
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Where and how workers run.',
      },
    ),
    autoscaler: Type.Object(
      {
        intervalMs: Type.Integer({
          minimum: 10,
          default: 1000,
          description: 'How often the autoscaler decides.',
        }),
        capacity: Type.Optional(
          Type.Integer({
            minimum: 0,
            description:
              "Workers of all types at once, shared by scaling priority then weight (each type's " +
              '`max` caps its own share). Absent: unlimited.',
          }),
        ),
        leaderTtlMs: Type.Integer({
          minimum: 100,
          default: 10_000,
          description:
            'With a shared store, one gaffer runs the autoscaler: the holder of a lease this ' +
            'long, renewed every third of it. Another takes over within this time when the ' +
            'holder dies.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: "The loop that sizes every type's workers.",
      },
    ),
    leases: Type.Object(
      {
        ttlMs: Type.Integer({
          minimum: 100,
          default: 30_000,
          description: 'A worker that misses heartbeats this long loses its jobs.',
        }),
        sweepMs: Type.Integer({
          minimum: 10,
          default: 5_000,
          description: 'How often expired leases are swept; must be below ttlMs (invariant 7).',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: "Workers' leases on the jobs they run.",
      },
    ),
    retention: Retention,
    jobTypes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }), JobTypeSchema, {
      default: {},
      description: 'The job types, by name. Adding a job type is config only.',
    }),
    schedules: Type.Record(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' }),
      ScheduleSchema,
      {
        default: {},
        description:
          'Cron schedules, by name: each submits a job per tick, once across all replicas ' +
          '(docs/schedules.md). Reloaded live.',
      },
    ),
    routes: Type.Object(
      {
        cost: Cost,
        rules: Type.Optional(
          Type.Array(RouteRuleSchema, {
            description:
              'First match wins; absent: the default cost rules (when actor, spark, ml and batch ' +
              'exist).',
          }),
        ),
        uploadType: Type.Optional(
          Type.String({
            minLength: 1,
            description:
              'The type of every row of a CSV upload that names none (`?type=`, `gaffer upload ' +
              '--type`). Absent: each row is routed by the rules like an untyped submission.',
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'How a submission that names no type is given one.',
      },
    ),
    storage: Type.Object(
      {
        s3: Type.Optional(StorageS3),
        local: StorageLocal,
        maxFilesPerJob: Type.Integer({
          minimum: 1,
          default: 10_000,
          description:
            "The most files a job's inputs may bring in (every input together, local or s3), and " +
            'the most its output may write; a local directory walk counts every entry it meets ' +
            '(directories and links too). Over it, the attempt fails and is not retried.',
        }),
        maxBytesPerJob: Type.Integer({
          minimum: 1,
          default: 1024 ** 3,
          description:
            "The most bytes a job's inputs may bring in, and its output may write (1 GiB).",
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description: 'Job data by reference: object storage and local roots, and their limits.',
      },
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
export type RetryConfig = Static<typeof Retry>;
export type RetentionConfig = Static<typeof Retention>;
export type ApiKeyConfig = Static<typeof ApiKeySchema>;
export type AuthConfig = GafferConfig['auth'];
export type AdhocConfig = Static<typeof Adhoc>;
export type ScheduleConfig = Static<typeof ScheduleSchema>;
