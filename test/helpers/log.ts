import type { LogBindings, ParentLogger } from '../../src/domain/logger.ts';
import { createLogger } from '../../src/log/logger.ts';

/** One call of a `recordingLogger`: its level, message and fields. */
export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * A Logger that keeps every call in `records`, for a test to assert on what was logged. Its
 * children's calls land in the same records, with their bindings among the fields.
 */
export function recordingLogger(): ParentLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { records, ...recordingTo(records, {}) };
}

function recordingTo(records: LogRecord[], bindings: LogBindings): ParentLogger {
  const at =
    (level: LogRecord['level']) =>
    (first: object | string, msg?: string): void => {
      if (typeof first === 'string') records.push({ level, msg: first, fields: { ...bindings } });
      else records.push({ level, msg: msg ?? '', fields: { ...bindings, ...first } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingTo(records, { ...bindings, ...more }),
  };
}

/**
 * gaffer's core logger (JSON lines on stderr), for the components a test builds itself when what
 * they log is not what it checks: a failure still shows in the test's output.
 */
export function stderrLogger(): ParentLogger {
  return createLogger();
}
