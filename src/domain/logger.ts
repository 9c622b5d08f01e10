/** One log call: fields and a message (`log.error({ err }, 'sweep failed')`), or a message alone. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * What gaffer's core logs through: the part of pino's logger it uses. A pino logger is one (so is
 * a host application's, given to `createGaffer({ log })`); tests pass one that records. Each
 * component takes it as its `log` option: it is made once, by the composition root.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}
