import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statfsSync } from 'node:fs';
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
  | 'poison'
  | 'broker-restart'
  | 'disk-full'
  | 'clock-skew';

export const FAULTS: readonly FaultName[] = [
  'none',
  'worker-kill',
  'worker-pause',
  'gaffer-kill',
  'poison',
  'broker-restart',
  'disk-full',
  'clock-skew',
];

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

/** Whether the fault applies to the backend (a broker restart needs a broker server). */
export function applies(fault: FaultName, backend: Backend['name']): boolean {
  return fault !== 'broker-restart' || backend !== 'embedded';
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
  } else if (fault === 'gaffer-kill') {
    const at = Date.now();
    await t.restartGaffer(profile.downMs);
    // Executions that completed just before the kill are re-run once the restarted gaffer finds
    // their leases expired.
    t.record({ kind: 'gaffer_restart', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'broker-restart') {
    const at = Date.now();
    await t.backend.restart(profile.downMs);
    t.record({ kind: 'redelivered', at, until: Date.now() + profile.ttlMs, pids: [] });
  } else if (fault === 'disk-full') {
    // Every free byte of gaffer's data filesystem taken, then given back.
    const at = Date.now();
    const filler = path.join(t.dataDir, 'filler');
    const { bavail, bsize } = statfsSync(t.dataDir);
    execFileSync('fallocate', ['-l', String(bavail * bsize), filler]);
    await delay(profile.downMs); // the fault's length
    rmSync(filler, { force: true });
    t.record({ kind: 'disk_full', at, until: Date.now() + profile.ttlMs, pids: [] });
  }
  // 'poison' strikes from inside: its jobs kill their own workers (see chaos/handler.ts), and
  // 'clock-skew' is in the workers' environment from their start (see run.ts).
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
  return new Promise((resolve) => setTimeout(resolve, ms));
}
