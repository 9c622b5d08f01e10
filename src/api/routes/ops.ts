import type { FastifyPluginAsync } from 'fastify';
import { GafferError } from '../../errors.ts';
import type { GafferMetrics } from '../../metrics/metrics.ts';
import type { QueueView } from '../../jobs/queue-view.ts';

/** What /metrics, /healthz and /readyz need: the metrics, and the queue view to ask the store. */
export interface OpsRoutesDeps {
  metrics: GafferMetrics;
  queues: Pick<QueueView, 'stats'>;
}

export const opsRoutes: FastifyPluginAsync<OpsRoutesDeps> = async (app, { metrics, queues }) => {
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
      await queues.stats();
    } catch (err) {
      throw new GafferError('GAFFER_UNAVAILABLE', 'the store does not answer', { cause: err });
    }
    return { status: 'ready' };
  });
};
