import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import type { HistorySampler } from '../../history/index.ts';
import { allowsType } from '../auth/access.ts';

/** A duration with its unit: `500ms`, `10s`, `1.5m`, `1h`. */
const DURATION = '[0-9]{1,9}(?:\\.[0-9]{1,3})?(?:ms|s|m|h)';

const HistoryQuery = Type.Object({
  /**
   * Only samples taken at or after it: store-clock ms (a client appending to what it has), or a
   * duration back from now as the CLI writes one (`10s`, `5m`, `1h`, `500ms`).
   */
  since: Type.Optional(Type.String({ pattern: `^(?:[0-9]{1,16}|${DURATION})$` })),
});

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The `since` timestamp a query names: its digits, or now minus its duration. */
export function sinceOf(given: string | undefined, now: number): number {
  if (given === undefined) return 0;
  const m = /^([0-9.]+)(ms|s|m|h)$/.exec(given);
  return m ? now - Number(m[1]) * UNIT_MS[m[2]!]! : Number(given);
}

/**
 * GET /v1/stats/history: the sampler's last hour (src/history) — queue depth, throughput and
 * workers by state per type, every `intervalMs`. Types the caller may not see are left out.
 */
export interface HistoryRoutesDeps {
  history: Pick<HistorySampler, 'intervalMs' | 'since'>;
  now: () => number;
}

export const historyRoutes: FastifyPluginAsync<HistoryRoutesDeps> = async (
  app,
  { history, now },
) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get(
    '/stats/history',
    { config: { access: 'read' }, schema: { querystring: HistoryQuery, tags: ['queues'] } },
    async (req) => ({
      intervalMs: history.intervalMs,
      now: now(),
      samples: history.since(sinceOf(req.query.since, now())).map((s) => ({
        at: s.at,
        types: Object.fromEntries(
          Object.entries(s.types).filter(([type]) => allowsType(req.principal, type)),
        ),
      })),
    }),
  );
};
