import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { Orchestrator } from '../../orchestrator.ts';
import { allowsType } from '../auth/access.ts';

const HistoryQuery = Type.Object({
  /** Store-clock ms: only samples taken at or after it (a client appending to what it has). */
  since: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * GET /v1/stats/history: the sampler's last hour (src/history) — queue depth, throughput and
 * workers by state per type, every `intervalMs`. Types the caller may not see are left out.
 */
export const historyRoutes: FastifyPluginAsync<{ orch: Orchestrator }> = async (app, { orch }) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/stats/history',
    { config: { access: 'read' }, schema: { querystring: HistoryQuery, tags: ['queues'] } },
    async (req) => ({
      intervalMs: orch.history.intervalMs,
      now: orch.clock.now(),
      samples: orch.history.since(req.query.since ?? 0).map((s) => ({
        at: s.at,
        types: Object.fromEntries(
          Object.entries(s.types).filter(([type]) => allowsType(req.principal, type)),
        ),
      })),
    }),
  );
};
