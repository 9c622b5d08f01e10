import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort, stopOnce } from './common.ts';

/** Debian's `prometheus` package (scripts/install-deps.sh). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** GET `/api/v1/<path>` and its `data` (rejects unless the API answered `success`). */
  api<T = unknown>(apiPath: string, query?: Record<string, string>): Promise<T>;
  /** Stops the server (SIGTERM, by PID) and removes its directory. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** `host:port` targets scraped as job `jobName` at `/metrics`. */
  targets: string[];
  jobName?: string;
  /** Rule files (absolute paths) to load. */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval; default 1s. */
  interval?: string;
}

/**
 * A private Prometheus on a free loopback port with its own config and TSDB in a temporary
 * directory, in the foreground (a child of this process); resolves once it serves /-/ready.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gaffer-prometheus-'));
  const port = await freePort();
  const interval = options.interval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: [
      {
        job_name: options.jobName ?? 'gaffer',
        metrics_path: '/metrics',
        static_configs: [{ targets: options.targets }],
      },
    ],
  };
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-10_000)));
  const stop = stopOnce(child, dir);
  try {
    await poll(
      async () => (await fetch(`${url}/-/ready`)).ok,
      30_000,
      () => (child.exitCode !== null ? `prometheus exited (${child.exitCode}):\n${log}` : null),
    );
  } catch (err) {
    await stop();
    throw new Error(`prometheus did not become ready: ${String(err)}\n${log}`, { cause: err });
  }
  return {
    url,
    async api<T>(apiPath: string, query: Record<string, string> = {}): Promise<T> {
      const res = await fetch(`${url}/api/v1/${apiPath}?${new URLSearchParams(query)}`);
      const body = (await res.json()) as { status: string; data: T; error?: string };
      if (body.status !== 'success') throw new Error(`prometheus ${apiPath}: ${body.error}`);
      return body.data;
    },
    stop,
  };
}

/**
 * Re-checks `check` every 200 ms until it holds; rejects after `timeoutMs`, or at once when
 * `fatal` returns a reason. For conditions only an outside server can answer (no event to await).
 */
export async function poll(
  check: () => Promise<boolean>,
  timeoutMs: number,
  fatal: () => string | null = () => null,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = fatal();
    if (reason) throw new Error(reason);
    let last: unknown = null;
    try {
      if (await check()) return;
    } catch (err) {
      last = err; // not up yet: connection refused, or the answer is not there yet
    }
    if (Date.now() > deadline) {
      throw new Error(`condition not met in ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`, {
        cause: last,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
