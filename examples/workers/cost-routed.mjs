#!/usr/bin/env node
// Seed 002's workers (actor, spark, ml, batch) as one generic command worker: the job type it ran
// as comes from $GAFFER_JOB_TYPE. It "runs" for the job's estimated_runtime_sec scaled down 100x
// (capped at 2 s), so routing and per-queue scaling are visible without waiting minutes.
// Plain JavaScript that runs on Node 20 as well as 24. Payload on stdin; result: last JSON line.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const raw = readFileSync(0, 'utf8').trim();
const payload = raw ? JSON.parse(raw) : {};
const estimated = Number(payload.estimated_runtime_sec ?? payload.estimated_runtime ?? 1);
const rows = Number(payload.rows ?? payload.nr_of_rows ?? 0);
const ranAs = process.env.GAFFER_JOB_TYPE ?? 'unknown';
const sleptMs = Math.min(2000, Math.max(0, (estimated * 1000) / 100));

console.error(`${ranAs}: ${rows} rows, estimated ${estimated}s, sleeping ${sleptMs} ms`);
await sleep(sleptMs);
console.log(
  JSON.stringify({
    ranAs,
    rows,
    estimatedRuntimeSec: estimated,
    sleptMs,
    attempt: Number(process.env.GAFFER_ATTEMPT ?? 1),
  }),
);
