import v8 from 'node:v8';
import type { Command } from 'commander';
import { assertExposureAllowed, isLoopbackHost } from '../api/auth/exposure.ts';
import { resolveConfig } from '../config/load.ts';
import { createGaffer } from '../library/gaffer.ts';

/**
 * `gaffer up`: the API, the autoscaler, the local executor and the dashboard in one process, on the
 * embedded store. SIGINT/SIGTERM stop it gracefully: no new workers, every worker drains (takes
 * nothing new, finishes what it runs) for up to --drain-seconds, then the listener closes and
 * gaffer exits 0. A second signal, or the drain's end, stops what is left at once; those jobs are
 * retried on the next start (nothing is lost).
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
        const overrides = {
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
        };
        // Refused before anything starts (no store opened, no job recovered, no worker started):
        // `listen` checks the same, but only once gaffer runs.
        const config = await resolveConfig({
          ...(opts.config ? { file: opts.config } : {}),
          env: process.env,
          overrides,
        });
        const allowUnauthenticated =
          Boolean(opts.allowUnauthenticated) || config.server.allowUnauthenticated;
        assertExposureAllowed(
          config,
          config.server.host,
          allowUnauthenticated,
          'gaffer up --allow-unauthenticated (or server.allowUnauthenticated: true in the config)',
        );
        // The library's API (src/library/): a reload re-reads the file with the same env and flags.
        const gaffer = await createGaffer({
          ...(opts.config ? { config: opts.config } : {}),
          env: process.env,
          overrides,
          watch: opts.watch,
        });
        const address = await gaffer
          .listen({ logger: Boolean(opts.log), allowUnauthenticated })
          .catch(async (err: unknown) => {
            await gaffer.close();
            throw err;
          });
        if (!isLoopbackHost(gaffer.config.server.host) && gaffer.config.auth.keys.length === 0) {
          console.error(
            `gaffer up: WARNING: no API key configured and listening on ${gaffer.config.server.host}` +
              ' (allowed unauthenticated): whoever reaches this port is the operator of every type',
          );
        }
        if (gaffer.grpcPort !== null) {
          console.log(`gaffer up: gRPC on ${gaffer.config.server.host}:${gaffer.grpcPort}`);
        }
        console.log(
          `gaffer up: ${address} (dashboard ${address}/, API ${address}/v1, metrics ${address}/metrics)`,
        );
        console.log(`job types: ${gaffer.types.join(', ') || '(none: pass --config)'}`);
        let signals = 0;
        const close = async () => {
          await gaffer.close();
          process.exit(0);
        };
        const stop = async (signal: string) => {
          if (++signals > 1) {
            console.log(`gaffer: ${signal} again, stopping now`);
            return close();
          }
          console.log(`gaffer: ${signal}, draining (up to ${opts.drainSeconds} s)`);
          const drained = await gaffer.drain(opts.drainSeconds * 1000);
          if (!drained) {
            console.log('gaffer: drain time is up; unfinished jobs run again next start');
          }
          await close();
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );
}
