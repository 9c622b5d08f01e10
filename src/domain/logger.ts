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

/** Fields every line of a child logger carries (`{ component: 'gateway' }`). */
export type LogBindings = Record<string, unknown>;

/**
 * A Logger that makes children: each line of `child(bindings)` carries `bindings` as fields.
 * pino's loggers are ones (its `child`); the composition root makes one with `withChildren` and
 * hands each component its own child, named by `component`.
 */
export interface ParentLogger extends Logger {
  child(bindings: LogBindings): ParentLogger;
}

/**
 * `log` as a ParentLogger: its own `child` when it has one (pino's), else children that add their
 * bindings to every call's fields (a host's logger with the four levels only).
 */
export function withChildren(log: Logger): ParentLogger {
  const own = log as Partial<ParentLogger>;
  if (typeof own.child === 'function') return log as ParentLogger;
  return bound(log, {});
}

function bound(log: Logger, bindings: LogBindings): ParentLogger {
  const at =
    (level: keyof Logger): LogFn =>
    (first: object | string, msg?: string) => {
      if (Object.keys(bindings).length === 0) log[level](first as object, msg);
      else if (typeof first === 'string') log[level]({ ...bindings }, first);
      else log[level]({ ...bindings, ...first }, msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => bound(log, { ...bindings, ...more }),
  };
}
