/**
 * gaffer's typed API client (`import { createClient } from 'gaffer/client'`, docs/client.md).
 * Loads no server code: the wire types are the server's own, imported as types only.
 */
export {
  createClient,
  type FollowOptions,
  type GafferClient,
  type UploadOptions,
} from './client.ts';
export { GafferApiError, GafferConnectionError } from './errors.ts';
export { ROUTES, type RouteName } from './routes.ts';
export type { ClientOptions } from './transport.ts';
export type { CsvSource } from './upload.ts';
export {
  batchProgress,
  isTerminal,
  TERMINAL,
  type BatchProgress,
  type WaitOptions,
  type WaitOutcome,
  type WaitTarget,
} from './wait.ts';
export type * from './types.ts';
