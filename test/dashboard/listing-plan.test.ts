import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { DatabaseSync } from 'node:sqlite';
import { encodeCursor } from '../../src/store/paging.ts';
import { listQuery } from '../../src/store/sqlite/listing.ts';
import { openDatabase } from '../../src/store/sqlite/schema.ts';

/**
 * The jobs table stays fast at a million jobs only if every query the listing can issue reads an
 * index. GET /v1/jobs takes type, state, batch, search and cursor in any combination: all 32 are
 * EXPLAINed on the real schema (every migration), and the plan must not scan the table.
 *
 * The listing's order is the table's own (rowid, migration 8), so a plan line "SCAN jobs" walks
 * the table in page order and stops after the page: allowed where nothing filters (the unfiltered
 * listing) and in the search's payload window (bounded by LIMIT), refused everywhere else, as is a
 * scan of any index. A filter must be a SEARCH on an index, and the order must come from that
 * index (no temp B-tree) unless a search's bounded candidates are being sorted.
 */
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FILTERS = ['type', 'state', 'batchId', 'search', 'cursor'] as const;
const VALUES = {
  type: 'render',
  state: 'failed',
  batchId: 'batch-1',
  search: 'job-12',
  cursor: encodeCursor(1_700_000_000_000, 'job-1'),
} as const;

function combinations() {
  return Array.from({ length: 2 ** FILTERS.length }, (_, mask) =>
    FILTERS.filter((_, i) => mask & (1 << i)),
  );
}

function planOf(db: DatabaseSync, on: readonly (typeof FILTERS)[number][]): string[] {
  const filter = Object.fromEntries(on.map((k) => [k, VALUES[k]]));
  const { sql, params } = listQuery(filter, 51);
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((r) => String(r['detail']));
}

describe('jobs listing query plans (SQLite)', () => {
  const db = openDatabase({ path: path.join(dir, 'plan.db'), synchronous: 'NORMAL' });
  after(() => db.close());

  for (const on of combinations()) {
    const name = on.length ? on.join(' + ') : 'no filter';
    test(`${name}: reads an index, never the whole table`, () => {
      const plan = planOf(db, on);
      const text = plan.join('\n');
      const filtered = on.some((k) => k !== 'cursor');
      for (const line of plan) {
        assert.doesNotMatch(line, /^SCAN jobs USING/, `scan of an index:\n${text}`);
        if (/^SCAN jobs/.test(line)) {
          // Only the unfiltered listing, or the search's LIMITed payload window, walks the table.
          assert.ok(
            !filtered || on.includes('search'),
            `a filter walked the table's order:\n${text}`,
          );
        }
      }
      if (on.includes('search')) {
        assert.match(text, /MULTI-INDEX OR/, `the search's bounded branches drive it:\n${text}`);
      } else {
        assert.doesNotMatch(text, /TEMP B-TREE/, `sorted outside an index:\n${text}`);
        if (filtered) assert.match(plan[0]!, /^SEARCH jobs USING INDEX/, text);
      }
    });
  }
});
