import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvCell, csvLine } from '../../src/api/csv-cell.ts';

/** OWASP "CSV Injection": cells a spreadsheet would run as a formula are prefixed with '. */
describe('csvCell', () => {
  const cases: [unknown, string, string][] = [
    ['plain', 'plain', 'plain text unchanged'],
    [42, '42', 'a number'],
    [null, '', 'null is empty'],
    ['=1+1', "'=1+1", '= starts a formula'],
    ['+1+1', "'+1+1", '+ starts a formula'],
    ['-1+1', "'-1+1", '- starts a formula'],
    ['@SUM(A1)', "'@SUM(A1)", '@ starts a function'],
    ['\t=1', "'\t=1", 'a leading tab'],
    ['\r=1', `"'\r=1"`, 'a leading carriage return (quoted: it holds CR)'],
    [' =1+1', "' =1+1", 'leading whitespace before ='],
    ['  @x', "'  @x", 'leading whitespace before @'],
    ["=cmd|' /C calc'!A0", `'=cmd|' /C calc'!A0`, 'a DDE payload with |'],
    [
      '=HYPERLINK("http://evil","x")',
      `"'=HYPERLINK(""http://evil"",""x"")"`,
      'quotes doubled and quoted',
    ],
    ['a,b', '"a,b"', 'a comma is quoted'],
    ['line\nbreak', '"line\nbreak"', 'a newline is quoted'],
    ['say "hi"', '"say ""hi"""', 'quotes are doubled'],
    ['a=b', 'a=b', '= inside a cell is harmless'],
    ['x|y', 'x|y', '| outside a formula is harmless'],
  ];
  for (const [input, want, what] of cases) {
    test(what, () => assert.equal(csvCell(input), want));
  }

  test('csvLine joins defused cells', () => {
    assert.equal(csvLine([3, 'GAFFER_FORBIDDEN', '=1', 'a,b']), `3,GAFFER_FORBIDDEN,'=1,"a,b"`);
  });
});
