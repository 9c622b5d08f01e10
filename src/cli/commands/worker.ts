import type { Command } from 'commander';
import { DEFAULT_URL, UsageError, parseIntOption } from '../context.ts';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("run a worker for one job type on this machine, connected to gaffer's API")
    .requiredOption('-t, --type <type>', 'the job type to run')
    .option('--token <token>', 'the worker token (default: $GAFFER_WORKER_TOKEN)')
    .option('-c, --concurrency <n>', "jobs at once (default: the type's)", parseIntOption(1))
    .option('--id <id>', 'worker id (default: host-pid)')
    .option('--job <id>', 'run only this job, already claimed for this worker (per-job mode)')
    .option(
      '--broker <url>',
      'take jobs from this broker (amqp://…, redis://…) instead of long-polling gaffer',
    )
    .action(
      async (
        opts: {
          type: string;
          token?: string;
          concurrency?: number;
          id?: string;
          broker?: string;
          job?: string;
        },
        cmd: Command,
      ) => {
        const token = opts.token ?? process.env['GAFFER_WORKER_TOKEN'];
        if (!token) {
          throw new UsageError('a worker token is required: --token or $GAFFER_WORKER_TOKEN');
        }
        const globals = cmd.optsWithGlobals<{ url?: string }>();
        // Loaded only here: the worker runtime is not needed by any other command.
        const { runRemoteWorker } = await import('../../worker/remote.ts');
        const code = await runRemoteWorker({
          url: globals.url ?? process.env['GAFFER_URL'] ?? DEFAULT_URL,
          token,
          type: opts.type,
          ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
          ...(opts.id ? { workerId: opts.id } : {}),
          ...(opts.broker ? { broker: opts.broker } : {}),
          ...(opts.job ? { jobId: opts.job } : {}),
        });
        process.exit(code);
      },
    );
}
