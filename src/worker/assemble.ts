import { createBroker } from '../brokers/registry.ts';
import { BrokerFeed } from './broker-feed.ts';
import { createCommandRunner } from './command-runner.ts';
import { consumerPriority } from './consumer-priority.ts';
import { createHandlerRunner } from './handler-runner.ts';
import type { WorkerSpec } from './protocol.ts';
import type { JobRunner, WorkerLink } from './runtime.ts';
import { withDataStaging } from './staged-runner.ts';

/**
 * What every worker process builds from its spec, whatever carries its link (IPC in main.ts, a
 * WebSocket in remote.ts): the runner, and in broker mode the feed between the link and the loop.
 */

/**
 * The type's in-process handler or command, with its data staging (inputs in, output out) around it. A handler
 * runs in this process, so the type's `worker.env` becomes this process's environment (a
 * command gets it in its own environment instead).
 */
export async function createRunner(spec: WorkerSpec): Promise<JobRunner> {
  if (spec.handler) Object.assign(process.env, spec.env);
  const inner = spec.handler
    ? await createHandlerRunner(spec.handler, spec.cwd, spec.killGraceMs)
    : createCommandRunner(spec);
  return withDataStaging(inner, spec);
}

/**
 * Broker mode: deliveries come from the broker; claims, heartbeats and outcomes still go to gaffer
 * over `link`. Earlier-started workers subscribe with a higher priority (`consumerPriority`). Null without a broker: the worker long-polls gaffer on `link` itself.
 */
export async function createFeed(spec: WorkerSpec, link: WorkerLink): Promise<BrokerFeed | null> {
  if (!spec.broker) return null;
  return new BrokerFeed({
    link,
    broker: await createBroker(spec.broker),
    queue: spec.broker.queue,
    prefetch: spec.concurrency,
    priority: consumerPriority(Date.now()),
  });
}
