import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { GafferError } from '../../errors.ts';
import type { Orchestrator } from '../../orchestrator.ts';

export const opsRoutes: FastifyPluginAsync<{ orch: Orchestrator; metrics: Registry }> = async (
  app,
  { orch, metrics },
) => {
  app.get('/metrics', { schema: { tags: ['ops'] } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
  app.get('/healthz', { schema: { tags: ['ops'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['ops'] } }, async () => {
    try {
      await orch.store.queueStats(orch.clock.now());
    } catch (err) {
      throw new GafferError('GAFFER_UNAVAILABLE', 'the store does not answer', { cause: err });
    }
    return { status: 'ready' };
  });
};
