import { GafferApiError, GafferConnectionError, type GafferClient } from '../client/index.ts';
import { nextStep, type PacePlan } from './pacing.ts';
import { CompletionTracker } from './tracker.ts';

/**
 * The load run: sends requests on the pacing schedule (pacing.ts) through the typed client,
 * counts answers, and follows accepted jobs to their end (tracker.ts) while it sends and for up
 * to `waitCompletionMs` after. All time comes from the injected clock.
 */

export interface LoadClock {
  /** Monotonic ms (performance.now in a real run). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface LoadSpec {
  plan: PacePlan;
  /** Sent as each job's type; null: the route rules pick. */
  type: string | null;
  /** Job `i`'s payload (template.ts or a CSV row). */
  payload(i: number): unknown;
  /** true: POST /v1/jobs/batch with `plan.batch` jobs each; false: one POST /v1/jobs per job. */
  useBatch: boolean;
  /** How long to keep following jobs after the last request answered. */
  waitCompletionMs: number;
  /** Between completion sweeps (a sweep that takes longer spaces them further); default 1000. */
  sweepEveryMs?: number;
}

export interface LoadCounters {
  submitted: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  requests: number;
  /** Answer time (ms) of each request. */
  submitMs: number[];
}

export type LoadPhase = 'submitting' | 'waiting' | 'done';

/** What the live view shows, and the report is built from. */
export interface LoadProgress {
  phase: LoadPhase;
  elapsedMs: number;
  counters: LoadCounters;
  tracker: CompletionTracker;
}

export interface LoadResult {
  counters: LoadCounters;
  tracker: CompletionTracker;
  /** From the first request to the last answer. */
  submitPhaseMs: number;
  /** Spent after that, following completions. */
  waitedMs: number;
  sweepErrors: number;
}

type Client = { jobs: Pick<GafferClient['jobs'], 'submit' | 'submitBatch' | 'list'> };

export async function runLoad(
  client: Client,
  spec: LoadSpec,
  clock: LoadClock,
  onProgress: (p: LoadProgress) => void = () => {},
): Promise<LoadResult> {
  const counters: LoadCounters = {
    submitted: 0,
    accepted: 0,
    rejected: 0,
    rejectedByCode: {},
    requests: 0,
    submitMs: [],
  };
  const tracker = new CompletionTracker((q) => client.jobs.list(q));
  const start = clock.now();
  let phase: LoadPhase = 'submitting';
  const progress = () => onProgress({ phase, elapsedMs: clock.now() - start, counters, tracker });
  const reject = (n: number, code: string) => {
    counters.rejected += n;
    counters.rejectedByCode[code] = (counters.rejectedByCode[code] ?? 0) + n;
  };

  const send = async (first: number, n: number): Promise<void> => {
    const payloads = Array.from({ length: n }, (_, k) => spec.payload(first + k));
    const type = spec.type ? { type: spec.type } : {};
    counters.submitted += n;
    counters.requests++;
    const t0 = clock.now();
    try {
      if (spec.useBatch) {
        const r = await client.jobs.submitBatch({
          ...type,
          jobs: payloads.map((payload) => ({ payload })),
        });
        counters.submitMs.push(clock.now() - t0);
        counters.accepted += r.accepted;
        for (const x of r.rejected) reject(1, x.code);
        for (const id of r.jobIds) tracker.add(id, spec.type, null);
      } else {
        const { job } = await client.jobs.submit({ ...type, payload: payloads[0] });
        counters.submitMs.push(clock.now() - t0);
        counters.accepted++;
        tracker.add(job.id, job.type, job.createdAt);
      }
    } catch (err) {
      counters.submitMs.push(clock.now() - t0);
      reject(n, codeOf(err));
    }
    progress();
  };

  // Completions are swept while requests go out, one sweep at a time.
  let sweepErrors = 0;
  const sweepOnce = async () => {
    try {
      await tracker.sweep();
    } catch {
      sweepErrors++; // a lost answer: the next sweep reads the same jobs again
    }
    progress();
  };
  let sending = true;
  let stopSending = () => {};
  const sent = new Promise<void>((resolve) => (stopSending = resolve));
  const every = spec.sweepEveryMs ?? 1000;
  const background = (async () => {
    while (sending) {
      const t = clock.now();
      if (tracker.pending > 0) await sweepOnce();
      // The last answer ends the pause at once: the waiting phase takes over the sweeps.
      if (sending) await Promise.race([clock.sleep(Math.max(every, clock.now() - t)), sent]);
    }
  })();

  const inFlight = new Set<Promise<void>>();
  let started = 0;
  for (;;) {
    const step = nextStep(spec.plan, {
      elapsedMs: clock.now() - start,
      started,
      inFlight: inFlight.size,
    });
    if (step.kind === 'done') break;
    if (step.kind === 'sleep') await clock.sleep(step.ms);
    else if (step.kind === 'slot') await Promise.race(inFlight);
    else {
      const p: Promise<void> = send(started, step.jobs).finally(() => inFlight.delete(p));
      inFlight.add(p);
      started += step.jobs;
    }
  }
  await Promise.all(inFlight);
  const submitEnd = clock.now();
  sending = false;
  stopSending();
  await background;

  phase = 'waiting';
  const deadline = submitEnd + spec.waitCompletionMs;
  while (tracker.pending > 0) {
    const t = clock.now();
    await sweepOnce();
    if (tracker.pending === 0 || clock.now() >= deadline) break;
    await clock.sleep(Math.min(Math.max(every, clock.now() - t), deadline - clock.now()));
  }
  phase = 'done';
  progress();
  return {
    counters,
    tracker,
    submitPhaseMs: submitEnd - start,
    waitedMs: clock.now() - submitEnd,
    sweepErrors,
  };
}

/** The catalogue code of a refused request (src/errors.ts), or what the CLI prints otherwise. */
export function codeOf(err: unknown): string {
  if (err instanceof GafferApiError) return err.code;
  if (err instanceof GafferConnectionError) return 'GAFFER_CLI_CONNECT';
  return 'GAFFER_CLI';
}
