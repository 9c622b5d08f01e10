// The insert thread's entry (see insert-thread.ts). Plain JavaScript on purpose: a .ts entry makes
// the new isolate load Node's TypeScript stripper (a WebAssembly module) and the store's modules,
// measured at 43 MB of RSS for the thread instead of 19 MB, and the upload's memory target
// (< 256 MB) had 6 MB to spare. So this file knows no schema: it opens its own connection with the
// settings it is given, and runs each request's steps ([sql, params, changes]) in one IMMEDIATE
// transaction, in the order the requests arrive, replying after COMMIT returned (or with the error
// after ROLLBACK). A step that changes another number of rows than it says fails the request.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (!port) throw new Error('insert-worker.mjs runs as a worker thread only');
const { path, setup } = workerData;
const db = new DatabaseSync(path);
for (const sql of setup) db.exec(sql);
/** Each SQL text prepared once: the steps repeat a handful of texts. */
const statements = new Map();
const prepare = (sql) => {
  let stmt = statements.get(sql);
  if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
  return stmt;
};

port.on('message', (msg) => {
  if (msg.close) {
    db.close();
    port.close(); // nothing keeps the thread alive now: it exits
    return;
  }
  try {
    db.exec('BEGIN IMMEDIATE');
    for (const [sql, params, expected] of msg.steps) {
      const changes = Number(prepare(sql).run(...params).changes);
      if (changes !== expected) throw new Error(`a write changed ${changes} rows, not ${expected}`);
    }
    db.exec('COMMIT');
    port.postMessage({ id: msg.id });
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    // The fields callers tell errors apart by (service.ts: errcode 13 is a full disk).
    const { message, code, errcode, errstr } = err;
    port.postMessage({ id: msg.id, error: { message, code, errcode, errstr } });
  }
});
