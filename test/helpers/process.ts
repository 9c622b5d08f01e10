import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { createInterface } from 'node:readline';
import { isGone } from '../fixtures/harness.ts';
import { REPO } from './gaffer.ts';
import type { ApiJob } from '../../src/client/index.ts';

export interface GafferProcess {
  child: ChildProcess;
  url: string;
  /** host:port of the gRPC API when gaffer serves one (`gaffer up: gRPC on …`), else null. */
  grpc: string | null;
  /** Exit promise; resolves with the exit code or signal. */
  exited: Promise<number | string | null>;
}

/** Starts `gaffer up` as its own process (the README's command) and resolves once it listens. */
/**
 * A private directory holding `gaffer.yaml` made of `lines`, removed after the file's tests:
 * the `--config` and `--data-dir` of a `gaffer up` a test spawns.
 */
export function gafferDir(prefix: string, lines: string[]): { args: string[]; dataDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'gaffer.yaml');
  writeFileSync(config, lines.join('\n'));
  const dataDir = path.join(dir, 'data');
  return { args: ['--config', config, '--data-dir', dataDir], dataDir };
}

export async function spawnGaffer(
  args: string[],
  env: Record<string, string> = {},
  /** Where gaffer's stderr goes: an open file descriptor (a log file), else this process's. */
  stderr: number | 'inherit' = 'inherit',
): Promise<GafferProcess> {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'up', '--port', '0', ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', stderr],
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  let grpc: string | null = null;
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      // Printed before the HTTP line.
      grpc ??= /gaffer up: gRPC on (\S+)/.exec(line)?.[1] ?? null;
      const m = /gaffer up: (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`gaffer exited (${code}) before listening`)));
  });
  return { child, url, grpc, exited };
}

/**
 * Reads the server-sent event stream of a running gaffer and resolves once `check` holds;
 * `check` runs at start and after every event. Event-driven, no sleeping.
 */
export async function untilEvent(
  url: string,
  check: () => Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new Error(`condition not met in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const res = await fetch(`${url}/v1/events`, { signal: ac.signal });
    if (await check()) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (decoder.decode(chunk, { stream: true }).includes('\n\n') && (await check())) return;
    }
    throw new Error('event stream ended');
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

export async function api<T = Record<string, unknown>>(
  url: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(
    `${url}${path}`,
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  );
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The job, as GET /v1/jobs/:id answers. */
export async function getJob(url: string, id: string): Promise<ApiJob> {
  return (await api<{ job: ApiJob }>(url, `/v1/jobs/${id}`)).job;
}

/** Resolves with the job once it has ended (event-driven, on gaffer's event stream). */
export async function jobEnded(url: string, id: string): Promise<ApiJob> {
  let job: ApiJob | undefined;
  await untilEvent(url, async () => {
    job = await getJob(url, id);
    return !['queued', 'starting', 'running'].includes(job.state);
  });
  return job!;
}

/** True while the process exists and is not a zombie (an exited child nobody reaped yet). */
export function isAlive(pid: number): boolean {
  return !isGone(pid);
}

/**
 * `gaffer worker` as its own process with a bare environment (PATH and HOME only): it knows
 * gaffer's address and what `args` say, nothing else.
 */
export function spawnWorker(url: string, args: string[]) {
  const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp' };
  const child = spawn(process.execPath, ['src/cli/main.ts', '--url', url, 'worker', ...args], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}
