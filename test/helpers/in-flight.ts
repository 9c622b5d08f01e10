/** A job's recorded run: payload (its tenant) and [startedAt, finishedAt). */
interface Span {
  payload: unknown;
  startedAt?: number | null;
  finishedAt?: number | null;
}

/** The most jobs of `tenant` (`payload.tenant`) in flight at once, from their recorded runs. */
export function mostAtOnce(jobs: readonly Span[], tenant: string): number {
  const edges = jobs
    .filter((j) => (j.payload as { tenant?: unknown } | null)?.tenant === tenant)
    .flatMap((j) => [
      [j.startedAt!, 1],
      [j.finishedAt!, -1],
    ])
    // An end and a start at the same millisecond: the end first (the slot was free).
    .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
  let now = 0;
  let most = 0;
  for (const [, d] of edges) most = Math.max(most, (now += d!));
  return most;
}
