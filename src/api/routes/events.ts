import type { FastifyPluginAsync } from 'fastify';
import type { Job } from '../../domain/job.ts';
import type { GafferEvents } from '../../domain/events.ts';
import { allowsType } from '../auth/access.ts';

/**
 * Server-sent events for live views. Job changes are coalesced into one `jobs` event per 250 ms
 * (a sample of 20 plus a count), so a 10,000-job burst does not flood a browser.
 */
export interface EventRoutesDeps {
  events: Pick<GafferEvents, 'on'>;
  now: () => number;
}

export const eventRoutes: FastifyPluginAsync<EventRoutesDeps> = async (app, { events, now }) => {
  // A stream never ends by itself: when gaffer stops, each is ended (a browser's EventSource
  // reconnects), or the server's close would wait for them for ever.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });
  app.get('/events', { config: { access: 'read' }, schema: { tags: ['events'] } }, (req, reply) => {
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // A HEAD request (Fastify adds the route) gets the headers and no stream: Node would otherwise
    // hold its headers back, waiting for a body a HEAD answer never has.
    if (req.method === 'HEAD') {
      reply.raw.end();
      return;
    }
    const send = (event: string, data: unknown) =>
      reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('hello', { at: now() });
    let changed = 0;
    let sample: { id: string; type: string; state: string; attempt: number }[] = [];
    // A type-scoped key sees changes of its own types only; workers and decisions name types,
    // not payloads, and stay unfiltered (docs/security.md).
    const jobChanged = (job: Job) => {
      if (!allowsType(req.principal, job.type)) return;
      changed++;
      if (sample.length < 20) {
        sample.push({ id: job.id, type: job.type, state: job.state, attempt: job.attempt });
      }
    };
    const offs = [
      events.on('job:queued', ({ jobs }) => jobs.forEach(jobChanged)),
      events.on('job:started', ({ job }) => jobChanged(job)),
      events.on('job:succeeded', ({ job }) => jobChanged(job)),
      events.on('job:failed', ({ job }) => jobChanged(job)),
      events.on('job:retrying', ({ job }) => jobChanged(job)),
      events.on('job:cancelled', ({ job }) => jobChanged(job)),
      events.on('job:expired', ({ job }) => jobChanged(job)),
      events.on('worker:started', ({ worker }) => send('worker', worker)),
      events.on('worker:state', ({ worker }) => send('worker', worker)),
      events.on('worker:stopped', ({ worker }) => send('worker', worker)),
      events.on('scaler:decision', ({ decision }) => send('decision', decision)),
      events.on('batch:progress', ({ batchId }) => send('batch', { batchId })),
    ];
    const timer = setInterval(() => {
      if (changed > 0) send('jobs', { changed, sample });
      changed = 0;
      sample = [];
    }, 250);
    const end = () => reply.raw.end();
    streams.add(end);
    req.raw.on('close', () => {
      streams.delete(end);
      clearInterval(timer);
      for (const off of offs) off();
    });
  });
};
