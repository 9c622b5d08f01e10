import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { packageFile } from '../../paths.ts';

/** The repository's proto/ folder: the include root of every .proto gaffer serves. */
export const PROTO_DIR = packageFile('proto');

/**
 * How the messages appear in JavaScript; src/api/grpc/types.ts mirrors exactly this shape.
 * `longs: Number`: int64 fields are millisecond times, far below 2^53. `defaults`: scalars decode
 * to their zero value, so a handler never meets undefined for a plain field. `oneofs: false`: no
 * virtual "which one is set" fields; an unset oneof or `optional` member is simply absent.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: false,
  includeDirs: [PROTO_DIR],
};

export const GAFFER_SERVICE = 'gaffer.v1.Gaffer';
/** Trailing metadata of a failed call: its catalogue code (docs/errors.md). */
export const ERROR_CODE_KEY = 'gaffer-error-code';
/** Trailing metadata of a failed call whose error has details (JSON text). */
export const ERROR_DETAILS_KEY = 'gaffer-error-details';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

let loaded: PackageDefinition | undefined;

/** Loads the protos once (at runtime, with @grpc/proto-loader: no code generation step). */
export function packageDefinition(): PackageDefinition {
  loaded ??= loadSync(['gaffer/v1/gaffer.proto', 'grpc/health/v1/health.proto'], LOADER_OPTIONS);
  return loaded;
}

/** A service of the loaded protos, as grpc-js's server and client constructors take it. */
export function serviceDefinition(name: typeof GAFFER_SERVICE | typeof HEALTH_SERVICE) {
  return packageDefinition()[name] as unknown as ServiceDefinition;
}
