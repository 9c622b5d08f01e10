import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { promisify } from 'node:util';

const SCRIPT = path.resolve(import.meta.dirname, '../../bench/submission.ts');

// The benchmark at a tiny size, so it cannot rot: it starts a real `gaffer up`, uploads a CSV and
// submits batches and single jobs. Only that it completes and reports is checked, never a figure.
it('bench/submission.ts runs end to end and prints its report', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [SCRIPT, '--rows=2000', '--jobs=2000', '--rounds=1'],
    { cwd: path.dirname(path.dirname(SCRIPT)) },
  );
  for (const line of [
    /^ {2}upload +2,000 rows in /m,
    /^ {2}batch +chunk +10000: /m,
    /^ {2}stream +1 request: /m,
    /^ {2}one by one +64 in flight: /m,
    /^\| CSV upload, 2,000 rows, rows\/s \| /m,
    /^\| gaffer peak RSS during upload, MB \| /m,
    /^(PASS|FAIL) upload rate: /m,
    /^(PASS|FAIL) upload memory: /m,
    /^(PASS|FAIL) batch vs one by one: /m,
  ]) {
    assert.match(stdout, line);
  }
});
