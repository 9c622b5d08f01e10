/**
 * The environment variables that override the config file: defaults < file < these < flags.
 * The loader (load.ts) applies exactly this list and docs/config.md documents it.
 */

export interface ConfigEnvVar {
  readonly name: string;
  /** The config field it sets, as a path of keys. */
  readonly path: readonly [string, string];
  readonly meaning: string;
  /** The field's value from the variable's (non-empty) text; absent: the text itself. */
  readonly parse?: (text: string) => unknown;
}

/** A non-numeric port stays a string so the schema reports it at its path. */
const portOf = (text: string): unknown => (/^\d+$/.test(text.trim()) ? Number(text) : text);

export const CONFIG_ENV: readonly ConfigEnvVar[] = [
  { name: 'GAFFER_PORT', path: ['server', 'port'], meaning: 'The HTTP port.', parse: portOf },
  {
    name: 'GAFFER_GRPC_PORT',
    path: ['server', 'grpcPort'],
    meaning: 'The gRPC port (turns the gRPC API on).',
    parse: portOf,
  },
  { name: 'GAFFER_HOST', path: ['server', 'host'], meaning: 'The address the API listens on.' },
  {
    name: 'GAFFER_DATA_DIR',
    path: ['store', 'dataDir'],
    meaning: 'Directory of the SQLite file and scratch files.',
  },
  {
    name: 'GAFFER_SYNCHRONOUS',
    path: ['store', 'synchronous'],
    meaning: 'FULL or NORMAL, in any case.',
    parse: (text) => text.toUpperCase(),
  },
  {
    name: 'GAFFER_WORKER_TOKEN',
    path: ['server', 'workerToken'],
    meaning: "Remote workers' bearer token: a secret, so it can come from a Kubernetes Secret.",
  },
  {
    name: 'GAFFER_STORE_URL',
    path: ['store', 'url'],
    meaning: "The store's URL: it carries credentials, so it can come from a Kubernetes Secret.",
  },
  {
    name: 'GAFFER_BROKER_URL',
    path: ['broker', 'url'],
    meaning: "The broker's URL: it carries credentials, so it can come from a Kubernetes Secret.",
  },
];

/**
 * GAFFER_API_KEYS: a JSON array of `auth.keys` entries (id, hash, role, types), added to the
 * file's rather than replacing a field.
 */
export const API_KEYS_ENV = {
  name: 'GAFFER_API_KEYS',
  path: ['auth', 'keys'],
  meaning:
    "A JSON array of `auth.keys` entries, added to the file's: the list can live in a Kubernetes " +
    'Secret rather than the config file.',
} as const;
