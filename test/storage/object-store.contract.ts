import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { DataPolicyError, TransferBudget } from '../../src/storage/budget.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';

/** A place to run the contract in: the store under test and a way to check it from outside. */
export interface ContractFixture {
  store: ObjectStore;
  /** A prefix reference no other test uses, ending in `/`. */
  freshPrefix(): string;
  /** Writes an object directly (not through `store`). `ref` is a full reference. */
  put(ref: string, content: string): Promise<void>;
  /** Reads an object directly; null when it does not exist. */
  get(ref: string): Promise<string | null>;
}

/** The contract of src/storage/object-store.ts, run against each implementation. */
export function describeObjectStoreContract(name: string, fixture: () => ContractFixture): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const dirs: string[] = [];
    const tempDir = async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'gaffer-os-'));
      dirs.push(dir);
      return dir;
    };
    after(async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    });

    test('downloads one object as <dest>/<its name>', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      await f.put(`${base}in/x.csv`, 'a,b\n1,2\n');
      const dest = await tempDir();
      const written = await f.store.download(`${base}in/x.csv`, dest);
      assert.deepEqual(written, [path.join(dest, 'x.csv')]);
      assert.equal(await readFile(path.join(dest, 'x.csv'), 'utf8'), 'a,b\n1,2\n');
    });

    test('downloads every object under a prefix, at its path below the prefix', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      await f.put(`${base}set/a.txt`, 'A');
      await f.put(`${base}set/deep/b.txt`, 'B');
      await f.put(`${base}other/c.txt`, 'not mine');
      const dest = await tempDir();
      const written = await f.store.download(`${base}set/`, dest);
      assert.deepEqual(written, [path.join(dest, 'a.txt'), path.join(dest, 'deep', 'b.txt')]);
      assert.equal(await readFile(path.join(dest, 'deep', 'b.txt'), 'utf8'), 'B');
    });

    test('uploads a directory tree under the prefix and returns the objects written', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      const src = await tempDir();
      await mkdir(path.join(src, 'sub'));
      await writeFile(path.join(src, 'out.csv'), 'result\n');
      await writeFile(path.join(src, 'sub', 'log.txt'), 'done');
      const written = await f.store.upload(src, `${base}results/`);
      assert.deepEqual(written, [`${base}results/out.csv`, `${base}results/sub/log.txt`]);
      assert.equal(await f.get(`${base}results/out.csv`), 'result\n');
      assert.equal(await f.get(`${base}results/sub/log.txt`), 'done');
    });

    test('an upload reference without a trailing slash is a prefix all the same', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      const src = await tempDir();
      await writeFile(path.join(src, 'r.json'), '{}');
      assert.deepEqual(await f.store.upload(src, `${base}run-1`), [`${base}run-1/r.json`]);
      assert.equal(await f.get(`${base}run-1/r.json`), '{}');
    });

    test('an empty directory uploads nothing', async () => {
      const f = fixture();
      assert.deepEqual(await f.store.upload(await tempDir(), `${f.freshPrefix()}empty/`), []);
    });

    test('a missing object is an error naming it', async () => {
      const f = fixture();
      const ref = `${f.freshPrefix()}missing-${randomUUID()}.csv`;
      await assert.rejects(f.store.download(ref, await tempDir()), (err: Error) => {
        assert.ok(err.message.includes(ref), err.message);
        assert.match(err.message, /no such/);
        return true;
      });
    });

    test('a prefix with nothing under it is an error, not an empty download', async () => {
      const f = fixture();
      const ref = `${f.freshPrefix()}nothing/`;
      await assert.rejects(f.store.download(ref, await tempDir()), (err: Error) => {
        assert.ok(err.message.includes(ref), err.message);
        return true;
      });
    });

    test('an aborted signal stops a transfer', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      await f.put(`${base}x.txt`, 'x');
      const signal = AbortSignal.abort();
      await assert.rejects(f.store.download(`${base}`, await tempDir(), { signal }));
      const src = await tempDir();
      await writeFile(path.join(src, 'y.txt'), 'y');
      await assert.rejects(f.store.upload(src, `${base}up/`, { signal }));
      assert.equal(await f.get(`${base}up/y.txt`), null);
    });

    test('a download over the budget of files or bytes fails, not retryably', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      for (const name of ['a', 'b', 'c']) await f.put(`${base}set/${name}.txt`, '0123456789');
      const files = new TransferBudget({ maxFiles: 2, maxBytes: 1000 }, "the job's inputs");
      await assert.rejects(
        f.store.download(`${base}set/`, await tempDir(), { budget: files }),
        (err: Error) =>
          err instanceof DataPolicyError && /more than 2 files/.test(err.message) && true,
      );
      const bytes = new TransferBudget({ maxFiles: 100, maxBytes: 25 }, "the job's inputs");
      await assert.rejects(
        f.store.download(`${base}set/`, await tempDir(), { budget: bytes }),
        (err: Error) => err instanceof DataPolicyError && /more than 25 bytes/.test(err.message),
      );
      // One budget for every input of a job: two downloads that each fit, together do not.
      const shared = new TransferBudget({ maxFiles: 100, maxBytes: 15 }, "the job's inputs");
      const dest = await tempDir();
      await f.store.download(`${base}set/a.txt`, dest, { budget: shared });
      await assert.rejects(f.store.download(`${base}set/b.txt`, dest, { budget: shared }), {
        name: 'DataPolicyError',
      });
    });

    test('an upload over the budget of files or bytes fails', async () => {
      const f = fixture();
      const base = f.freshPrefix();
      const src = await tempDir();
      for (const name of ['a', 'b', 'c']) {
        await writeFile(path.join(src, `${name}.txt`), '0123456789');
      }
      const files = new TransferBudget({ maxFiles: 2, maxBytes: 1000 }, "the job's output");
      await assert.rejects(f.store.upload(src, `${base}up1/`, { budget: files }), {
        name: 'DataPolicyError',
      });
      const bytes = new TransferBudget({ maxFiles: 100, maxBytes: 25 }, "the job's output");
      await assert.rejects(f.store.upload(src, `${base}up2/`, { budget: bytes }), {
        name: 'DataPolicyError',
      });
    });
  });
}
