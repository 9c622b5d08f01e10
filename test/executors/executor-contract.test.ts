import { parseConfig } from '../../src/config/load.ts';
import { createInProcessExecutor } from '../../src/executors/in-process/index.ts';
import { createLocalProcessExecutor } from '../../src/executors/local-process/index.ts';
import { spec } from '../fixtures/harness.ts';
import { describeExecutorContract, HookLog, type ExecutorSubject } from './executor.contract.ts';

// The Executor contract on the executors that run on this machine; test/k8s/executor-contract
// .test.ts runs it on the Kubernetes pool.

const { jobTypes } = parseConfig(
  {
    jobTypes: {
      // A pool worker that waits for claims nobody answers: alive until killed.
      cmd: { worker: { command: ['true'] } },
      sized: { worker: { command: ['true'], resources: { cpu: '1' } } },
    },
  },
  'test',
);
const TYPES = { ...jobTypes, image: { ...jobTypes['cmd']!, worker: { image: 'x:1', env: {} } } };

/** Whose exits the hooks counted: a direct executor reports every exit through them. */
function direct(log: HookLog): Pick<ExecutorSubject, 'connected' | 'exited' | 'exits'> {
  return {
    connected: (id) => log.until(() => log.connects.has(id)),
    exited: (id) => log.until(() => log.exitCalls.has(id)),
    exits: (id) => log.exitCalls.get(id) ?? 0,
  };
}

describeExecutorContract('local-process', async () => {
  const log = new HookLog();
  const executor = createLocalProcessExecutor({
    hooks: log.wrap(),
    jobType: (name) => TYPES[name as keyof typeof TYPES],
    local: { cpus: '4', memory: '8Gi' },
  });
  return {
    executor,
    log,
    ...direct(log),
    request: (workerId) => ({ workerId, spec: spec({ type: 'cmd', command: ['true'] }) }),
    types: { runnable: 'cmd', notRunnable: 'image', counted: 'sized' },
    close: () => executor.close(),
  };
});

describeExecutorContract('in-process', async () => {
  const log = new HookLog();
  const executor = createInProcessExecutor({
    handler: (type) => (type === 'fn' ? async () => ({ ok: true }) : undefined),
    hooks: log.wrap(),
  });
  return {
    executor,
    log,
    ...direct(log),
    request: (workerId) => ({ workerId, spec: spec({ type: 'fn' }) }),
    types: { runnable: 'fn', notRunnable: 'cmd' },
    close: () => executor.close(),
  };
});
