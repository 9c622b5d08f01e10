import type { Command } from 'commander';
import { buildApp } from '../api/app.ts';
import { startGrpcServer } from '../api/grpc/server.ts';
import { resolveConfig } from '../config/load.ts';
import { ConfigReloader, watchConfig } from '../config/watch.ts';
import { Orchestrator } from '../orchestrator.ts';

/**
 * `gaffer up`: the API, the autoscaler, the local executor and the dashboard in one process, on the
 * embedded store. SIGINT/SIGTERM stop it gracefully: no new workers, every worker drains (takes
 * nothing new, finishes what it runs) for up to --drain-seconds, then the listener closes and
 * gaffer exits 0. A second signal, or the drain's end, stops what is left at once; those jobs are
 * retried on the next start (nothing is lost).
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
        dataDir?: string;
        log?: boolean;
        watch: boolean;
        drainSeconds: number;
      }) => {
        // Kept whole: a reload layers env and these same flags over the re-read file.
        const sources = {
          ...(opts.config ? { file: opts.config } : {}),
          env: process.env,
          overrides: {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            ...(opts.host ? { host: opts.host } : {}),
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
          },
        };
        const config = await resolveConfig(sources);
        const orch = await Orchestrator.open({ config });
        await orch.start();
        // With a config file: POST /v1/config/reload re-reads it, and (unless --no-watch) so
        // does every change to it (config/watch.ts).
        if (opts.config) {
          orch.reloader = new ConfigReloader({
            load: () => resolveConfig(sources),
            apply: (next) => orch.reload(next),
            now: () => orch.clock.now(),
          });
        }
        const watcher = opts.config && opts.watch ? watchConfig(opts.config, orch.reloader!) : null;
        const app = await buildApp(orch, { logger: Boolean(opts.log) });
        const address = await app.listen({ host: config.server.host, port: config.server.port });
        orch.listening(address); // networked workers connect back here (unless executor.gafferUrl)
        // gRPC (docs/grpc.md) when server.grpcPort is set, on the same host.
        const grpc =
          config.server.grpcPort === undefined
            ? null
            : await startGrpcServer(orch, {
                host: config.server.host,
                port: config.server.grpcPort,
              });
        if (grpc) console.log(`gaffer up: gRPC on ${config.server.host}:${grpc.port}`);
        console.log(
          `gaffer up: ${address} (dashboard ${address}/, API ${address}/v1, metrics ${address}/metrics)`,
        );
        console.log(`job types: ${orch.catalog.names().join(', ') || '(none: pass --config)'}`);
        let signals = 0;
        const close = async () => {
          watcher?.close();
          await grpc?.close();
          await app.close();
          await orch.close();
          process.exit(0);
        };
        const stop = async (signal: string) => {
          if (++signals > 1) {
            console.log(`gaffer: ${signal} again, stopping now`);
            return close();
          }
          console.log(`gaffer: ${signal}, draining (up to ${opts.drainSeconds} s)`);
          const drained = await orch.drain(opts.drainSeconds * 1000);
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
