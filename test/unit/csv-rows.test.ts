import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CsvReader, type CsvRow } from '../../src/jobs/csv-rows.ts';

/** Reads `text` pushed in pieces cut at `cuts` (character offsets). */
function read(text: string, cuts: number[] = [], maxRowChars = 1000): CsvRow[] {
  const reader = new CsvReader({ maxRowChars });
  const out: CsvRow[] = [];
  let from = 0;
  for (const at of [...cuts].sort((a, b) => a - b)) {
    out.push(...reader.push(text.slice(from, at)));
    from = Math.max(from, at);
  }
  out.push(...reader.push(text.slice(from)), ...reader.end());
  return out;
}

const records = (rows: CsvRow[]) => rows.map((r) => ('record' in r ? r.record : r.error));
const lines = (rows: CsvRow[]) => rows.map((r) => r.line);

test('a header row names the fields; lines are counted from the header', () => {
  const rows = read('id,name\n1,Ada\n2,Alan\n');
  assert.deepEqual(records(rows), [
    { id: '1', name: 'Ada' },
    { id: '2', name: 'Alan' },
  ]);
  assert.deepEqual(lines(rows), [2, 3]);
});

test('quoted fields hold separators, doubled quotes and line breaks, also across pieces', () => {
  const text = 'a,b\n"x, y","say ""hi"""\n"two\nlines",z\nlast,row';
  const expected = [
    { a: 'x, y', b: 'say "hi"' },
    { a: 'two\nlines', b: 'z' },
    { a: 'last', b: 'row' },
  ];
  for (let cut = 0; cut <= text.length; cut++) {
    const rows = read(text, [cut]);
    assert.deepEqual(records(rows), expected, `cut at ${cut}`);
    assert.deepEqual(lines(rows), [2, 3, 5], `cut at ${cut}`);
  }
});

test('CRLF line ends, a byte-order mark and empty lines', () => {
  const rows = read('\uFEFFid,n\r\n1,"a"\r\n\r\n2,b\r\n\n3,c');
  assert.deepEqual(records(rows), [
    { id: '1', n: 'a' },
    { id: '2', n: 'b' },
    { id: '3', n: 'c' },
  ]);
  assert.deepEqual(lines(rows), [2, 4, 6]);
});

test('a row with the wrong field count is rejected with its line and text; the rest go on', () => {
  const rows = read('n\n1\n4,extra-field\n5\n');
  assert.deepEqual(lines(rows), [2, 3, 4]);
  const bad = rows[1]!;
  assert.ok('error' in bad);
  assert.match(bad.error, /the header has 1 fields, this row 2/);
  assert.equal(bad.raw.trimEnd(), '4,extra-field');
  assert.deepEqual(records([rows[0]!, rows[2]!]), [{ n: '1' }, { n: '5' }]);
});

test('a quote never closed is an error at the end; a row over the limit is cut', () => {
  const open = read('a,b\n1,2\n"never closed,3\n4,5\n');
  assert.deepEqual(lines(open), [2, 3]);
  assert.ok('error' in open[1]!);

  const long = read(`a\nshort\n${'x'.repeat(50)}\nafter\n`, [10, 20, 30], 20);
  assert.deepEqual(lines(long), [2, 3, 4]);
  assert.ok('error' in long[1]! && /longer than 20/.test(long[1].error));
  assert.deepEqual(records([long[0]!, long[2]!]), [{ a: 'short' }, { a: 'after' }]);
});

test('a column named __proto__ is a field like any other', () => {
  const [row] = read('__proto__,b\nx,y\n');
  assert.ok(row && 'record' in row);
  assert.deepEqual(Object.keys(row.record), ['__proto__', 'b']);
  assert.equal(Object.getPrototypeOf(row.record), Object.prototype);
});

/** RFC 4180 quoting, as a spreadsheet writes it. */
const cell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

test('any table written as CSV reads back as written, however the text is cut', () => {
  const field = fc.string({
    unit: fc.constantFrom('a', 'é', ',', '"', '\n', ' ', '1'),
    maxLength: 6,
  });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((width) =>
        fc.tuple(
          fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), {
            minLength: width,
            maxLength: width,
          }),
          fc.array(fc.array(field, { minLength: width, maxLength: width }), { maxLength: 8 }),
          fc.array(fc.nat(), { maxLength: 4 }),
          fc.constantFrom('\n', '\r\n'),
        ),
      ),
      ([header, body, cuts, eol]) => {
        // A one-column row whose only field is empty is an empty line: skipped, as intended.
        const kept = body.filter((r) => !(r.length === 1 && r[0] === ''));
        const text = [header, ...body].map((r) => r.map(cell).join(',')).join(eol) + eol;
        const rows = read(
          text,
          cuts.map((c) => c % (text.length + 1)),
        );
        assert.deepEqual(
          records(rows),
          kept.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))),
        );
      },
    ),
  );
});
