import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './common.ts';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Stops the server (SIGTERM, by PID; SIGCONT first if paused) and removes its directory. */
  stop(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing — a hung broker, not a dead one. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Shuts the server down (SIGTERM: the AOF is complete) and keeps its directory. */
  shutdown(): Promise<void>;
  /** Starts it again after `shutdown`, on the same port with the same data. */
  restart(): Promise<void>;
  /** Runs `redis-cli` against this server (raw output), e.g. for residue checks. */
  cli(args: string[]): Promise<string>;
}

export interface StartRedisOptions {
  /**
   * AOF fsync policy; the AOF is always on. `always` (the default) fsyncs before every write
   * is acknowledged, so a write the broker answered survives a crash — what the Broker contract's
   * "publish resolves once the broker took responsibility" means on Redis. `everysec` may lose the
   * last second; `no` leaves it to the OS.
   */
  appendfsync?: 'always' | 'everysec' | 'no';
}

/**
 * A private redis-server on a free loopback port with its own temporary directory, in the
 * foreground (a child of this process); resolves once it logs "Ready to accept connections".
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gaffer-redis-'));
  const port = await freePort();
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    ...['--appendonly', 'yes', '--appendfsync', options.appendfsync ?? 'always'],
    ...['--daemonize', 'no', '--logfile', ''],
  ];
  let proc = await launch(args).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  let paused = false;
  let stopped = false;
  const shutdown = async () => {
    if (paused) process.kill(proc.pid, 'SIGCONT');
    paused = false;
    await proc.terminate();
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause() {
      process.kill(proc.pid, 'SIGSTOP');
      paused = true;
    },
    resume() {
      process.kill(proc.pid, 'SIGCONT');
      paused = false;
    },
    shutdown,
    async restart() {
      proc = await launch(args);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
    cli(cliArgs: string[]) {
      return new Promise<string>((resolve, reject) => {
        execFile(
          'redis-cli',
          ['-h', '127.0.0.1', '-p', String(port), '--raw', ...cliArgs],
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
        );
      });
    },
  };
}

interface RedisProcess {
  pid: number;
  /** SIGTERM (Redis finishes its AOF and exits), resolved once it is gone; idempotent. */
  terminate(): Promise<void>;
}

async function launch(args: string[]): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`)),
    );
  });
  // Keep draining its output so the pipe never fills up.
  child.stdout.resume();
  child.stderr.resume();
  return {
    pid: child.pid!,
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
