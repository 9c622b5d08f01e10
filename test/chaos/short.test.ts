import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, backendAvailable, startBackend, type Backend } from '../../chaos/backends.ts';
import { applies, FAULTS, unavailable } from '../../chaos/faults.ts';
import { PROFILES } from '../../chaos/profile.ts';
import { runScenario } from '../../chaos/run.ts';

// The short chaos profile, in CI: every fault × backend of `npm run chaos` (chaos/), with
// 400 jobs and 3 fault events each, judged by the checker (chaos/checker.ts). Any loss,
// unexpected job, double terminal, unexplained duplicate, duplicate effect, wrong outcome,
// residue or refusal without a stable code fails the build; so does, in the `schedules` scenario
// (gaffer-kill with a cron schedule and a rate-limited type), a cron tick fired twice or missing
// beyond its missed policy, or the rate limit exceeded. The full profile is `npm run chaos`.
// A fault this machine cannot inject (disk-full needs root for its tmpfs, clock-skew Debian's
// faketime) fails in CI and skips loudly elsewhere, as a missing server does.
const profile = PROFILES['short']!;

for (const name of BACKENDS) {
  describe(
    `chaos, short profile: ${name}`,
    { skip: !backendAvailable(name) && `no ${name}` },
    () => {
      let backend: Backend;
      before(async () => {
        backend = await startBackend(name);
      });
      after(() => backend?.stop());

      for (const fault of FAULTS.filter((f) => applies(f, name))) {
        const why = unavailable(fault);
        if (why && process.env['CI'] === 'true') throw new Error(`chaos ${fault}: ${why}`);
        if (why) console.warn(`\n*** SKIPPED: chaos ${fault}: ${why} ***\n`);
        test(
          `${fault}: nothing lost, no double terminal, duplicates explained, no residue`,
          { skip: why ?? false },
          async () => {
            const report = await runScenario(backend, fault, profile);
            assert.deepEqual(report.problems, [], `${name} × ${fault}`);
            assert.equal(
              report.acknowledged,
              report.attempted,
              'every submission acknowledged in the end',
            );
            assert.ok(report.valid);
          },
        );
      }
    },
  );
}
