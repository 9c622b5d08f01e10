import v8 from 'node:v8';
import type { Command } from 'commander';
import { isLoopbackHost } from '../api/auth/exposure.ts';
import { createGaffer } from '../library/gaffer.ts';
import type { StopSummary } from '../orchestrator.ts';
import { DEFAULT_URL } from './context.ts';
import { DEFAULT_GRPC } from './jobs-api.ts';

/**
 * `gaffer up`: the API, the autoscaler, the local executor and the dashboard in one process, on the
 * embedded store. It binds its ports and takes its data folder's lock before it opens the store:
 * a second gaffer on the same port or data folder is refused at once (exit 7, EXIT.startup).
 * SIGINT/SIGTERM stop it gracefully: no new workers, every worker drains (takes nothing new,
 * finishes what it runs) for up to --drain-seconds. A second signal, or the drain's end, stops
 * what is left: every job's process tree gets SIGTERM, then SIGKILL after a grace, and gaffer
 * exits 0 once all are gone. Those jobs go back to the queue without spending an attempt (an
 * operator stopped them, they did not fail) and run again on the next start; the last lines say
 * how many. A third signal kills everything at once (the next start then retries those jobs as
 * after a crash, spending an attempt).
 *
 * On a non-loopback host with no API key configured it refuses to start (exit 1, saying how to
 * proceed) unless --allow-unauthenticated or server.allowUnauthenticated (src/api/auth/exposure.ts).
 */
export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run gaffer on one machine: API, autoscaler, local workers, dashboard')
    .option(
      '-c, --config <file>',
      'job types and settings (YAML or JSON)',
      process.env['GAFFER_CONFIG'],
    )
    .option('-p, --port <port>', 'HTTP port', (v) => Number(v))
    .option('--host <host>', 'HTTP host')
    .option(
      '--allow-unauthenticated',
      'listen on a non-loopback host even with no API key configured (anyone reaching it is operator)',
    )
    .option('--data-dir <dir>', 'where the store and scratch files live')
    .option('--log', 'log every request')
    .option('--no-watch', 'do not reload the config file when it changes')
    .option(
      '--drain-seconds <s>',
      'on SIGTERM/SIGINT, how long running jobs may take to finish',
      (v) => Number(v),
      30,
    )
    .action(
      async (opts: {
        config?: string;
        port?: number;
        host?: string;
        allowUnauthenticated?: boolean;
        dataDir?: string;
        log?: boolean;
        watch: boolean;
        drainSeconds: number;
      }) => {
        // A large upload keeps each chunk's rows (records, submissions, jobs) alive until its
        // commit, so V8's allocation-site feedback sees them survive young-generation GCs and
        // allocates them straight in the old space ("pretenuring"), where they die and stay until a
        // full GC: in about half the runs of bench/submission.ts gaffer's RSS rose from ~250 MB to
        // ~370 MB during a 300,000-row upload; with pretenuring off, 10 runs of 300,000 and
        // 1,000,000 rows peaked at 246–252 MB, at the same rate. Read at each GC, so it works set
        // now; set here, for the server process, not by the library in a program that embeds it.
        v8.setFlagsFromString('--no-allocation-site-pretenuring');
        // The library's API (src/library/): a reload re-reads the file with the same env and flags.
        // `listen` binds the ports before the store is opened (after the data folder's lock): a
        // taken port or a data folder another gaffer holds is refused at once (a StartError,
        // reported by main.ts with EXIT.startup), with nothing read or recovered.
        const gaffer = await createGaffer({
          ...(opts.config ? { config: opts.config } : {}),
          env: process.env,
          overrides: {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            ...(opts.host ? { host: opts.host } : {}),
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
          },
          watch: opts.watch,
          listen: {
            logger: Boolean(opts.log),
            ...(opts.allowUnauthenticated ? { allowUnauthenticated: true } : {}),
          },
        });
        const address = gaffer.url!;
        if (!isLoopbackHost(gaffer.config.server.host) && gaffer.config.auth.keys.length === 0) {
          console.error(
            `gaffer up: WARNING: no API key configured and listening on ${gaffer.config.server.host}` +
              ' (allowed unauthenticated): whoever reaches this port is the operator of every type',
          );
        }
        const grpc =
          gaffer.grpcPort === null ? null : grpcAddress(gaffer.config.server.host, gaffer.grpcPort);
        if (grpc !== null) console.log(`gaffer up: gRPC on ${grpc}`);
        console.log(
          `gaffer up: ${address} (dashboard ${address}/, API ${address}/v1, metrics ${address}/metrics)`,
        );
        for (const line of cliPointers(address, grpc)) console.log(line);
        console.log(`job types: ${gaffer.types.join(', ') || '(none: pass --config)'}`);
        let signals = 0;
        let closing: Promise<never> | null = null;
        const close = () =>
          (closing ??= gaffer.close().then(
            (summary) => {
              for (const line of stopReport(summary)) console.log(line);
              process.exit(0);
            },
            (err: unknown) => {
              // The process's exit still kills every worker's process tree (local-process).
              console.error(`gaffer: stopping failed: ${String(err)}`);
              process.exit(1);
            },
          ));
        const stop = async (signal: string) => {
          signals++;
          if (signals === 2) {
            console.log(
              `gaffer: ${signal} again, stopping now: running jobs are stopped (SIGTERM, then ` +
                `SIGKILL after a grace) and handed back to the queue (${signal} again: kill now)`,
            );
            return close();
          }
          if (signals > 2) {
            // No time to record anything: the next start retries those jobs as after a crash.
            console.log(`gaffer: ${signal} a third time: killing every job now`);
            process.exit(130); // the exit kills every worker's process tree
          }
          console.log(
            `gaffer: ${signal}, draining: running jobs may finish for up to ` +
              `${opts.drainSeconds} s, nothing new starts (${signal} again: stop now)`,
          );
          const drained = await gaffer.drain(opts.drainSeconds * 1000);
          if (signals > 1) return; // a second signal took over
          console.log(
            drained
              ? 'gaffer: every running job finished; stopping'
              : 'gaffer: drain time is up: stopping the jobs still running (SIGTERM, then ' +
                  'SIGKILL after a grace); they go back to the queue',
          );
          return close();
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );
}

/**
 * The banner's lines that tell the CLI where this gaffer is — the `export` a shell needs — when it
 * is not where the CLI looks by default (context.ts's DEFAULT_URL, jobs-api.ts's DEFAULT_GRPC).
 * None at the defaults.
 */
export function cliPointers(url: string, grpc: string | null): string[] {
  const lines: string[] = [];
  if (url !== DEFAULT_URL) {
    lines.push(`gaffer up: for the CLI in another shell: export GAFFER_URL=${url}`);
  }
  if (grpc !== null && grpc !== DEFAULT_GRPC) {
    lines.push(`gaffer up: for --mode grpc: export GAFFER_GRPC=${grpc}`);
  }
  return lines;
}

/** The gRPC address a client dials: the any-address as loopback, IPv6 in brackets. */
function grpcAddress(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::') return `127.0.0.1:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** What the stop did with the jobs that were running, in words. */
export function stopReport(summary: StopSummary): string[] {
  const jobs = (n: number) => (n === 1 ? '1 job' : `${n} jobs`);
  const ids = (list: readonly string[]) =>
    list.slice(0, 10).join(', ') + (list.length > 10 ? `, … (${list.length - 10} more)` : '');
  const lines: string[] = [];
  const back = summary.handedBack.length;
  if (back > 0) {
    lines.push(
      `gaffer: stopped; ${jobs(back)} interrupted by the stop went back to the queue without ` +
        `spending an attempt and run again on the next start (none failed): ` +
        ids(summary.handedBack),
    );
  } else {
    lines.push('gaffer: stopped; no job was interrupted');
  }
  if (summary.unrecorded.length > 0) {
    lines.push(
      `gaffer: ${jobs(summary.unrecorded.length)} could not be handed back (the store refused): ` +
        `the next start retries them as after a crash, spending an attempt: ` +
        ids(summary.unrecorded),
    );
  }
  return lines;
}
