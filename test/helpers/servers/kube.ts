import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { freePort, serviceAvailable } from './common.ts';

/**
 * A private Kubernetes control plane for tests: embedded etcd, the real kube-apiserver,
 * kube-controller-manager (Job, ReplicaSet, TTL, GC … controllers) and kube-scheduler, with
 * kwok simulating the nodes and their pods' lifecycles (no container ever runs: a pod of a Job
 * turns Running, then Succeeded with exit code 0, unless its annotations ask kwok-stages.yaml for
 * another outcome; every pod's log is POD_LOG).
 * The binaries come from scripts/build-k8s-testbin.sh (see docs/kubernetes-testing.md).
 */

/** The Kubernetes version of tools/k8s-testbin/go.mod (kept in step with the build script). */
export const K8S_VERSION = 'v1.33.13';

/** Where scripts/build-k8s-testbin.sh puts the binaries (`GAFFER_K8S_BIN_DIR` overrides it). */
export function k8sBinDir(): string {
  const override = process.env['GAFFER_K8S_BIN_DIR'];
  if (override) return override;
  const cache = process.env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache');
  return path.join(cache, 'gaffer', 'k8s', K8S_VERSION);
}

/**
 * Whether the control-plane binaries and kwok are built. Without them a suite skips — loudly —
 * except in CI (`CI=true`), where that is a failure (`serviceAvailable` semantics).
 */
export function kubeAvailable(binDir = k8sBinDir()): boolean {
  const needed = ['kube-apiserver', 'kwok'].map((name) => path.join(binDir, name));
  if (!needed.every((file) => existsSync(file))) {
    console.warn(
      `\n*** Kubernetes test binaries: bash scripts/build-k8s-testbin.sh (into ${binDir}) ***`,
    );
  }
  return needed.every((file) => serviceAvailable(file));
}

export interface StartClusterOptions {
  /** How many kwok nodes to create (default 3). */
  nodes?: number;
  /** Capacity = allocatable of each node, Kubernetes quantities (defaults 4 CPUs, 8Gi, 110 pods). */
  cpu?: string;
  memory?: string;
  pods?: number;
  /** Taint the nodes `kwok.x-k8s.io/node=fake:NoSchedule` (pods then need a toleration). */
  taint?: boolean;
  /** Where the binaries are (default `k8sBinDir()`). */
  binDir?: string;
  /** Bound on the whole start-up (default 120 s). */
  timeoutMs?: number;
  /** Extra kube-apiserver flags, e.g. short watch timeouts and fast compaction for watch expiry. */
  apiserverArgs?: string[];
  /** The controller manager's and scheduler's client QPS (their defaults, 20 and 50, pace big runs). */
  controllerQps?: number;
}

export interface KubeCluster {
  /** Path of an admin kubeconfig (token in system:masters) for kubectl and @kubernetes/client-node. */
  kubeconfig: string;
  /**
   * A kubeconfig for gaffer under test: its own identity (`gaffer`, in system:masters), whose
   * every request the apiserver writes to an audit log — read with `auditedRequests()`.
   */
  gafferKubeconfig: string;
  /** The requests the `gaffer` identity made so far, as the apiserver's audit log has them. */
  auditedRequests(): Promise<AuditedRequest[]>;
  /** `https://127.0.0.1:PORT` of the kube-apiserver. */
  url: string;
  /** The admin bearer token and the PEM CA bundle that verifies the apiserver. */
  token: string;
  ca: string;
  /** The cluster's private directory (logs in `logs/`); removed by `stop()`. */
  dir: string;
  nodeNames: string[];
  /** PIDs of the component processes, e.g. for memory measurements. */
  processes: { name: string; pid: number }[];
  /** An admin REST call; resolves with the parsed JSON body, rejects with `KubeApiError` on >= 400. */
  request<T = unknown>(method: string, apiPath: string, body?: unknown): Promise<T>;
  /** Runs the matching kubectl against this cluster; resolves with its stdout. */
  kubectl(args: string[]): Promise<string>;
  /** Resident memory of all components, in bytes (Linux /proc). */
  rssBytes(): number;
  /** Stops every component (SIGTERM, SIGKILL after 5 s) and removes `dir`; idempotent. */
  stop(): Promise<void>;
}

export interface AuditedRequest {
  verb: string;
  /** e.g. /apis/batch/v1/namespaces/x/jobs */
  uri: string;
  /** When the apiserver received it (ms since the epoch, µs precision). */
  at: number;
  code: number | undefined;
}

export class KubeApiError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, method: string, apiPath: string, body: string) {
    super(`${method} ${apiPath}: HTTP ${status}: ${body.slice(0, 500)}`);
    this.name = 'KubeApiError';
    this.status = status;
    this.body = body;
  }
}

interface Component {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
  /** Set when the process could not be started at all (no 'exit' follows then). */
  error?: Error;
}

/** Starts a cluster on free loopback ports in its own temporary directory. */
export async function startCluster(options: StartClusterOptions = {}): Promise<KubeCluster> {
  const binDir = options.binDir ?? k8sBinDir();
  const nodeCount = options.nodes ?? 3;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'gaffer-k8s-'));
  const logs = path.join(dir, 'logs');
  const pki = path.join(dir, 'pki');
  await mkdir(logs);
  await mkdir(pki);
  const components: Component[] = [];
  let stopped = false;

  const killAll = () => {
    for (const c of components) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    }
  };
  // A test process that dies without stop() must not leave a control plane behind.
  process.once('exit', killAll);

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const terminate = async (c: Component) => {
      if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGTERM');
      const timer = setTimeout(() => c.child.kill('SIGKILL'), 5_000);
      await c.exited;
      clearTimeout(timer);
    };
    // Clients first, then the apiserver, then its storage.
    const order = ['kwok', 'kube-scheduler', 'kube-controller-manager'];
    await Promise.all(components.filter((c) => order.includes(c.name)).map(terminate));
    for (const name of ['kube-apiserver', 'etcd']) {
      await Promise.all(components.filter((c) => c.name === name).map(terminate));
    }
    process.off('exit', killAll);
    agent?.destroy();
    if (process.env['GAFFER_K8S_KEEP']) console.warn(`kept cluster directory ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };

  const launch = (name: string, binary: string, args: string[]): Component => {
    const log = path.join(logs, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(path.join(binDir, binary), args, {
      cwd: dir,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, KUBECONFIG: '' },
    });
    closeSync(fd);
    const c: Component = { name, child, log, exited: Promise.resolve() };
    c.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        c.error = err;
        resolve();
      });
    });
    components.push(c);
    return c;
  };

  /** Fails fast when a component died; the message carries the tails of all logs. */
  const diagnose = (what: string): Error => {
    const tails = components
      .map((c) => {
        let text = '';
        try {
          text = readFileSync(c.log, 'utf8');
        } catch {
          /* no log yet */
        }
        const state = c.error
          ? `failed to start: ${c.error.message}`
          : c.child.exitCode === null && c.child.signalCode === null
            ? 'running'
            : `exited ${c.child.exitCode ?? c.child.signalCode}`;
        return `--- ${c.name} (${state}) ---\n${text.slice(-1500)}`;
      })
      .join('\n');
    return new Error(`Kubernetes test cluster: ${what}\n${tails}`);
  };

  const waitFor = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    for (;;) {
      const dead = components.find(
        (c) => c.error || c.child.exitCode !== null || c.child.signalCode !== null,
      );
      if (dead) throw diagnose(`${dead.name} exited before ${what}`);
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw diagnose(`timed out waiting for ${what}`);
      await sleep(250);
    }
  };

  let agent: https.Agent | undefined;
  try {
    const [etcdPort, etcdPeerPort, apiPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];

    // Credentials: an admin token in system:masters, a service-account signing key.
    const token = randomBytes(24).toString('hex');
    const tokenFile = path.join(pki, 'tokens.csv');
    const gafferToken = randomBytes(24).toString('hex');
    await writeFile(
      tokenFile,
      `${token},gaffer-admin,gaffer-admin,"system:masters"\n` +
        `${gafferToken},gaffer,gaffer,"system:masters"\n`,
      { mode: 0o600 },
    );
    // Only gaffer's own requests are audited: the rate-limit assertions read them back.
    const auditPolicy = path.join(dir, 'audit-policy.yaml');
    const auditLog = path.join(logs, 'audit.log');
    await writeFile(
      auditPolicy,
      stringify({
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Policy',
        omitStages: ['RequestReceived', 'ResponseStarted'], // one event per request
        rules: [{ level: 'Metadata', users: ['gaffer'] }, { level: 'None' }],
      }),
    );
    const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = path.join(pki, 'sa.key');
    const saPub = path.join(pki, 'sa.pub');
    await writeFile(saKey, sa.privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    await writeFile(saPub, sa.publicKey.export({ type: 'spki', format: 'pem' }));

    launch('etcd', 'etcd', [
      '--name=gaffer',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      '--unsafe-no-fsync', // throwaway data: trade durability for speed
    ]);
    await waitFor('etcd', async () =>
      (await httpGet(`http://127.0.0.1:${etcdPort}/health`)).includes('"health":"true"'),
    );

    launch('kube-apiserver', 'kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${pki}`, // self-signed serving cert + CA, written before it serves
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      '--allow-privileged=true',
      '--profiling=false',
      '--endpoint-reconciler-type=none',
      // kwok's nodes are reached at their InternalIP (127.0.0.1); their names resolve nowhere
      '--kubelet-preferred-address-types=InternalIP',
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-mode=blocking', // written before the answer: a test reads what it caused
      '--audit-log-maxsize=0',
      ...(options.apiserverArgs ?? []),
    ]);
    const caFile = path.join(pki, 'apiserver.crt');
    await waitFor('the apiserver serving certificate', async () => existsSync(caFile));
    // apiserver.crt holds the serving certificate followed by the CA that signed it.
    const ca = await readFile(caFile, 'utf8');
    const url = `https://127.0.0.1:${apiPort}`;
    agent = new https.Agent({ ca, keepAlive: true });
    const httpsAgent = agent;

    const request = async <T>(method: string, apiPath: string, body?: unknown): Promise<T> => {
      const res = await httpsRequest(httpsAgent, url, token, method, apiPath, body);
      if (res.status >= 400) throw new KubeApiError(res.status, method, apiPath, res.body);
      return (res.body ? JSON.parse(res.body) : undefined) as T;
    };
    await waitFor('the apiserver /readyz', async () => {
      const res = await httpsRequest(httpsAgent, url, token, 'GET', '/readyz');
      return res.status === 200;
    });

    const kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigFor(url, ca, 'gaffer-admin', token), { mode: 0o600 });
    const gafferKubeconfig = path.join(dir, 'gaffer.kubeconfig');
    await writeFile(gafferKubeconfig, kubeconfigFor(url, ca, 'gaffer', gafferToken), {
      mode: 0o600,
    });

    launch('kube-controller-manager', 'kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      '--secure-port=0',
      '--leader-elect=false',
      '--controllers=*',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${caFile}`,
      '--node-monitor-period=2s',
      ...qps(options.controllerQps),
    ]);
    launch('kube-scheduler', 'kube-scheduler', [
      `--kubeconfig=${kubeconfig}`,
      '--secure-port=0',
      '--leader-elect=false',
      ...qps(options.controllerQps),
    ]);
    // kwok's pod stages (kwok-stages.yaml) and, for `kubectl logs`, one log file every pod
    // "prints" — served by kwok's kubelet endpoint on the nodes' port, through the apiserver.
    const kwokPort = await freePort();
    const podLog = path.join(dir, 'pod.log');
    // kwok replays a file in the CRI log format, as a kubelet stores container logs
    const stamp = '2026-01-01T00:00:00.000000000Z';
    const cri = POD_LOG.split('\n').filter(Boolean);
    await writeFile(podLog, cri.map((line) => `${stamp} stdout F ${line}\n`).join(''));
    const kwokConfig = path.join(dir, 'kwok.yaml');
    await writeFile(
      kwokConfig,
      `${await readFile(STAGES, 'utf8')}\n---\n${stringify(clusterLogs(podLog))}`,
    );
    launch('kwok', 'kwok', [
      `--kubeconfig=${kubeconfig}`,
      `--config=${kwokConfig}`,
      `--server-address=127.0.0.1:${kwokPort}`,
      `--node-port=${kwokPort}`,
      '--manage-all-nodes=false',
      '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
      '--cidr=10.244.0.1/16', // fake pod IPs: room for more than 254 pods
      '--node-ip=127.0.0.1',
    ]);

    const nodeNames = Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`);
    for (const name of nodeNames) {
      await request('POST', '/api/v1/nodes', kwokNode(name, options));
    }
    await waitFor(`${nodeCount} Ready nodes`, async () => {
      const list = await request<NodeList>('GET', '/api/v1/nodes?labelSelector=type%3Dkwok');
      const ready = list.items.filter(
        (n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
          // the node lifecycle controller (KCM) lifts the not-ready taint once kwok reports Ready
          !n.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'),
      );
      return ready.length === nodeCount;
    });
    // The service-account controller (KCM) must have made `default`, or pods are refused.
    await waitFor('the default service account', async () => {
      await request('GET', '/api/v1/namespaces/default/serviceaccounts/default');
      return true;
    });

    return {
      kubeconfig,
      gafferKubeconfig,
      async auditedRequests() {
        const text = await readFile(auditLog, 'utf8').catch(() => '');
        return text
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const e = JSON.parse(line) as {
              verb: string;
              requestURI: string;
              requestReceivedTimestamp: string;
              responseStatus?: { code?: number };
            };
            return {
              verb: e.verb,
              uri: e.requestURI,
              at: Date.parse(e.requestReceivedTimestamp),
              code: e.responseStatus?.code,
            };
          });
      },
      url,
      token,
      ca,
      dir,
      nodeNames,
      processes: components.map((c) => ({ name: c.name, pid: c.child.pid ?? -1 })),
      request,
      kubectl(args: string[]) {
        return new Promise<string>((resolve, reject) => {
          execFile(
            path.join(binDir, 'kubectl'),
            [`--kubeconfig=${kubeconfig}`, ...args],
            (err, stdout, stderr) =>
              err
                ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr || err.message}`))
                : resolve(stdout),
          );
        });
      },
      rssBytes() {
        let total = 0;
        for (const c of components) {
          try {
            const status = readFileSync(`/proc/${c.child.pid}/status`, 'utf8');
            total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
          } catch {
            /* exited */
          }
        }
        return total;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface NodeList {
  items: {
    spec?: { taints?: { key: string }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

function kubeconfigFor(url: string, ca: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'gaffer-test',
        cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [
      { name: 'gaffer-test', context: { cluster: 'gaffer-test', user, namespace: 'default' } },
    ],
    'current-context': 'gaffer-test',
  });
}

function qps(value: number | undefined): string[] {
  return value ? [`--kube-api-qps=${value}`, `--kube-api-burst=${value * 2}`] : [];
}

/** Every pod's log as `kubectl logs` and gaffer's executor read it (kwok serves this file). */
export const POD_LOG = 'simulated pod: started\nsimulated pod: finished\n';

const STAGES = fileURLToPath(new URL('./kwok-stages.yaml', import.meta.url));

function clusterLogs(file: string): object {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: 'every-pod' },
    spec: { logs: [{ containers: [], logsFile: file, follow: false }] },
  };
}

/** A Node for kwok to manage (the shape kwok's docs give), with the requested capacity. */
function kwokNode(name: string, o: StartClusterOptions): object {
  const resources = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
      },
    },
    spec: o.taint
      ? { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] }
      : {},
    // Nodes may carry status on create (kubelets register so); kwok keeps these quantities.
    status: { capacity: resources, allocatable: resources },
  };
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function httpsRequest(
  agent: https.Agent,
  base: string,
  token: string,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(apiPath, base),
      {
        method,
        agent,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// `node test/helpers/servers/kube.ts [--nodes N] [--cpu C] [--memory M] [--pods P] [--taint]`
// starts a cluster by hand, prints how to reach it and stops it on Ctrl-C.
if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      pods: { type: 'string' },
      taint: { type: 'boolean', default: false },
    },
  });
  const t0 = Date.now();
  const cluster = await startCluster({
    nodes: Number(values.nodes),
    ...(values.cpu ? { cpu: values.cpu } : {}),
    ...(values.memory ? { memory: values.memory } : {}),
    ...(values.pods ? { pods: Number(values.pods) } : {}),
    taint: values.taint,
  });
  console.log(`cluster ready in ${Date.now() - t0} ms at ${cluster.url}`);
  console.log(`export KUBECONFIG=${cluster.kubeconfig}`);
  console.log(`kubectl: ${path.join(k8sBinDir(), 'kubectl')}`);
  console.log(
    `logs: ${path.join(cluster.dir, 'logs')}   (Ctrl-C stops it and removes ${cluster.dir})`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await cluster.stop();
}
