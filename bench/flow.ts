import { ONE_WORKER, endToEnd, withGaffer, workerReady } from './gaffer.ts';
import { perSecond, round } from './lib.ts';

/**
 * Flow control under load, on the embedded store (`NORMAL`) with the plain row's one worker
 * (concurrency 50, a no-op handler): a rate-limited type and a key-limited one.
 */

/**
 * `n` jobs queued at once for a type limited to `limit` starts/s, run by a worker that could start
 * them far faster. From the jobs' recorded starts (gaffer's clock at each claim, the times the
 * limit counts): the sustained rate — the starts after the first window's burst over the time
 * from the first start to the last, exactly `limit` when the limit is reached — and the most
 * starts in any 1 s window, which must never exceed `limit`.
 */
export async function benchRateLimited(
  n: number,
  limit: number,
): Promise<{ startsPerSecond: number; peakWindow: number }> {
  const type = { ...ONE_WORKER, rateLimit: { starts: limit, perSeconds: 1 } };
  return withGaffer({ rated: type }, async (orch) => {
    await workerReady(orch, 'rated');
    const starts: number[] = [];
    const finished = new Promise<void>((resolve) => {
      orch.events.on('job:succeeded', ({ job }) => {
        if (job.type === 'rated' && starts.push(job.startedAt!) === n) resolve();
      });
    });
    for (let i = 0; i < n; i += 1000) {
      const jobs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        type: 'rated',
        payload: { i: i + j },
      }));
      await orch.service.submitMany(jobs);
    }
    await finished;
    starts.sort((a, b) => a - b);
    return {
      startsPerSecond: perSecond(n - limit, starts.at(-1)! - starts[0]!),
      peakWindow: mostInWindow(starts, 1000),
    };
  });
}

/** The most of the sorted times `at` inside any window [t, t + ms). */
function mostInWindow(at: readonly number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; j < at.length; j++) {
    while (at[j]! - at[i]! >= ms) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/**
 * `n` jobs over `keys` keys (`payload.tenant`) of a type limited to `running` in flight per key,
 * submitted as the plain row submits them (50 concurrent `submit()`). The keys are Zipf-distributed
 * (s = 1), as tenants' traffic often is: of 1,000 keys the hottest gets 13% of the jobs and the 10
 * hottest 39%, so hot keys reach their limit while the others' jobs flow past them. End to end
 * jobs/s and gaffer's CPU µs per job, and the most jobs of one key in flight at once, counted from
 * the claims (`job:started`) and ends (`job:succeeded`) as gaffer announces them.
 */
export async function benchKeyLimited(
  n: number,
  keys: number,
  running: number,
): Promise<{ e2e: number; mostPerKey: number; cpuUs: number }> {
  const type = { ...ONE_WORKER, keyLimit: { key: 'payload.tenant', running } };
  return withGaffer({ keyed: type }, async (orch) => {
    const inFlight = new Map<string, number>();
    let mostPerKey = 0;
    const tenantOf = (payload: unknown) => (payload as { tenant: string }).tenant;
    orch.events.on('job:started', ({ job }) => {
      if (job.type !== 'keyed') return;
      const now = (inFlight.get(tenantOf(job.payload)) ?? 0) + 1;
      inFlight.set(tenantOf(job.payload), now);
      mostPerKey = Math.max(mostPerKey, now);
    });
    orch.events.on('job:succeeded', ({ job }) => {
      if (job.type !== 'keyed') return;
      inFlight.set(tenantOf(job.payload), inFlight.get(tenantOf(job.payload))! - 1);
    });
    const keyOf = zipfKeys(n, keys);
    const { e2e, cpuUs } = await endToEnd(orch, 'keyed', n, (i) => ({ tenant: `t${keyOf[i]}` }));
    return { e2e, mostPerKey, cpuUs };
  });
}

/**
 * `n` key indexes in [0, keys), Zipf-distributed with s = 1: key k gets n·(1/(k+1))/H of them
 * (rounded down, the remainder to the hottest keys; every key at least one from n ≥ 7.5 × keys),
 * in an order shuffled the same way every run by a fixed-seed xorshift generator
 * (reproducibility matters here, not the generator's quality).
 */
function zipfKeys(n: number, keys: number): number[] {
  const weights = Array.from({ length: keys }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.floor((n * w) / total));
  let left = n - counts.reduce((a, b) => a + b, 0);
  for (let k = 0; left > 0; k = (k + 1) % keys, left--) counts[k]!++;
  const out = counts.flatMap((c, k) => Array<number>(c).fill(k));
  let x = 0x9e3779b9;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export const ratioOf = (x: number, of: number) => round(x / of, 2);
