import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { startCheckpointer } from '../../src/store/sqlite/checkpointer.ts';
import { openDatabase } from '../../src/store/sqlite/schema.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-checkpointer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the thread copies committed pages into the database file; the writer never checkpoints', async () => {
  const file = path.join(dir, 'ckpt.db');
  const db = openDatabase({ path: file, synchronous: 'NORMAL' });
  db.exec('PRAGMA wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (x TEXT)');
  let copied!: (pages: { log: number; checkpointed: number }) => void;
  const checkpoint = new Promise<{ log: number; checkpointed: number }>((r) => (copied = r));
  const checkpointer = startCheckpointer({
    path: file,
    synchronous: 'NORMAL',
    onExit: (err) => assert.fail(`the thread ended: ${String(err)}`),
    onCheckpoint: copied,
  });
  try {
    const before = statSync(file).size;
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    db.exec('BEGIN');
    for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
    db.exec('COMMIT');
    const pages = await checkpoint;
    assert.ok(pages.checkpointed > 200, `${pages.checkpointed} pages copied`);
    assert.ok(statSync(file).size > before + 500_000, 'the rows reached the database file');
  } finally {
    await checkpointer.stop();
    db.close();
  }
});
