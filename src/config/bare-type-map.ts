import { ConfigSchema } from './schema.ts';

/**
 * gaffer's own top-level keys, read from the schema so none is forgotten: a file with any of them
 * is a gaffer config, not a bare type map.
 */
const TOP_LEVEL_KEYS = Object.keys(ConfigSchema.properties);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The bare type-map config format (a `jobs.config.json` of type name → settings), read as a gaffer
 * config, e.g. `{"new-job": {"queue": "queue_new", "image": "worker-new:latest", "threshold": 10}}`.
 * A file with none of gaffer's top-level keys whose every value is an object is read as that shape:
 *   queue → queue; image → worker.image; command → worker.command (a string runs via `sh -c`);
 *   threshold → scaling.threshold; max_workers → scaling.max; min_workers → scaling.min.
 * Any other key is kept as is, so the schema reports it if gaffer does not know it.
 */
export function fromBareTypeMap(raw: unknown): unknown {
  if (!isRecord(raw)) return raw;
  const entries = Object.entries(raw);
  if (entries.length === 0 || entries.some(([k]) => TOP_LEVEL_KEYS.includes(k))) return raw;
  if (!entries.every(([, v]) => isRecord(v))) return raw;
  const jobTypes: Record<string, unknown> = {};
  for (const [name, entry] of entries) {
    jobTypes[name] = jobTypeFromBareEntry(entry as Record<string, unknown>);
  }
  return { jobTypes };
}

function jobTypeFromBareEntry(entry: Record<string, unknown>): Record<string, unknown> {
  const { image, command, threshold, max_workers, min_workers, ...rest } = entry;
  const worker: Record<string, unknown> = isRecord(rest['worker']) ? { ...rest['worker'] } : {};
  if (image !== undefined) worker['image'] = image;
  if (command !== undefined) {
    worker['command'] = typeof command === 'string' ? ['sh', '-c', command] : command;
  }
  const scaling: Record<string, unknown> = isRecord(rest['scaling']) ? { ...rest['scaling'] } : {};
  if (threshold !== undefined) scaling['threshold'] = threshold;
  if (max_workers !== undefined) scaling['max'] = max_workers;
  if (min_workers !== undefined) scaling['min'] = min_workers;
  return { ...rest, worker, scaling };
}
