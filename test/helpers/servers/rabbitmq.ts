import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './common.ts';

export interface RabbitMQServer {
  /** amqp://guest:guest@127.0.0.1:PORT */
  url: string;
  /** http://guest:guest@127.0.0.1:PORT (the management plugin's HTTP API) */
  managementUrl: string;
  nodeName: string;
  /** Stops the node cleanly and removes its directory; epmd is left running (shared). */
  stop(): Promise<void>;
  /** Stops the whole node (the Erlang VM exits) and keeps its data directory. */
  shutdown(): Promise<void>;
  /** Starts the node again after `shutdown`: same name, ports and data. */
  restart(): Promise<void>;
  /** Runs `rabbitmqctl -q -n NODE ...args` and resolves with its stdout. */
  ctl(args: string[]): Promise<string>;
}

/**
 * A private RabbitMQ node (see /work/shared/RECIPES.md): its own node name, free loopback ports for
 * AMQP, Erlang distribution and the management HTTP API, and a temp directory owned by the
 * `rabbitmq` user (the Debian wrapper runs the broker as that user). The management API's queue
 * counts lag by the queue stats interval, the agent's sampling interval (the smallest retention
 * interval) and, for quorum queues, the quorum tick — 5 s each by default. Here they are 100 ms,
 * 1 s (the smallest possible) and 200 ms, so the counts are about a second old at most.
 */
export async function startRabbitMQ(): Promise<RabbitMQServer> {
  // A port picked free can be taken by another process before the node binds it: try again with
  // new ports rather than fail the run.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNode();
    } catch (err) {
      if (attempt >= 3 || !/exited early/.test((err as Error).message)) throw err;
    }
  }
}

async function startNode(): Promise<RabbitMQServer> {
  const amqpPort = await freePort();
  const distPort = await freePort();
  const mgmtPort = await freePort();
  const nodeName = `gaffer-test-${amqpPort}@localhost`;
  const dir = mkdtempSync(join(tmpdir(), 'gaffer-rabbitmq-'));
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `management.tcp.port = ${mgmtPort}`,
      'management.tcp.ip = 127.0.0.1',
      'collect_statistics_interval = 100',
      'management.rates_mode = none',
      // The management agent samples at the smallest retention interval (5 s by default).
      'management.sample_retention_policies.global.minute = 1',
      'management.sample_retention_policies.basic.minute = 1',
      'management.sample_retention_policies.detailed.10 = 1',
      'loopback_users = none',
      '',
    ].join('\n'),
  );
  // Quorum queues report their message counts on their tick (5 s by default).
  writeFileSync(join(dir, 'advanced.config'), '[{rabbit, [{quorum_tick_interval, 200}]}].\n');
  chownTree(dir);

  const env = {
    ...process.env,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  const ctl = (args: string[], timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        'rabbitmqctl',
        ['-q', '-n', nodeName, ...args],
        { env, timeout: timeoutMs },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`rabbitmqctl ${args.join(' ')}: ${err.message}\n${stderr}`));
          else resolve(stdout);
        },
      );
    });

  const managementUrl = `http://guest:guest@127.0.0.1:${mgmtPort}`;
  let node = await boot(env, dir, ctl, mgmtPort);
  const shutdown = async () => {
    try {
      await ctl(['stop']);
    } catch {
      node.child.kill();
    }
    await node.exited;
  };
  return {
    url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    managementUrl,
    nodeName,
    ctl: (args) => ctl(args),
    shutdown,
    async restart() {
      // The node just stopped may not have let go of its ports and epmd name yet, and then the
      // new one exits at once: try again (same ports: clients reconnect to the same address).
      for (let attempt = 1; ; attempt++) {
        try {
          node = await boot(env, dir, ctl, mgmtPort);
          return;
        } catch (err) {
          if (attempt >= 5 || !/exited early/.test((err as Error).message)) throw err;
          await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
      }
    },
    async stop() {
      await shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Node {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Starts rabbitmq-server and resolves once the node and its management API answer. */
async function boot(
  env: NodeJS.ProcessEnv,
  dir: string,
  ctl: (args: string[], timeoutMs?: number) => Promise<string>,
  mgmtPort: number,
): Promise<Node> {
  const out = openSync(join(dir, 'out.log'), 'a');
  const child = spawn('rabbitmq-server', [], { env, stdio: ['ignore', out, out] });
  closeSync(out);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      resolve();
    }),
  );
  // `await_startup` fails fast while the node is not yet registered with epmd, so retry it.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`rabbitmq-server exited early; see ${join(dir, 'out.log')}`);
    try {
      await ctl(['await_startup', '--timeout', '30'], 35_000);
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  // The management listener starts with the plugin; wait until it answers.
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${mgmtPort}/api/overview`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('RabbitMQ management API did not come up');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, exited };
}

function chownTree(dir: string): void {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'rabbitmq'], { encoding: 'utf8' }));
  const uid = id('-u');
  const gid = id('-g');
  for (const p of ['', 'mnesia', 'log', 'enabled_plugins', 'rabbitmq.conf', 'advanced.config']) {
    chownSync(join(dir, p), uid, gid);
  }
}
