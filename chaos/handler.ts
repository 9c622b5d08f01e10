import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { JobContext } from '../src/worker/handler.ts';

/**
 * The chaos run's job handler (research/reliability.md, profile P). Every execution appends a
 * `start` line to the ledger, and a completed one an `end` line with a nonce that is also its
 * result — appendFileSync (O_APPEND) returns only once the line is in the file, so a worker killed
 * afterwards has not lost it. Before the `end` line it writes its side effect, keyed by the
 * client's submission key and the job id, as an idempotent upsert would: one row per job, so a
 * submission run under two job ids shows as a duplicate effect.
 *
 * Payload: `{ key, ms }` sleeps `ms`; `{ key, poison: true }` kills its own worker, every time.
 */
interface Payload {
  key: string;
  ms?: number;
  poison?: boolean;
}

export default async function chaos(ctx: JobContext<Payload>): Promise<{ nonce: string }> {
  const dir = process.env['CHAOS_DIR'];
  if (!dir) throw new Error('CHAOS_DIR is not set');
  const ledger = path.join(dir, 'ledger.ndjson');
  const line = (entry: object) => appendFileSync(ledger, `${JSON.stringify(entry)}\n`);
  // The parent too: a suspect job runs in a sandbox process of its own, a child of its worker
  // (src/worker/sandbox-runner.ts), which a fault on the worker also cuts short.
  const base = { job: ctx.id, attempt: ctx.attempt, pid: process.pid, ppid: process.ppid };
  line({ t: 'start', ...base, at: Date.now(), ...(ctx.payload.poison ? { poison: true } : {}) });
  if (ctx.payload.poison) process.kill(process.pid, 'SIGKILL');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ctx.payload.ms ?? 0);
    ctx.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    });
  });
  const nonce = randomUUID();
  const effects = path.join(dir, 'effects', encodeURIComponent(ctx.payload.key));
  mkdirSync(effects, { recursive: true });
  writeFileSync(path.join(effects, ctx.id), nonce);
  line({ t: 'end', ...base, at: Date.now(), nonce });
  return { nonce };
}
