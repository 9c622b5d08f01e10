import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { ResolvedConfig } from '../../config/load.ts';
import type { ConfigReloader } from '../../config/watch.ts';
import type { QueueView } from '../../jobs/queue-view.ts';
import { DecisionsQuery } from '../schemas.ts';
import { redactConfig } from '../../config/redact.ts';
import { audited, type AuditSink } from '../auth/audit.ts';

/** What the queue, scaling and config routes need. */
export interface QueueRoutesDeps {
  queues: Pick<QueueView, 'status' | 'workers' | 'desired' | 'decisions' | 'workerEvents'>;
  /** The config in force (a reload replaces it). */
  config: () => ResolvedConfig;
  /** Re-reads the config file (set when gaffer was started with one), else null. */
  reloader: () => Pick<ConfigReloader, 'status' | 'reload'> | null;
  now: () => number;
  audit: AuditSink;
}

export const queueRoutes: FastifyPluginAsync<QueueRoutesDeps> = async (app, deps) => {
  const { queues } = deps;
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/queues', { config: { access: 'read' }, schema: { tags: ['queues'] } }, async () => ({
    queues: await queues.status(),
  }));
  r.get('/workers', { config: { access: 'read' }, schema: { tags: ['queues'] } }, async () => ({
    workers: queues.workers(),
  }));
  r.get(
    '/scaling/desired',
    { config: { access: 'read' }, schema: { tags: ['scaling'] } },
    async () => ({
      types: queues.desired(),
    }),
  );
  r.get(
    '/scaling/decisions',
    { config: { access: 'read' }, schema: { querystring: DecisionsQuery, tags: ['scaling'] } },
    async (req) => ({
      decisions: await queues.decisions({ limit: req.query.limit, type: req.query.type }),
    }),
  );
  r.get(
    '/workers/events',
    { config: { access: 'read' }, schema: { querystring: DecisionsQuery, tags: ['queues'] } },
    async (req) => ({
      events: await queues.workerEvents({ limit: req.query.limit, type: req.query.type }),
    }),
  );
  // The effective config with every secret replaced by "[redacted]" (config/redact.ts). Remote
  // workers read jobTypes, leases and storage here (worker/remote.ts).
  // `reload`: the last reload's outcome (config/watch.ts), null until one ran.
  r.get('/config', { config: { access: 'read' }, schema: { tags: ['config'] } }, async () => ({
    ...redactConfig(deps.config()),
    reload: deps.reloader()?.status ?? null,
  }));
  // Re-reads the config file now, as a change to it would; answers the outcome (ok false: the
  // running config stayed, every problem listed). Started without a file: nothing to re-read.
  r.post(
    '/config/reload',
    { config: { access: 'operate' }, schema: { tags: ['config'] } },
    async (req) =>
      audited(
        deps.audit,
        req,
        'config.reload',
        null,
        async () => {
          const reloader = deps.reloader();
          return reloader
            ? reloader.reload()
            : {
                at: deps.now(),
                ok: false,
                errors: [{ path: '', message: 'gaffer was started without a config file' }],
              };
        },
        (s) => s,
      ),
  );
};
