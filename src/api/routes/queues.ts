import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Orchestrator } from '../../orchestrator.ts';
import { DecisionsQuery } from '../schemas.ts';
import { redactConfig } from '../../config/redact.ts';
import { audited } from '../auth/audit.ts';

export const queueRoutes: FastifyPluginAsync<{ orch: Orchestrator }> = async (app, { orch }) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/queues', { config: { access: 'read' }, schema: { tags: ['queues'] } }, async () => ({
    queues: await queueStatus(orch),
  }));
  r.get('/workers', { config: { access: 'read' }, schema: { tags: ['queues'] } }, async () => ({
    workers: orch.gateway.workers(),
  }));
  r.get(
    '/scaling/desired',
    { config: { access: 'read' }, schema: { tags: ['scaling'] } },
    async () => ({
      types: desiredScale(orch),
    }),
  );
  r.get(
    '/scaling/decisions',
    { config: { access: 'read' }, schema: { querystring: DecisionsQuery, tags: ['scaling'] } },
    async (req) => ({
      decisions: await orch.store.decisions({
        limit: req.query.limit,
        ...(req.query.type ? { type: req.query.type } : {}),
      }),
    }),
  );
  r.get(
    '/workers/events',
    { config: { access: 'read' }, schema: { querystring: DecisionsQuery, tags: ['queues'] } },
    async (req) => ({
      events: await orch.store.workerEvents({
        limit: req.query.limit,
        ...(req.query.type ? { type: req.query.type } : {}),
      }),
    }),
  );
  // The effective config with every secret replaced by "[redacted]" (config/redact.ts). Remote
  // workers read jobTypes, leases and storage here (worker/remote.ts).
  // `reload`: the last reload's outcome (config/watch.ts), null until one ran.
  r.get('/config', { config: { access: 'read' }, schema: { tags: ['config'] } }, async () => ({
    ...redactConfig(orch.config),
    reload: orch.reloader?.status ?? null,
  }));
  // Re-reads the config file now, as a change to it would; answers the outcome (ok false: the
  // running config stayed, every problem listed). Started without a file: nothing to re-read.
  r.post(
    '/config/reload',
    { config: { access: 'operate' }, schema: { tags: ['config'] } },
    async (req) =>
      audited(
        orch,
        req,
        'config.reload',
        null,
        async () =>
          orch.reloader
            ? orch.reloader.reload()
            : {
                at: orch.clock.now(),
                ok: false,
                errors: [{ path: '', message: 'gaffer was started without a config file' }],
              },
        (s) => s,
      ),
  );
};

/** Per type: the backlog, the workers by state, and what the autoscaler wants. */
export async function queueStatus(orch: Orchestrator) {
  const stats = new Map((await orch.store.queueStats(orch.clock.now())).map((s) => [s.type, s]));
  const desired = desiredScale(orch);
  return orch.catalog.names().map((type) => {
    const config = orch.catalog.type(type)!;
    const s = stats.get(type);
    const workers = { starting: 0, idle: 0, busy: 0, draining: 0 };
    for (const w of orch.gateway.workers(type)) if (w.state !== 'stopped') workers[w.state]++;
    return {
      type,
      queue: config.queue,
      mode: config.mode,
      ready: s?.ready ?? 0,
      delayed: s?.delayed ?? 0,
      inFlight: s?.inFlight ?? 0,
      // Ready + in flight: the work a pool must hold — a scale signal for outside autoscalers
      // (KEDA's metrics-api scaler) that does not forget running jobs the way ready alone does.
      backlog: (s?.ready ?? 0) + (s?.inFlight ?? 0),
      byState: s?.byState ?? {},
      oldestReadyAt: s?.oldestReadyAt ?? null,
      workers,
      desired: desired[type]?.desired ?? 0,
      min: config.scaling.min,
      max: config.scaling.max,
    };
  });
}

export function desiredScale(
  orch: Orchestrator,
): Record<string, { current: number; desired: number }> {
  const last = orch.loop.lastDecisions();
  const out: Record<string, { current: number; desired: number }> = {};
  for (const type of orch.catalog.names()) {
    const current = orch.gateway
      .workers(type)
      .filter((w) => w.state !== 'draining' && w.state !== 'stopped').length;
    out[type] = { current, desired: last.get(type)?.inputs['desired'] ?? current };
  }
  return out;
}
