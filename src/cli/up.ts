import type { Command } from 'commander';
import { buildApp } from '../api/app.ts';
import { resolveConfig } from '../config/load.ts';
import { Orchestrator } from '../orchestrator.ts';

/**
 * `gaffer up`: the API, the autoscaler, the local executor and the dashboard in one process, on the
 * embedded store. SIGINT/SIGTERM stop it: the listener closes, then workers are stopped; their
 * unfinished jobs are retried on the next start (nothing is lost).
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
    .action(
      async (opts: {
        config?: string;
        port?: number;
        host?: string;
        dataDir?: string;
        log?: boolean;
      }) => {
        const config = await resolveConfig({
          ...(opts.config ? { file: opts.config } : {}),
          env: process.env,
          overrides: {
            ...(opts.port !== undefined ? { port: opts.port } : {}),
            ...(opts.host ? { host: opts.host } : {}),
            ...(opts.dataDir ? { dataDir: opts.dataDir } : {}),
          },
        });
        const orch = await Orchestrator.open({ config });
        await orch.start();
        const app = await buildApp(orch, { logger: Boolean(opts.log) });
        const address = await app.listen({ host: config.server.host, port: config.server.port });
        orch.listening(address); // networked workers connect back here (unless executor.gafferUrl)
        console.log(
          `gaffer up: ${address} (dashboard ${address}/, API ${address}/v1, metrics ${address}/metrics)`,
        );
        console.log(`job types: ${orch.catalog.names().join(', ') || '(none: pass --config)'}`);
        let stopping = false;
        const stop = async (signal: string) => {
          if (stopping) return;
          stopping = true;
          console.log(`gaffer: ${signal}, stopping`);
          await app.close();
          await orch.close();
          process.exit(0);
        };
        process.on('SIGINT', () => void stop('SIGINT'));
        process.on('SIGTERM', () => void stop('SIGTERM'));
      },
    );
}
