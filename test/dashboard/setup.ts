import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const H = 'test/dashboard/fixtures/handlers.ts';

/** The job types the dashboard tests and the screenshots use. */
export const DASHBOARD_TYPES = {
  ok: { worker: { handler: `${H}#ok` }, scaling: { max: 2 } },
  fail: {
    worker: { handler: `${H}#fail` },
    retry: { maxAttempts: 1 },
    deadLetter: false,
    scaling: { max: 1 },
  },
  doomed: {
    worker: { handler: `${H}#fail` },
    retry: { maxAttempts: 1, backoffMs: 0 },
    scaling: { max: 1 },
  },
  sleep: { worker: { handler: `${H}#sleep` }, scaling: { max: 2 } },
  chatty: { worker: { handler: `${H}#chatty` }, scaling: { max: 1 } },
  /** Never scaled: its jobs wait, and say why. */
  held: { worker: { handler: `${H}#ok` }, scaling: { max: 0 } },
  row: {
    worker: { handler: `${H}#row` },
    retry: { maxAttempts: 1 },
    deadLetter: false,
    payloadSchema: {
      type: 'object',
      properties: {
        n: { type: 'string', pattern: '^[0-9]+$' },
        fail: { type: 'string' },
        ms: { type: 'string' },
      },
      required: ['n'],
    },
    scaling: { max: 2 },
  },
};

/** A real gaffer with the dashboard's job types, listening on 127.0.0.1 for the browser. */
export async function startDashboardGaffer(
  extra: Record<string, unknown> = {},
): Promise<TestGaffer & { url: string }> {
  const g = await startGaffer({
    autoscaler: { intervalMs: 200 },
    jobTypes: DASHBOARD_TYPES,
    ...extra,
  });
  const url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  return Object.assign(g, { url });
}
