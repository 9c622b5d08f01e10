import type { FastifyPluginAsync } from 'fastify';
import { GafferError } from '../../errors.ts';
import type { GafferMetrics } from '../../metrics/metrics.ts';
import type { Orchestrator } from '../../orchestrator.ts';

export const opsRoutes: FastifyPluginAsync<{ orch: Orchestrator; metrics: GafferMetrics }> = async (
  app,
  { orch, metrics },
) => {
  app.get(
    '/metrics',
    { config: { access: 'read' }, schema: { tags: ['ops'] } },
    async (_req, reply) => {
      await metrics.refresh();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['ops'] } }, async () => ({
    status: 'ok',
  }));
  app.get('/readyz', { config: { access: 'public' }, schema: { tags: ['ops'] } }, async () => {
    try {
      await orch.store.queueStats(orch.clock.now());
    } catch (err) {
      throw new GafferError('GAFFER_UNAVAILABLE', 'the store does not answer', { cause: err });
    }
    return { status: 'ready' };
  });
};
