import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig, type ConfigProblem } from '../../src/config/load.ts';

const jobTypes = { report: { worker: { command: ['true'] } } };

function problemsOf(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    parseConfig({ jobTypes, ...raw }, 'test');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('schedules config', () => {
  test('a schedule gets its defaults: skip missed ticks, allow overlap, not paused, UTC', () => {
    const config = parseConfig(
      {
        jobTypes,
        schedules: {
          nightly: { cron: '0 2 * * *', submit: { type: 'report', payload: { day: 'today' } } },
          'every-10s.fast': {
            cron: '*/10 * * * * *',
            timezone: 'Europe/Berlin',
            submit: { type: 'report', priority: 'high', attributes: { team: 'a' } },
            missed: { catchUp: 3 },
            overlap: 'skip',
            paused: true,
          },
        },
      },
      'test',
    );
    assert.deepEqual(config.schedules['nightly'], {
      cron: '0 2 * * *',
      submit: { type: 'report', payload: { day: 'today' } },
      missed: 'skip',
      overlap: 'allow',
      paused: false,
    });
    assert.deepEqual(config.schedules['every-10s.fast']?.missed, { catchUp: 3 });
    assert.deepEqual(parseConfig({}, 'test').schedules, {});
  });

  test('the in-code and the enabled ad-hoc types may be scheduled', () => {
    const config = parseConfig(
      {
        adhoc: { enabled: true },
        schedules: {
          a: { cron: '@daily', submit: { type: 'adhoc', payload: { cmd: 'date' } } },
          b: { cron: '@daily', submit: { type: 'inCode' } },
        },
      },
      'test',
      { inCode: { inCode: { worker: {} } } },
    );
    assert.deepEqual(Object.keys(config.schedules), ['a', 'b']);
  });

  test('a bad expression, time zone, job type or name is a ConfigError naming its path', () => {
    const problems = problemsOf({
      schedules: {
        badCron: { cron: '61 * * * *', submit: { type: 'report' } },
        sevenFields: { cron: '0 0 0 1 1 * 2030', submit: { type: 'report' } },
        never: { cron: '0 0 30 2 *', submit: { type: 'report' } },
        badZone: { cron: '0 2 * * *', timezone: 'Mars/Olympus', submit: { type: 'report' } },
        badType: { cron: '0 2 * * *', submit: { type: 'nope' } },
        'bad name': { cron: '0 2 * * *', submit: { type: 'report' } },
      },
    });
    const at = (path: string) => problems.find((p) => p.path === path)?.message ?? '';
    assert.match(at('/schedules/badCron/cron'), /not a cron expression.*minute/);
    assert.match(at('/schedules/sevenFields/cron'), /5 or 6 parts/);
    assert.match(at('/schedules/never/cron'), /never fires/);
    assert.match(at('/schedules/badZone/timezone'), /"Mars\/Olympus" is not an IANA time zone/);
    assert.match(
      at('/schedules/badType/submit/type'),
      /names no job type: "nope" \(known: report\)/,
    );
    assert.match(at('/schedules/bad name'), /name must match/);
    assert.equal(problems.length, 6, JSON.stringify(problems));
  });

  test("a schedule's submission may carry expireIn; a malformed one is a ConfigError naming its path", () => {
    const ok = parseConfig(
      {
        jobTypes,
        schedules: { fresh: { cron: '* * * * *', submit: { type: 'report', expireIn: '5m' } } },
      },
      'test',
    );
    assert.equal(ok.schedules['fresh']?.submit.expireIn, '5m');
    const problems = problemsOf({
      schedules: { stale: { cron: '* * * * *', submit: { type: 'report', expireIn: 'soon' } } },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['/schedules/stale/submit/expireIn'],
    );
    assert.match(problems[0]!.message, /expireIn must be seconds/);
  });

  test("no API key may be the scheduler, whose idempotency keys are the schedules' ticks", () => {
    const hash = `sha256:${'a'.repeat(64)}`;
    const problems = problemsOf({ auth: { keys: [{ id: 'scheduler', hash, role: 'operator' }] } });
    assert.deepEqual(problems, [
      { path: '/auth/keys/0/id', message: 'is reserved for callers without a key: scheduler' },
    ]);
  });

  test('the schema refuses unknown fields, a catch-up of 0, an unknown policy, an idempotency key', () => {
    const problems = problemsOf({
      schedules: {
        a: {
          cron: '@daily',
          submit: { type: 'report', idempotencyKey: 'k' },
          missed: { catchUp: 0 },
          overlap: 'queue',
          every: '1h',
        },
        b: { submit: { type: 'report' } },
      },
    });
    const paths = problems.map((p) => p.path).sort();
    assert.deepEqual(paths, [
      '/schedules/a/every',
      '/schedules/a/missed',
      '/schedules/a/overlap',
      '/schedules/a/submit/idempotencyKey',
      '/schedules/b/cron',
    ]);
  });
});
