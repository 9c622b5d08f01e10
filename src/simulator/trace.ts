import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import { JobTypeSchema, type ScalingConfig } from '../config/schema.ts';

/**
 * A trace: what arrived, when, and how long each job ran — the input of one simulation.
 * The format (docs/simulator/README.md) has two spellings:
 *
 * - JSON (`.json`): `{ "version": 1, "name", "description"?, "capacity"?, "types": {…}, "jobs": [
 *   { "type", "at", "run" }, … ] }`.
 * - NDJSON (`.ndjson`, `.jsonl`): the same header without `jobs` on the first line, then one job
 *   per line — so a recorder can stream a long trace and `head` still gives a valid one.
 *
 * `at` is the arrival in ms from the trace's start, `run` the job's run time in ms. `types` maps
 * each job type to its `concurrency` (jobs one worker runs at once) and `scaling` (gaffer's own
 * ScalingConfig, schema defaults filled in). `capacity`, when set, caps the workers of all types
 * together (a cluster's room): a worker started beyond it waits, as a Pending pod does.
 */
export interface TraceType {
  concurrency: number;
  scaling: ScalingConfig;
}

export interface TraceJob {
  type: string;
  /** Arrival, ms from the start of the trace. */
  at: number;
  /** Run time, ms. */
  run: number;
}

export interface Trace {
  version: 1;
  name: string;
  description?: string;
  /** Workers of all types at once; absent or null: no global limit. */
  capacity?: number | null;
  types: Record<string, TraceType>;
  /** Sorted by `at` (readTrace sorts; ties keep file order). */
  jobs: TraceJob[];
}

export class TraceError extends Error {
  constructor(source: string, message: string) {
    super(`invalid trace ${source}: ${message}`);
    this.name = 'TraceError';
  }
}

// The scaling block is validated by gaffer's own schema, so a trace cannot carry settings that
// gaffer itself would refuse, and defaults are the server's.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateScaling = ajv.compile(JobTypeSchema.properties.scaling);

function isNdjson(file: string): boolean {
  return ['.ndjson', '.jsonl'].includes(path.extname(file).toLowerCase());
}

/** Reads a trace file (JSON or NDJSON by extension) and checks it. */
export async function readTrace(file: string): Promise<Trace> {
  return parseTrace(await readFile(file, 'utf8'), file, isNdjson(file));
}

/** Parses trace text; `ndjson` picks the spelling. Throws TraceError naming what is wrong. */
export function parseTrace(text: string, source = 'trace', ndjson = false): Trace {
  let raw: unknown;
  try {
    if (ndjson) {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      const header = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
      raw = { ...header, jobs: lines.slice(1).map((l) => JSON.parse(l) as unknown) };
    } else raw = JSON.parse(text);
  } catch (err) {
    throw new TraceError(source, `cannot parse: ${(err as Error).message}`);
  }
  return checkTrace(raw, source);
}

function checkTrace(raw: unknown, source: string): Trace {
  const fail = (message: string): never => {
    throw new TraceError(source, message);
  };
  if (!isRecord(raw)) return fail('not an object');
  if (raw['version'] !== 1) fail('version must be 1');
  if (typeof raw['name'] !== 'string' || raw['name'] === '') fail('name must be a string');
  const capacity = raw['capacity'];
  if (capacity != null && !(Number.isInteger(capacity) && (capacity as number) >= 1)) {
    fail('capacity must be an integer ≥ 1 or null');
  }
  if (!isRecord(raw['types']) || Object.keys(raw['types']).length === 0) fail('types is empty');
  const types: Record<string, TraceType> = {};
  for (const [name, t] of Object.entries(raw['types'] as Record<string, unknown>)) {
    if (!isRecord(t)) return fail(`types.${name} is not an object`);
    const concurrency = t['concurrency'] ?? 1;
    if (!Number.isInteger(concurrency) || (concurrency as number) < 1) {
      fail(`types.${name}.concurrency must be an integer ≥ 1`);
    }
    const scaling = structuredClone(t['scaling'] ?? {});
    if (!validateScaling(scaling)) {
      fail(`types.${name}.scaling: ${ajv.errorsText(validateScaling.errors)}`);
    }
    types[name] = { concurrency: concurrency as number, scaling: scaling as ScalingConfig };
  }
  if (!Array.isArray(raw['jobs'])) return fail('jobs must be an array');
  const jobs = (raw['jobs'] as unknown[]).map((j, i): TraceJob => {
    if (!isRecord(j)) return fail(`jobs[${i}] is not an object`);
    const { type, at, run } = j;
    if (typeof type !== 'string' || !types[type]) return fail(`jobs[${i}].type is unknown`);
    if (typeof at !== 'number' || !Number.isFinite(at) || at < 0) {
      return fail(`jobs[${i}].at must be a number ≥ 0`);
    }
    if (typeof run !== 'number' || !Number.isFinite(run) || run < 0) {
      return fail(`jobs[${i}].run must be a number ≥ 0`);
    }
    return { type, at, run };
  });
  // Array.prototype.sort is stable: equal arrivals keep their file order.
  jobs.sort((a, b) => a.at - b.at);
  return {
    version: 1,
    name: raw['name'] as string,
    ...(typeof raw['description'] === 'string' ? { description: raw['description'] } : {}),
    capacity: (capacity as number | null | undefined) ?? null,
    types,
    jobs,
  };
}

/** The trace as text in either spelling; the same trace always gives the same bytes. */
export function formatTrace(trace: Trace, ndjson = false): string {
  const header = {
    version: trace.version,
    name: trace.name,
    ...(trace.description !== undefined ? { description: trace.description } : {}),
    capacity: trace.capacity ?? null,
    types: trace.types,
  };
  const job = (j: TraceJob) => JSON.stringify({ type: j.type, at: j.at, run: j.run });
  if (ndjson) return [JSON.stringify(header), ...trace.jobs.map(job)].join('\n') + '\n';
  // One job per line keeps a checked-in trace diffable without pretty-printing 10,000 objects.
  const head = JSON.stringify(header, null, 2).replace(/\n}$/, '');
  return `${head},\n  "jobs": [\n${trace.jobs.map((j) => `    ${job(j)}`).join(',\n')}\n  ]\n}\n`;
}

export async function writeTrace(file: string, trace: Trace): Promise<void> {
  await writeFile(file, formatTrace(trace, isNdjson(file)));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
