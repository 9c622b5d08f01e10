import { execFile, execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './common.ts';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  /** postgres://gaffer@127.0.0.1:PORT/postgres (trust auth, superuser `gaffer`) */
  url: string;
  /** Stops the cluster (`pg_ctl -m fast stop`) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * A private PostgreSQL 15 cluster (see /work/shared/RECIPES.md): a fresh temp directory owned by
 * the `postgres` user (the server refuses to run as root), a free loopback port, the unix socket
 * inside the directory, trust auth for the superuser `gaffer`, and fsync on. If the test process
 * exits without calling stop(), an exit hook stops the cluster immediately.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gaffer-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
  }
  const run = (bin: string, args: string[]) => {
    const [file, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]]
      : [join(PG_BIN, bin), args];
    return new Promise<string>((resolve, reject) => {
      execFile(file, argv, { timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
  };

  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      const args = ['-D', data, '-m', 'immediate', '-w', 'stop'];
      if (asRoot) {
        execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, 'pg_ctl'), ...args], {
          stdio: 'ignore',
        });
      } else {
        execFileSync(join(PG_BIN, 'pg_ctl'), args, { stdio: 'ignore' });
      }
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // --no-sync only skips initdb's own flush of the template files; the server runs with fsync.
    await run('initdb', ['-D', data, '-A', 'trust', '-U', 'gaffer', '-E', 'UTF8', '--no-sync']);
    let port = 0;
    // freePort can race with another process taking the port; a failed start retries on a new one.
    for (let attempt = 1; ; attempt += 1) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=on',
        '-c max_connections=200',
      ].join(' ');
      try {
        await run('pg_ctl', [
          '-D',
          data,
          '-l',
          join(dir, 'log'),
          '-w',
          '-t',
          '60',
          'start',
          '-o',
          options,
        ]);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    process.once('exit', stopNow);
    return {
      url: `postgres://gaffer@127.0.0.1:${port}/postgres`,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', stopNow);
        try {
          await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    stopNow();
    throw err;
  }
}

let databases = 0;

/**
 * Creates an empty database on the server of `url` and returns the url that connects to it. The
 * name is `prefix` plus a per-process counter plus a random suffix, so test files sharing a
 * cluster never collide.
 */
export async function createDatabase(url: string, prefix = 't'): Promise<string> {
  databases += 1;
  const name = `${prefix}_${process.pid}_${databases}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const out = new URL(url);
  out.pathname = `/${name}`;
  return out.toString();
}

let schemas = 0;

/**
 * Creates an empty schema in the database of `url` and returns a url whose connections use it as
 * their search_path (the `options` startup parameter), so unqualified tables land there. Much
 * cheaper than a database per test (CREATE DATABASE flushes every file it copies, ~0.4 s).
 */
export async function createSchema(url: string, prefix = 's'): Promise<string> {
  schemas += 1;
  const name = `${prefix}_${schemas}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const out = new URL(url);
  out.searchParams.set('options', `-c search_path=${name}`);
  return out.toString();
}
