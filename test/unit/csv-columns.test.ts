import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  csvReservedColumns,
  csvReservedProblem,
  splitCsvRecord,
} from '../../src/jobs/csv-columns.ts';

describe('a CSV upload’s reserved gaffer. columns', () => {
  test('a header without any: every column is payload', () => {
    assert.equal(csvReservedColumns(['n', 'runAt', 'delay', 'gaffer']), null);
  });

  test('the timing columns leave the payload; an empty cell gives no timing', () => {
    const columns = csvReservedColumns(['n', 'gaffer.delay', 'gaffer.runAt', 'gaffer.expireIn'])!;
    assert.equal(csvReservedProblem(columns), null);
    assert.deepEqual(
      splitCsvRecord(
        { n: '1', 'gaffer.delay': ' 30s ', 'gaffer.runAt': '', 'gaffer.expireIn': '1h' },
        columns,
      ),
      { payload: { n: '1' }, timing: { delay: '30s', expireIn: '1h' } },
    );
  });

  test('any other gaffer. column, in any case, is a problem naming it', () => {
    const columns = csvReservedColumns(['n', 'gaffer.dealy', 'GAFFER.delay'])!;
    assert.deepEqual(columns.unknown, ['gaffer.dealy', 'GAFFER.delay']);
    assert.match(csvReservedProblem(columns)!, /"gaffer\.dealy", "GAFFER\.delay".*reserved/);
  });
});
