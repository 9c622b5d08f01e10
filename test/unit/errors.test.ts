import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS } from '../../src/errors.ts';

test('docs/errors.md lists exactly the catalogue, with the same statuses', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = Object.fromEntries(
    [...doc.matchAll(/^\|\s*`(GAFFER_\w+)`\s*\|\s*(\d+)\s*\|/gm)].map((m) => [m[1], Number(m[2])]),
  );
  const catalogue = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
  assert.deepEqual(documented, catalogue);
});
