// Which job types the overview folds away. Pure: no DOM, so node can test it too.

/**
 * The types with nothing to show: no job ready, delayed or in flight and no worker now, and none
 * either — nor a job ended — in any sample the overview holds (the charts' last hour). Their
 * cards and charts collapse into one row that expands on demand.
 */
export function idleTypes(queues, samples) {
  const idle = new Set();
  for (const q of queues) {
    const w = q.workers;
    const now = q.ready + q.inFlight + (q.delayed ?? 0) + w.starting + w.idle + w.busy + w.draining;
    if (now === 0 && samples.every((s) => quiet(s.types[q.type]))) idle.add(q.type);
  }
  return idle;
}

function quiet(t) {
  if (!t) return true;
  const w = t.workers ?? {};
  const workers = (w.starting ?? 0) + (w.idle ?? 0) + (w.busy ?? 0) + (w.draining ?? 0);
  return (
    (t.ready ?? 0) +
      (t.inFlight ?? 0) +
      (t.finishedPerMin ?? 0) +
      (t.failedPerMin ?? 0) +
      workers ===
    0
  );
}
