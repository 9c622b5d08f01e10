import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { fromBareTypeMap, isRecord } from './bare-type-map.ts';
import { COST_RULE_TYPES, DEFAULT_COST_RULES } from './cost-rules.ts';
import { API_KEYS_ENV, CONFIG_ENV } from './env.ts';
import { escapePointer } from './pointer.ts';
import { scheduleProblems } from './schedule-problems.ts';
import {
  ConfigSchema,
  RESERVED_KEY_IDS,
  type CostConfig,
  type GafferConfig,
  type JobTypeConfig,
  type RouteRule,
} from './schema.ts';

/**
 * Loading the configuration: defaults (in the schema) < file < environment < explicit overrides.
 * Every problem is reported at once, each with the path of the offending value, so one run of
 * `gaffer up` shows everything to fix.
 */

/** The config as the rest of gaffer sees it: every queue named, the route rules decided. */
export type ResolvedConfig = Omit<GafferConfig, 'jobTypes' | 'routes'> & {
  jobTypes: Record<string, JobTypeConfig>;
  routes: { cost: CostConfig; rules: RouteRule[]; uploadType?: string | undefined };
};

export interface ConfigProblem {
  /** JSON pointer to the value, e.g. `/jobTypes/csv-row/scaling/max` ('' for the whole file). */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  readonly source: string;
  constructor(source: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.path || '/'}: ${p.message}`);
    super(`invalid configuration in ${source}:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}

export interface ConfigOverrides {
  port?: number;
  host?: string;
  dataDir?: string;
}

const TYPE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
const validateSchema = ajv.compile(ConfigSchema);

/**
 * Job types whose work is a function given in code (the library's `jobs`, src/library/): their
 * settings as in a config file, without `worker.command`, `handler` or `image`. Merged into the
 * config's job types by `parseConfig`, which refuses a name the config also defines.
 */
export interface ParseOptions {
  inCode?: Record<string, Record<string, unknown>>;
}

/** Loads, layers and validates; with no file the config has no job types (which is valid). */
export async function resolveConfig(
  options: {
    file?: string;
    /** The settings themselves instead of a file (the library's `config` object). */
    raw?: unknown;
    env?: NodeJS.ProcessEnv;
    overrides?: ConfigOverrides;
  } & ParseOptions = {},
): Promise<ResolvedConfig> {
  const raw = options.file ? await readConfigFile(options.file) : (options.raw ?? {});
  const env = options.env ?? {};
  const layered = applyOverrides(applyEnvKeys(applyEnv(raw, env), env), options.overrides ?? {});
  const source = options.file ?? (options.raw === undefined ? 'defaults' : 'the config in code');
  return parseConfig(layered, source, options);
}

export async function loadConfigFile(file: string): Promise<ResolvedConfig> {
  return parseConfig(await readConfigFile(file), file);
}

/** Reads YAML (`.yaml`, `.yml`, anything else) or JSON (`.json`); a parse failure is a ConfigError. */
async function readConfigFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return path.extname(file).toLowerCase() === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot parse: ${(err as Error).message}` }]);
  }
}

/** Validates a raw config (any source) and fills defaults. Never mutates `raw`. Throws ConfigError. */
export function parseConfig(
  raw: unknown,
  source: string,
  options: ParseOptions = {},
): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const merged = withCodeTypes(structuredClone(fromBareTypeMap(raw ?? {})), options.inCode ?? {});
  const { data } = merged;
  const kubernetes = kubernetesConfigured(data); // before the schema's defaults fill the section
  problems.push(...merged.problems);
  if (!validateSchema(data)) problems.push(...schemaProblems(validateSchema.errors ?? []));
  problems.push(...semanticProblems(data, merged.added, kubernetes));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return resolve(data as GafferConfig);
}

function resolve(config: GafferConfig): ResolvedConfig {
  const jobTypes: Record<string, JobTypeConfig> = {};
  for (const [name, type] of Object.entries(config.jobTypes)) {
    jobTypes[name] = { ...type, queue: type.queue ?? name };
  }
  const costTypes = COST_RULE_TYPES.every((t) => Object.hasOwn(jobTypes, t));
  const rules = config.routes.rules ?? (costTypes ? structuredClone(DEFAULT_COST_RULES) : []);
  // Absolute from here on: remote workers read them from GET /v1/config.
  const roots = config.storage.local.roots.map((r) => path.resolve(r));
  const storage = { ...config.storage, local: { ...config.storage.local, roots } };
  const { cost, uploadType } = config.routes;
  const routes = { cost, rules, ...(uploadType !== undefined ? { uploadType } : {}) };
  return { ...config, jobTypes, routes, storage };
}

/** The variables of CONFIG_ENV that are set (non-empty) override their fields of the file. */
function applyEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  const top: Record<string, Record<string, unknown>> = { server: {}, store: {}, broker: {} };
  for (const {
    name,
    path: [section, field],
    parse,
  } of CONFIG_ENV) {
    const text = env[name];
    if (text) (top[section] ??= {})[field] = parse ? parse(text) : text;
  }
  return layer(raw, top);
}

/**
 * GAFFER_API_KEYS: a JSON array of `auth.keys` entries (id, hash, role, types), added to the
 * file's. Key hashes are not secrets a leak of which lets anyone in, but keeping the list outside
 * the config file lets a Kubernetes Secret hold it.
 */
function applyEnvKeys(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  const text = env[API_KEYS_ENV.name];
  if (!text?.trim()) return raw;
  let keys: unknown;
  try {
    keys = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(API_KEYS_ENV.name, [
      { path: '', message: `is not JSON: ${(err as Error).message}` },
    ]);
  }
  if (!Array.isArray(keys)) {
    throw new ConfigError(API_KEYS_ENV.name, [
      { path: '', message: 'must be a JSON array of auth.keys entries' },
    ]);
  }
  const base = fromBareTypeMap(raw ?? {});
  if (!isRecord(base)) return base;
  const auth = isRecord(base['auth']) ? base['auth'] : {};
  const fileKeys = Array.isArray(auth['keys']) ? (auth['keys'] as unknown[]) : [];
  return { ...base, auth: { ...auth, keys: [...fileKeys, ...keys] } };
}

function applyOverrides(raw: unknown, o: ConfigOverrides): unknown {
  return layer(raw, {
    server: {
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.host !== undefined ? { host: o.host } : {}),
    },
    store: o.dataDir !== undefined ? { dataDir: o.dataDir } : {},
  });
}

/** Merges `server`/`store`/`broker` settings over a raw config, keeping everything else. */
function layer(raw: unknown, top: Record<string, Record<string, unknown>>): unknown {
  const base = fromBareTypeMap(raw ?? {});
  if (!isRecord(base)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [key, values] of Object.entries(top)) {
    if (Object.keys(values).length === 0) continue;
    out[key] = isRecord(base[key]) ? { ...base[key], ...values } : values;
  }
  return out;
}

/** Ajv's errors as problems: one per cause, with the path of the value at fault. */
function schemaProblems(errors: ErrorObject[]): ConfigProblem[] {
  // An anyOf failure (e.g. mode: pool | per-job) also reports each branch; keep only the summary.
  const unions = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const e of errors) {
    if (unions.some((u) => e.schemaPath.startsWith(u))) continue;
    const problem = describe(e);
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describe(e: ErrorObject): ConfigProblem {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return {
        path: `${e.instancePath}/${String(params['missingProperty'])}`,
        message: 'is required',
      };
    case 'additionalProperties':
      return {
        path: `${e.instancePath}/${String(params['additionalProperty'])}`,
        message: 'is not a known setting',
      };
    case 'anyOf': {
      const branches = Array.isArray(e.schema) ? (e.schema as { const?: unknown }[]) : [];
      if (branches.length === 0 || branches.some((b) => !Object.hasOwn(b, 'const'))) {
        return { path: e.instancePath, message: e.message ?? 'matches no allowed form' };
      }
      const options = branches.map((b) => JSON.stringify(b.const));
      return { path: e.instancePath, message: `must be one of ${options.join(', ')}` };
    }
    default:
      return { path: e.instancePath, message: e.message ?? e.keyword };
  }
}

/**
 * Adds the types given in code (ParseOptions) to the config's own. A name in both is a problem,
 * and the config's definition is the one checked further.
 */
function withCodeTypes(
  data: unknown,
  inCode: Record<string, Record<string, unknown>>,
): { data: unknown; added: Set<string>; problems: ConfigProblem[] } {
  const types = isRecord(data) && isRecord(data['jobTypes']) ? data['jobTypes'] : {};
  const names = Object.keys(inCode);
  const clashes = names.filter((n) => Object.hasOwn(types, n));
  const added = names.filter((n) => !Object.hasOwn(types, n));
  const problems = clashes.map((name) => ({
    path: `/jobTypes/${escapePointer(name)}`,
    message: 'is defined both in the config and in code',
  }));
  if (added.length === 0 || !isRecord(data)) return { data, added: new Set(), problems };
  const fromCode = added.map((n) => [
    n,
    { ...inCode[n], worker: { ...(inCode[n]!['worker'] as object) } },
  ]);
  return {
    data: { ...data, jobTypes: { ...Object.fromEntries(fromCode), ...types } },
    added: new Set(added),
    problems,
  };
}

/** Checks the schema cannot express. Defensive: runs even when the schema found problems. */
function semanticProblems(
  data: unknown,
  inCode: ReadonlySet<string>,
  kubernetes: boolean,
): ConfigProblem[] {
  if (!isRecord(data)) return [];
  const problems: ConfigProblem[] = [];
  const types = isRecord(data['jobTypes']) ? data['jobTypes'] : {};
  const executor = isRecord(data['executor']) ? data['executor']['kind'] : undefined;
  for (const [name, type] of Object.entries(types)) {
    problems.push(...typeProblems(name, type, inCode.has(name)));
    const own = isRecord(type) ? type['executor'] : undefined;
    if ((own ?? executor) === 'local') problems.push(...imageOnlyProblems(name, type));
    if (own === 'kubernetes') problems.push(...kubernetesTypeProblems(name, type, kubernetes));
  }
  // Rules and key scopes may also name the ad-hoc type, when it is enabled (src/worker/adhoc.ts).
  const named = { ...types, ...enabledAdhocType(data['adhoc']) };
  problems.push(...ruleProblems(data['routes'], named));
  problems.push(...uploadTypeProblems(data['routes'], named));
  problems.push(...authProblems(data['auth'], named));
  problems.push(...scheduleProblems(data['schedules'], named));
  for (const name of Object.keys(enabledAdhocType(data['adhoc']))) {
    if (Object.hasOwn(types, name)) {
      problems.push({ path: '/adhoc/name', message: `is also a configured job type: ${name}` });
    }
  }
  problems.push(...rootProblems(data['storage'], data['store']));
  problems.push(...serverUrlProblems('store', data['store'], ['postgres']));
  problems.push(...serverUrlProblems('broker', data['broker'], ['rabbitmq', 'redis']));
  const leases = data['leases'];
  if (isRecord(leases) && typeof leases['sweepMs'] === 'number') {
    const { sweepMs, ttlMs } = leases as { sweepMs: number; ttlMs: unknown };
    if (typeof ttlMs === 'number' && sweepMs >= ttlMs) {
      problems.push({
        path: '/leases/sweepMs',
        message: `must be below leases.ttlMs (${sweepMs} ≥ ${ttlMs}): a dead worker's lease would outlive a sweep (invariant 7)`,
      });
    }
  }
  return problems;
}

/**
 * A store or broker kept by a server (`kinds`) needs its `url` — in the file, or from
 * GAFFER_STORE_URL / GAFFER_BROKER_URL — or gaffer would fail only when it connects.
 */
function serverUrlProblems(
  which: 'store' | 'broker',
  section: unknown,
  kinds: readonly string[],
): ConfigProblem[] {
  if (!isRecord(section) || typeof section['kind'] !== 'string') return [];
  const { kind, url } = section;
  if (!kinds.includes(kind) || (typeof url === 'string' && url !== '')) return [];
  return [
    {
      path: `/${which}/url`,
      message: `is required for ${which}.kind ${kind} (or set GAFFER_${which.toUpperCase()}_URL)`,
    },
  ];
}

/**
 * A local data root that holds gaffer's data folder would hand every job the job store, the
 * broker file and other jobs' staged inputs. Lexical, like the roots themselves.
 */
function rootProblems(storage: unknown, store: unknown): ConfigProblem[] {
  const local = isRecord(storage) ? storage['local'] : undefined;
  const roots = isRecord(local) && Array.isArray(local['roots']) ? local['roots'] : [];
  const dataDir = isRecord(store) ? store['dataDir'] : undefined;
  if (typeof dataDir !== 'string') return [];
  const problems: ConfigProblem[] = [];
  roots.forEach((root, i) => {
    if (typeof root !== 'string' || root === '') return;
    const [data, r] = [path.resolve(dataDir), path.resolve(root)];
    if (r === path.sep || data === r || data.startsWith(r + path.sep)) {
      problems.push({
        path: `/storage/local/roots/${i}`,
        message: `contains store.dataDir (${dataDir}): jobs could read the job store and other jobs' files`,
      });
    }
  });
  return problems;
}

/** A key limit limits something: running, or starts per a window (both need each other). */
function keyLimitProblems(at: string, keyLimit: unknown): ConfigProblem[] {
  if (!isRecord(keyLimit)) return [];
  const has = (k: string) => keyLimit[k] !== undefined;
  if (has('starts') !== has('perSeconds')) {
    return [{ path: `${at}/keyLimit`, message: 'give starts and perSeconds together' }];
  }
  if (!has('running') && !has('starts')) {
    return [{ path: `${at}/keyLimit`, message: 'give running, or starts with perSeconds' }];
  }
  return [];
}

/**
 * A type's default dedup mode names its own window, and only that: `ttl` its `ttlSeconds`,
 * `debounce` its `debounceSeconds`, `live` neither (the values' ranges are the schema's).
 */
function dedupProblems(at: string, dedup: unknown): ConfigProblem[] {
  if (!isRecord(dedup) || typeof dedup['mode'] !== 'string') return [];
  const own: Record<string, string | null> = {
    live: null,
    ttl: 'ttlSeconds',
    debounce: 'debounceSeconds',
  };
  const window = own[dedup['mode']];
  if (window === undefined) return []; // an unknown mode: the schema reports it
  const problems: ConfigProblem[] = [];
  if (window !== null && dedup[window] === undefined) {
    problems.push({ path: `${at}/dedup`, message: `mode ${dedup['mode']} needs ${window}` });
  }
  for (const other of ['ttlSeconds', 'debounceSeconds']) {
    if (other !== window && dedup[other] !== undefined) {
      problems.push({
        path: `${at}/dedup/${other}`,
        message: `is not for mode ${dedup['mode']}`,
      });
    }
  }
  return problems;
}

function typeProblems(name: string, type: unknown, inCode: boolean): ConfigProblem[] {
  const at = `/jobTypes/${escapePointer(name)}`;
  // The schema's record keys are patterns, so a bad name would escape validation altogether.
  if (!TYPE_NAME.test(name)) {
    return [{ path: at, message: `a type name must match ${TYPE_NAME.source}` }];
  }
  if (!isRecord(type)) return [];
  const problems: ConfigProblem[] = [];
  const worker = type['worker'];
  if (isRecord(worker)) {
    const given = ['command', 'handler', 'image'].filter((k) => worker[k] !== undefined);
    if (inCode && given.length > 0) {
      problems.push({
        path: `${at}/worker/${given[0]!}`,
        message: 'its handler is given in code: no command, handler or image here',
      });
    } else if (given.length === 0 && !inCode) {
      problems.push({ path: `${at}/worker`, message: 'needs a command, a handler or an image' });
    } else if (given.includes('command') && given.includes('handler')) {
      problems.push({ path: `${at}/worker`, message: 'give a command or a handler, not both' });
    }
  }
  problems.push(...keyLimitProblems(at, type['keyLimit']));
  problems.push(...dedupProblems(at, type['dedup']));
  const scaling = type['scaling'];
  // Only when both are valid counts: an invalid one is already reported by the schema.
  if (isRecord(scaling) && isCount(scaling['min']) && isCount(scaling['max'])) {
    if (scaling['min'] > scaling['max']) {
      problems.push({
        path: `${at}/scaling/min`,
        message: `must not exceed scaling.max (${scaling['min']} > ${scaling['max']})`,
      });
    }
  }
  problems.push(...retryClassProblems(at, type['retry']));
  const schema = type['payloadSchema'];
  if (isRecord(schema)) {
    const problem = payloadSchemaProblem(schema);
    if (problem) problems.push({ path: `${at}/payloadSchema`, message: problem });
  }
  return problems;
}

/**
 * The local executor runs a command or a handler; an image it can only record. A type with only
 * an image would be accepted and its jobs would wait for a worker that never comes.
 */
function imageOnlyProblems(name: string, type: unknown): ConfigProblem[] {
  const worker = isRecord(type) ? type['worker'] : undefined;
  if (!isRecord(worker) || worker['image'] === undefined) return [];
  if (worker['command'] !== undefined || worker['handler'] !== undefined) return [];
  return [
    {
      path: `/jobTypes/${escapePointer(name)}/worker`,
      message:
        'has only an image, which only the Kubernetes executor runs (executor.kind: kubernetes); ' +
        'the local executor (the default) needs a command or a handler to run its jobs',
    },
  ];
}

/** The Kubernetes executor runs only when `executor.kind` is kubernetes or its section is given. */
function kubernetesConfigured(data: unknown): boolean {
  const executor = isRecord(data) ? data['executor'] : undefined;
  return (
    isRecord(executor) &&
    (executor['kind'] === 'kubernetes' || executor['kubernetes'] !== undefined)
  );
}

/** A type that names the Kubernetes executor needs it configured, and an image to run there. */
function kubernetesTypeProblems(name: string, type: unknown, configured: boolean) {
  const at = `/jobTypes/${escapePointer(name)}`;
  if (!configured) {
    const message =
      'is kubernetes, but the Kubernetes executor is not configured: set executor.kind: ' +
      'kubernetes or give an executor.kubernetes section (namespace, kubeconfig)';
    return [{ path: `${at}/executor`, message }];
  }
  const worker = isRecord(type) ? type['worker'] : undefined;
  if (!isRecord(worker) || worker['image'] !== undefined) return [];
  return [
    { path: `${at}/worker`, message: 'runs on Kubernetes (executor: kubernetes): needs an image' },
  ];
}

function uploadTypeProblems(routes: unknown, types: Record<string, unknown>): ConfigProblem[] {
  const name = isRecord(routes) ? routes['uploadType'] : undefined;
  if (typeof name !== 'string' || Object.hasOwn(types, name)) return [];
  const known = Object.keys(types).join(', ') || 'none';
  return [{ path: '/routes/uploadType', message: `no job type "${name}" (known: ${known})` }];
}

/**
 * A class limit can only lower the type's (jobs/retry.ts): one above it would never apply, and
 * says the writer expected otherwise.
 */
function retryClassProblems(at: string, retry: unknown): ConfigProblem[] {
  if (!isRecord(retry) || !isRecord(retry['classes']) || !isCount(retry['maxAttempts'])) return [];
  const ceiling = retry['maxAttempts'];
  return Object.entries(retry['classes'])
    .filter(([, c]) => isRecord(c) && isCount(c['maxAttempts']) && c['maxAttempts'] > ceiling)
    .map(([name, c]) => ({
      path: `${at}/retry/classes/${escapePointer(name)}/maxAttempts`,
      message: `must not exceed retry.maxAttempts (${String((c as Record<string, unknown>)['maxAttempts'])} > ${ceiling}): raise retry.maxAttempts and lower the other classes instead`,
    }));
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** A payload schema must compile, or every submission of the type would fail at run time. */
function payloadSchemaProblem(schema: Record<string, unknown>): string | null {
  try {
    const check = new Ajv({ allErrors: true, strict: false });
    addFormats.default(check);
    check.compile(schema);
    return null;
  } catch (err) {
    return `is not a valid JSON Schema: ${(err as Error).message}`;
  }
}

function ruleProblems(routes: unknown, types: Record<string, unknown>): ConfigProblem[] {
  if (!isRecord(routes) || !Array.isArray(routes['rules'])) return [];
  const problems: ConfigProblem[] = [];
  routes['rules'].forEach((rule: unknown, i) => {
    if (!isRecord(rule) || typeof rule['type'] !== 'string') return;
    if (!Object.hasOwn(types, rule['type'])) {
      problems.push({
        path: `/routes/rules/${i}/type`,
        message: `names no job type: ${JSON.stringify(rule['type'])}`,
      });
    }
  });
  return problems;
}

/**
 * Key ids select the entry (they are inside the key), so they must be unique and not a name gaffer
 * gives callers without a key; types must exist.
 */
function authProblems(auth: unknown, types: Record<string, unknown>): ConfigProblem[] {
  if (!isRecord(auth) || !Array.isArray(auth['keys'])) return [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<unknown>();
  auth['keys'].forEach((key: unknown, i) => {
    if (!isRecord(key)) return;
    if (seen.has(key['id'])) {
      problems.push({
        path: `/auth/keys/${i}/id`,
        message: `is used by another key: ${String(key['id'])}`,
      });
    }
    seen.add(key['id']);
    if (typeof key['id'] === 'string' && RESERVED_KEY_IDS.has(key['id'])) {
      problems.push({
        path: `/auth/keys/${i}/id`,
        message: `is reserved for callers without a key: ${key['id']}`,
      });
    }
    if (!Array.isArray(key['types'])) return;
    key['types'].forEach((type: unknown, j) => {
      if (typeof type === 'string' && !Object.hasOwn(types, type)) {
        problems.push({
          path: `/auth/keys/${i}/types/${j}`,
          message: `names no job type: ${JSON.stringify(type)}`,
        });
      }
    });
  });
  return problems;
}

/** `{ [adhoc.name]: true }` when ad-hoc commands are enabled, else `{}` (schema defaults applied). */
function enabledAdhocType(adhoc: unknown): Record<string, unknown> {
  if (!isRecord(adhoc) || adhoc['enabled'] !== true || typeof adhoc['name'] !== 'string') return {};
  return { [adhoc['name']]: true };
}
