import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import type { AuditEntry } from '../../../src/store/roles/audit-log.ts';
import { eachTestStore, T0 } from '../contract-fixture.ts';

/**
 * The `AuditLog` role (src/store/roles/audit-log.ts) as every store plays it: the audit log.
 * `makeStore` must return a fresh, empty store each call; the suite closes it after each test.
 */
export function describeAuditLogContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let store: JobStore;
    eachTestStore(makeStore, (s) => {
      store = s;
    });

    describe('audit log', () => {
      const entry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
        at: T0 + n,
        actor: n % 2 ? 'ops' : 'alice',
        action: n % 3 ? 'job.cancel' : 'job.retry',
        target: `job-${n}`,
        outcome: 'ok',
        details: null,
        ...overrides,
      });

      test('round-trips every field, newest first, with a seq', async () => {
        const details = { code: 'GAFFER_FORBIDDEN', nested: { ids: ['a', 'b'], n: 2 } };
        await store.appendAudit(entry(1));
        await store.appendAudit(entry(2, { target: null, outcome: 'refused', details }));
        const { entries, nextCursor } = await store.listAudit({ limit: 10 });
        assert.equal(nextCursor, null);
        assert.deepEqual(
          entries.map(({ seq: _seq, ...rest }) => rest),
          [entry(2, { target: null, outcome: 'refused', details }), entry(1)],
        );
        assert.ok(entries[0]!.seq > entries[1]!.seq);
      });

      test('pages by cursor without gaps or repeats, also when entries are appended meanwhile', async () => {
        for (let n = 1; n <= 7; n++) await store.appendAudit(entry(n));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listAudit({ limit: 3, ...(cursor ? { cursor } : {}) });
          assert.ok(page.entries.length <= 3);
          seen.push(...page.entries.map((e) => e.target!));
          if (seen.length === 3) await store.appendAudit(entry(99));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        assert.deepEqual(
          seen,
          [7, 6, 5, 4, 3, 2, 1].map((n) => `job-${n}`),
        );
      });

      test('filters by actor and by action, exactly', async () => {
        for (let n = 1; n <= 6; n++) await store.appendAudit(entry(n));
        const targets = async (filter: { actor?: string; action?: string }) =>
          (await store.listAudit({ limit: 10, ...filter })).entries.map((e) => e.target);
        assert.deepEqual(await targets({ actor: 'ops' }), ['job-5', 'job-3', 'job-1']);
        assert.deepEqual(await targets({ action: 'job.retry' }), ['job-6', 'job-3']);
        assert.deepEqual(await targets({ actor: 'ops', action: 'job.retry' }), ['job-3']);
        assert.deepEqual(await targets({ actor: 'op' }), []);
      });

      test('a cursor it did not issue is refused with GAFFER_BAD_REQUEST', async () => {
        await assert.rejects(store.listAudit({ limit: 10, cursor: 'bm9wZQ' }), {
          code: 'GAFFER_BAD_REQUEST',
        });
      });
    });
  });
}
