/**
 * Every API route the client calls, by the method that calls it. The methods build their requests
 * from this table (transport.ts), so it cannot drift from what they send; test/cli/routes.test.ts
 * checks it against the routes the real app registers, and fails on a route no method covers.
 */
export const ROUTES = {
  'jobs.submit': 'POST /v1/jobs',
  'jobs.submitBatch': 'POST /v1/jobs/batch',
  'jobs.list': 'GET /v1/jobs',
  'jobs.get': 'GET /v1/jobs/:id',
  'jobs.cancel': 'POST /v1/jobs/:id/cancel',
  'jobs.retry': 'POST /v1/jobs/:id/retry',
  'jobs.logs': 'GET /v1/jobs/:id/logs',
  'jobs.attempts': 'GET /v1/jobs/:id/attempts',
  'jobs.uploadCsv': 'POST /v1/batches',
  'jobs.submitStream': 'POST /v1/batches',
  'jobs.run': 'POST /v1/run',
  'batches.list': 'GET /v1/batches',
  'batches.get': 'GET /v1/batches/:id',
  'batches.rejected': 'GET /v1/batches/:id/rejected',
  'batches.retryFailed': 'POST /v1/batches/:id/retry-failed',
  'deadLetters.list': 'GET /v1/dead-letters',
  'deadLetters.get': 'GET /v1/dead-letters/:id',
  'deadLetters.edit': 'PATCH /v1/dead-letters/:id',
  'deadLetters.replay': 'POST /v1/dead-letters/:id/replay',
  'deadLetters.replayMany': 'POST /v1/dead-letters/replay',
  queues: 'GET /v1/queues',
  'types.paused': 'GET /v1/types/paused',
  'types.pause': 'POST /v1/types/:type/pause',
  'types.resume': 'POST /v1/types/:type/resume',
  'schedules.list': 'GET /v1/schedules',
  'schedules.get': 'GET /v1/schedules/:name',
  'schedules.put': 'PUT /v1/schedules/:name',
  'schedules.delete': 'DELETE /v1/schedules/:name',
  'schedules.pause': 'POST /v1/schedules/:name/pause',
  'schedules.resume': 'POST /v1/schedules/:name/resume',
  'schedules.trigger': 'POST /v1/schedules/:name/trigger',
  'workers.list': 'GET /v1/workers',
  'workers.events': 'GET /v1/workers/events',
  'scaling.desired': 'GET /v1/scaling/desired',
  'scaling.decisions': 'GET /v1/scaling/decisions',
  config: 'GET /v1/config',
  reloadConfig: 'POST /v1/config/reload',
  events: 'GET /v1/events',
  'stats.history': 'GET /v1/stats/history',
  'session.login': 'POST /v1/session',
  'session.whoami': 'GET /v1/session',
  'session.logout': 'DELETE /v1/session',
  'audit.list': 'GET /v1/audit',
  metrics: 'GET /metrics',
  health: 'GET /healthz',
  ready: 'GET /readyz',
  openapi: 'GET /openapi.json',
} as const;

export type RouteName = keyof typeof ROUTES;

/** `GET /v1/jobs/:id` with `{ id: 'a/b' }` → `['GET', '/v1/jobs/a%2Fb']`. */
export function resolveRoute(
  name: RouteName,
  params: Record<string, string> = {},
): [method: string, path: string] {
  const [method, template] = ROUTES[name].split(' ') as [string, string];
  const path = template.replace(/:(\w+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new TypeError(`${name}: missing path parameter ${key}`);
    return encodeURIComponent(value);
  });
  return [method, path];
}
