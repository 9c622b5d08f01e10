import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import { withChildren, type Logger } from '../../src/domain/logger.ts';
import { createLogger, loggerFromEnv } from '../../src/log/logger.ts';
import { recordingLogger } from '../helpers/log.ts';

/** A destination that keeps each JSON line the logger writes, parsed. */
function lines(): { stream: Writable; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        records.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, records };
}

describe("gaffer's core logger", () => {
  test('writes one JSON record per call: level, message, fields, an error with its stack', () => {
    const { stream, records } = lines();
    const log = createLogger({ destination: stream });
    log.error({ err: new Error('store down'), worker: 'w-1' }, 'sweep failed');
    log.info('config reloaded');
    assert.equal(records.length, 2);
    const [failed, reloaded] = records as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(failed['level'], 50);
    assert.equal(failed['msg'], 'sweep failed');
    assert.equal(failed['worker'], 'w-1');
    const err = failed['err'] as { message: string; stack: string };
    assert.equal(err.message, 'store down');
    assert.match(err.stack, /Error: store down\n\s+at /);
    assert.equal(reloaded['level'], 30);
    assert.equal(reloaded['msg'], 'config reloaded');
  });

  test("redacts credentials as the API's request logger does", () => {
    const { stream, records } = lines();
    const log = createLogger({ destination: stream });
    log.warn(
      { req: { headers: { authorization: 'Bearer secret', cookie: 'gaffer_session=s' } } },
      'a request',
    );
    const text = JSON.stringify(records);
    assert.doesNotMatch(text, /secret|gaffer_session/);
    assert.match(text, /\[redacted\]/);
  });

  test('logs at its level and above', () => {
    const { stream, records } = lines();
    const log = createLogger({ level: 'warn', destination: stream });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    assert.deepEqual(
      records.map((r) => r['msg']),
      ['w', 'e'],
    );
  });

  test('GAFFER_LOG_LEVEL sets the level; an unknown one is a ConfigError naming it', () => {
    assert.doesNotThrow(() => loggerFromEnv({ GAFFER_LOG_LEVEL: 'debug' }));
    assert.doesNotThrow(() => loggerFromEnv({ GAFFER_LOG_LEVEL: 'silent' }));
    assert.doesNotThrow(() => loggerFromEnv({}));
    assert.throws(
      () => loggerFromEnv({ GAFFER_LOG_LEVEL: 'loud' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.source === 'GAFFER_LOG_LEVEL' &&
        /not a log level: loud/.test(err.message),
    );
  });
});

describe('child loggers: one per component, its bindings on every line', () => {
  test("the core logger's children (pino's) carry their bindings, nested children both", () => {
    const { stream, records } = lines();
    const gateway = createLogger({ destination: stream }).child({ component: 'gateway' });
    gateway.error({ worker: 'w-1' }, 'serving a worker failed');
    gateway.child({ worker: 'w-2' }).warn('a message');
    assert.deepEqual(
      records.map((r) => [r['component'], r['worker'], r['msg']]),
      [
        ['gateway', 'w-1', 'serving a worker failed'],
        ['gateway', 'w-2', 'a message'],
      ],
    );
  });

  test("withChildren keeps pino's child; a host logger of four levels gets children that add fields", () => {
    const pinoLog = createLogger({ destination: lines().stream });
    assert.equal(withChildren(pinoLog), pinoLog);
    const calls: unknown[][] = [];
    const record =
      (level: string) =>
      (...args: unknown[]) =>
        void calls.push([level, ...args]);
    const host: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const root = withChildren(host);
    root.info('as given');
    const service = root.child({ component: 'service' });
    service.error({ err: 'x' }, 'failed');
    service.child({ job: 'j-1' }).warn('plain');
    assert.deepEqual(calls, [
      ['info', 'as given', undefined],
      ['error', { component: 'service', err: 'x' }, 'failed'],
      ['warn', { component: 'service', job: 'j-1' }, 'plain'],
    ]);
  });

  test("the tests' recording logger: a child's lines land in its parent's records", () => {
    const log = recordingLogger();
    log.child({ component: 'reconciler' }).error({ error: 'down' }, 'sweep failed');
    assert.deepEqual(log.records, [
      { level: 'error', msg: 'sweep failed', fields: { component: 'reconciler', error: 'down' } },
    ]);
  });
});
