import pino from 'pino';
import { ConfigError } from '../config/load.ts';

export type { LogBindings, LogFn, Logger, ParentLogger } from '../domain/logger.ts';
import type { ParentLogger } from '../domain/logger.ts';

/**
 * pino `redact` paths for every logger gaffer builds (the core logger and the API's request
 * logger): credentials in headers, wherever a request or reply object is logged. Fastify's default
 * request serializer logs no headers; these paths keep it so if a log call ever passes headers or
 * a raw request.
 */
export const LOG_REDACT = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-api-key"]',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers.cookie',
    'request.headers.authorization',
    'request.headers.cookie',
  ],
  censor: '[redacted]',
};

/** The environment variable that sets the core logger's level (`gaffer up`, `createGaffer`'s env). */
export const LOG_LEVEL_ENV = 'GAFFER_LOG_LEVEL';

const LEVELS = [...Object.keys(pino.levels.values), 'silent'];

export interface LoggerOptions {
  /** pino's level names (fatal, error, warn, info, debug, trace) or silent; default info. */
  level?: string;
  /** Where the JSON lines go; default stderr, written synchronously (a line before an exit stays). */
  destination?: pino.DestinationStream;
}

/**
 * gaffer's core logger: pino, JSON lines on stderr (stdout is `gaffer up`'s banner and the
 * request log's), with the API logger's redaction. An unknown level is a ConfigError.
 */
export function createLogger(options: LoggerOptions = {}): ParentLogger {
  const level = options.level ?? 'info';
  if (!LEVELS.includes(level)) {
    throw new ConfigError(LOG_LEVEL_ENV, [
      { path: '', message: `is not a log level: ${level} (one of ${LEVELS.join(', ')})` },
    ]);
  }
  return pino(
    { level, redact: LOG_REDACT },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** The core logger as `env` sets it (GAFFER_LOG_LEVEL; unset: info). */
export function loggerFromEnv(env: NodeJS.ProcessEnv): ParentLogger {
  const level = env[LOG_LEVEL_ENV]?.trim();
  return createLogger(level ? { level } : {});
}
