import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NODE_FLAGS } from '../src/cli/node-flags.ts';

export const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
export const perSecond = (n: number, ms: number) => round((n * 1000) / ms);

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * A private redis-server on loopback; `appendfsync` states its durability. `stop()` removes its
 * data folder once it exited.
 */
export async function startRedis(
  appendfsync: 'everysec' | 'always' | 'no-aof',
): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-redis-'));
  const aof =
    appendfsync === 'no-aof'
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', appendfsync];
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...aof],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Runs `n` calls of `fn` with `lanes` of them in flight at a time. */
export async function inLanes(
  n: number,
  lanes: number,
  fn: (i: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < n) await fn(next++);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * Open-loop arrivals: calls `fn(i)` for i = 0…n−1 at `rate` per second, on schedule whatever the
 * previous calls are doing (their promises are not awaited), and passes each call the time it was
 * due, so a late call counts its lateness as latency. Resolves once every call was made.
 */
export async function atRate(
  rate: number,
  n: number,
  fn: (i: number, dueMs: number) => void,
): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  while (next < n) {
    const now = performance.now();
    const due = Math.min(n, Math.floor(((now - t0) * rate) / 1000) + 1);
    for (; next < due; next++) fn(next, t0 + (next * 1000) / rate);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** p50 / p99 / max of latencies in ms, rounded to 0.1 ms. */
export function latencySummary(ms: number[]): { p50: number; p99: number; max: number } {
  return {
    p50: round(percentile(ms, 50), 1),
    p99: round(percentile(ms, 99), 1),
    max: round(Math.max(...ms), 1),
  };
}

/**
 * `gaffer up` as its own process, started as `npm start` starts it (`node <NODE_FLAGS>
 * src/cli/main.ts up --port 0 …`), so that what /proc says about its memory is gaffer's alone;
 * `nodeArgs` go to node after those (e.g. `--max-old-space-size=128`). Resolves once it listens,
 * with its URL.
 */
export async function startGafferProcess(
  args: string[],
  nodeArgs: string[] = [],
): Promise<{ pid: number; url: string; stop(): Promise<void> }> {
  const repo = path.resolve(import.meta.dirname, '..');
  const argv = [...NODE_FLAGS, ...nodeArgs, 'src/cli/main.ts', 'up', '--port', '0', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gaffer up: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`gaffer exited before listening:\n${out}`)));
  });
  child.stdout!.resume();
  return {
    pid: child.pid!,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident and peak-resident memory of a process in bytes, from /proc/<pid>/status (Linux). */
export function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/**
 * User and system CPU time a process has used, in ms, from /proc/<pid>/stat (Linux; fields 14 and
 * 15, in clock ticks of 10 ms, the kernel's USER_HZ on every common Linux); 0 once it is gone.
 */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Samples `pid`'s VmRSS every `everyMs` until `stop()`, which returns the peak sample. */
export function sampleRss(
  pid: number,
  everyMs = 100,
): { stop(): { peak: number; samples: number } } {
  let peak = procMemory(pid).rss;
  let samples = 1;
  const timer = setInterval(() => {
    peak = Math.max(peak, procMemory(pid).rss);
    samples++;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, procMemory(pid).rss);
      return { peak, samples: samples + 1 };
    },
  };
}
