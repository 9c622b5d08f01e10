import { closeSync, existsSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Fault } from './checker.ts';
import type { Backend } from './backends.ts';
import type { Profile } from './profile.ts';

/**
 * The faults a chaos run injects, each recorded (kind, time, the processes it hit) before it
 * strikes, so the checker can tell an explained duplicate execution from an unexplained one.
 * Worker PIDs come from gaffer's own worker list (GET /v1/workers), never from process names.
 */
export type FaultName =
  | 'none'
  | 'worker-kill'
  | 'worker-pause'
  | 'gaffer-kill'
  | 'schedules'
  | 'poison'
  | 'broker-restart'
  | 'broker-unreachable'
  | 'burst'
  | 'disk-full'
  | 'clock-skew'
  | 'apiserver-pause'
  | 'pod-delete'
  | 'oom';

export const FAULTS: readonly FaultName[] = [
  'none',
  'worker-kill',
  'worker-pause',
  'gaffer-kill',
  'schedules',
  'poison',
  'broker-restart',
  'broker-unreachable',
  'burst',
  'disk-full',
  'clock-skew',
  'apiserver-pause',
  'pod-delete',
  'oom',
];

/** Faults of the Kubernetes control plane and its pods: the kubernetes backend's alone. */
const KUBERNETES_ONLY: readonly FaultName[] = ['apiserver-pause', 'pod-delete', 'oom'];

/** libfaketime, as Debian's `faketime` package installs it (clock-skew). */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
/** The workers' wall clock under clock-skew; their monotonic clock is left alone. */
export const SKEW = '+5m';

/** What a fault may act on. */
export interface Target {
  profile: Profile;
  backend: Backend;
  /** gaffer's current URL (it stays the same across a restart: the port is fixed). */
  url: string;
  /** gaffer's data directory: under disk-full, a small filesystem of its own. */
  dataDir: string;
  /** kill -9 of gaffer, then start it again after `downMs`. */
  restartGaffer(downMs: number): Promise<void>;
  record(fault: Fault): void;
}

/**
 * Whether the fault applies to the backend: a broker restart or partition needs a broker server (the
 * kubernetes backend's queue is the embedded store); the control plane's and pods' faults need
 * Kubernetes. Every other fault applies to pool pods as to local workers: their `gaffer worker`
 * runs here (the pool kubelet), with the type's environment (clock-skew's LD_PRELOAD included).
 */
export function applies(fault: FaultName, backend: Backend['name']): boolean {
  if (fault === 'broker-restart' || fault === 'broker-unreachable') {
    return backend !== 'embedded' && backend !== 'kubernetes';
  }
  // The schedules scenario runs on the embedded store and one broker, Redis (CI's time: ~25 s each).
  // RabbitMQ passes it too; on Kubernetes a restarted gaffer waits out the leader Lease (10 s)
  // before its schedules fire again, beyond the short profile's time.
  if (fault === 'schedules') return backend === 'embedded' || backend === 'redis';
  return !KUBERNETES_ONLY.includes(fault) || backend === 'kubernetes';
}

/**
 * Why this machine cannot inject the fault, or null when it can: disk-full mounts a small tmpfs
 * (root only), clock-skew preloads libfaketime.
 */
export function unavailable(fault: FaultName): string | null {
  if (fault === 'disk-full' && process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  if (fault === 'clock-skew' && !existsSync(LIBFAKETIME)) return `${LIBFAKETIME} is missing`;
  return null;
}

/** One strike of the fault. */
export async function strike(fault: FaultName, t: Target): Promise<void> {
  const { profile } = t;
  if (fault === 'worker-kill') {
    const pid = await busyWorker(t.url);
    if (pid === null) return;
    t.record({ kind: 'worker_lost', at: Date.now(), until: Date.now(), pids: [pid] });
    signal(pid, 'SIGKILL');
  } else if (fault === 'worker-pause') {
    // Paused past its lease: its jobs run elsewhere; on SIGCONT its late reports are refused.
    const pid = await busyWorker(t.url);
    if (pid === null) return;
    const pauseMs = Math.round(profile.ttlMs * 2.5);
    t.record({ kind: 'lease_expired', at: Date.now(), until: Date.now() + pauseMs, pids: [pid] });
    signal(pid, 'SIGSTOP');
    await delay(pauseMs); // the fault's length
    signal(pid, 'SIGCONT');
  } else if (fault === 'gaffer-kill' || fault === 'schedules') {
    // `schedules` is gaffer-kill with a cron schedule and a rate-limited type (see run.ts).
    const at = Date.now();
    await t.restartGaffer(profile.downMs);
    // Executions that completed just before the kill are re-run once the restarted gaffer finds
    // their leases expired.
    t.record({ kind: 'gaffer_restart', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'broker-restart') {
    const at = Date.now();
    await t.backend.restart(profile.downMs);
    t.record({ kind: 'redelivered', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'broker-unreachable') {
    const at = Date.now();
    await t.backend.unreachable!(profile.partitionMs);
    t.record({ kind: 'broker_unreachable', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'disk-full') {
    // Every free byte of gaffer's data filesystem taken, then given back.
    const at = Date.now();
    const filler = path.join(t.dataDir, 'filler');
    fill(filler, t.dataDir);
    await delay(profile.downMs); // the fault's length
    rmSync(filler, { force: true });
    t.record({ kind: 'disk_full', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'apiserver-pause') {
    // The control plane frozen: gaffer can neither scale nor watch; running pods keep working.
    const { cluster } = t.backend.kube!;
    const pid = cluster.processes.find((p) => p.name === 'kube-apiserver')!.pid;
    t.record({
      kind: 'apiserver_paused',
      at: Date.now(),
      until: Date.now() + profile.downMs,
      pids: [],
    });
    signal(pid, 'SIGSTOP');
    await delay(profile.downMs); // the fault's length
    signal(pid, 'SIGCONT');
  } else if (fault === 'pod-delete') {
    // A busy worker's pod deleted through the API, as an eviction would: its worker gets SIGTERM,
    // drains, and its pod goes once it has stopped; the ReplicaSet replaces it.
    const { cluster, kubelet, namespace } = t.backend.kube!;
    const pid = await busyWorker(t.url);
    const pod = pid === null ? null : kubelet.podOf(pid);
    if (pod === null) return;
    t.record({ kind: 'pod_deleted', at: Date.now(), until: Date.now(), pids: [pid!] });
    await cluster.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${pod}`).catch(() => {
      // gone already (a removal of gaffer's): nothing to hit this time
    });
  } else if (fault === 'oom') {
    // A busy worker's container OOMKilled: SIGKILL, the pod's status says OOMKilled (exit 137),
    // the container restarts in the same pod.
    const { kubelet } = t.backend.kube!;
    const pid = await busyWorker(t.url);
    const pod = pid === null ? null : kubelet.podOf(pid);
    if (pod === null) return;
    t.record({ kind: 'worker_lost', at: Date.now(), until: Date.now(), pids: [pid!] });
    kubelet.oomKill(pod);
  }
  // 'burst' is the submissions' shape (all at once, see run.ts); 'poison' strikes from inside:
  // its jobs kill their own workers (see chaos/handler.ts); and
  // 'clock-skew' is in the workers' environment from their start (see run.ts).
}

/**
 * Takes every free byte of `dir`'s filesystem into `file`: written until the filesystem refuses
 * (ENOSPC), in smaller and smaller pieces down to a byte, so it is full whatever gaffer wrote
 * meanwhile. (A single fallocate of the free space measured just before failed whenever gaffer
 * wrote in between — five times running under load.)
 */
function fill(file: string, dir: string): void {
  const fd = openSync(file, 'a');
  try {
    const { bsize } = statfsSync(dir);
    const zeros = Buffer.alloc(1 << 20);
    for (const size of [1 << 20, 64 << 10, bsize, 512, 1]) {
      for (;;) {
        try {
          writeSync(fd, zeros, 0, size);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** A busy worker's PID, from gaffer's worker list; null when none is busy right now. */
async function busyWorker(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/v1/workers`);
    const { workers } = (await res.json()) as { workers: { state: string; pid: number | null }[] };
    const busy = workers.filter((w) => w.state === 'busy' && w.pid);
    return busy.length ? busy[Math.floor(Math.random() * busy.length)]!.pid : null;
  } catch {
    return null; // gaffer is down (another fault): nothing to hit this time
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
