import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { DataPolicyError, TransferBudget } from '../../src/storage/budget.ts';
import { LocalObjectStore } from '../../src/storage/local.ts';
import { describeObjectStoreContract } from './object-store.contract.ts';

const root = mkdtempSync(path.join(tmpdir(), 'gaffer-local-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** `file://` references for half the prefixes and plain absolute paths for the other half. */
describeObjectStoreContract('local filesystem', () => ({
  store: new LocalObjectStore([root]),
  freshPrefix() {
    const dir = path.join(root, `t${++n}`);
    mkdirSync(dir);
    return n % 2 ? `${pathToFileURL(dir).href}/` : `${dir}/`;
  },
  async put(ref, content) {
    const file = toPath(ref);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  },
  get: (ref) => readFile(toPath(ref), 'utf8').catch(() => null),
}));

function toPath(ref: string): string {
  return ref.startsWith('file://') ? fileURLToPath(ref) : ref;
}

/** A data root and, beside it, a directory outside every root holding a secret. */
function sandbox() {
  const base = mkdtempSync(path.join(tmpdir(), 'gaffer-roots-'));
  const dataRoot = path.join(base, 'data');
  const secretDir = path.join(base, 'secret');
  mkdirSync(dataRoot);
  mkdirSync(secretDir);
  const dest = path.join(base, 'job');
  after(() => rmSync(base, { recursive: true, force: true }));
  return { base, dataRoot, secretDir, dest, store: new LocalObjectStore([dataRoot]) };
}

const refused = (pattern: RegExp) => (err: Error) => {
  assert.ok(err instanceof DataPolicyError, `${err.name}: ${err.message}`);
  assert.match(err.message, pattern);
  return true;
};

describe('local store: confined to its roots', () => {
  test('with no roots every local reference is refused', async () => {
    const s = sandbox();
    await writeFile(path.join(s.dataRoot, 'x.txt'), 'x');
    const store = new LocalObjectStore([]);
    await assert.rejects(
      store.download(path.join(s.dataRoot, 'x.txt'), s.dest),
      refused(/local paths are off/),
    );
    await assert.rejects(
      store.upload(s.dataRoot, `${s.base}/out/`),
      refused(/local paths are off/),
    );
  });

  test('a path outside the roots is refused before anything is read or written', async () => {
    const s = sandbox();
    await writeFile(path.join(s.secretDir, 'key'), 'secret');
    await assert.rejects(
      s.store.download(path.join(s.secretDir, 'key'), s.dest),
      refused(/outside every local data root/),
    );
    await assert.rejects(s.store.download('/etc/passwd', s.dest), refused(/outside/));
    const src = mkdtempSync(path.join(s.base, 'out-'));
    await writeFile(path.join(src, 'r.txt'), 'r');
    await assert.rejects(s.store.upload(src, `${s.secretDir}/out/`), refused(/outside/));
    assert.deepEqual(await readdir(s.secretDir), ['key']);
  });

  test('a symlink inside a root that leads outside is refused, as a reference and in a walk', async () => {
    const s = sandbox();
    await writeFile(path.join(s.secretDir, 'key'), 'secret');
    await symlink(path.join(s.secretDir, 'key'), path.join(s.dataRoot, 'link'));
    await assert.rejects(
      s.store.download(path.join(s.dataRoot, 'link'), s.dest),
      refused(/leads outside the local data roots/),
    );
    // A directory link leading out: the reference resolves outside.
    await symlink(s.secretDir, path.join(s.dataRoot, 'dirlink'));
    await assert.rejects(
      s.store.download(`${s.dataRoot}/dirlink/`, s.dest),
      refused(/leads outside/),
    );
    // In a walk, the link is an entry of a directory inside the root.
    await mkdir(path.join(s.dataRoot, 'set'));
    await writeFile(path.join(s.dataRoot, 'set', 'ok.txt'), 'ok');
    await symlink(path.join(s.secretDir, 'key'), path.join(s.dataRoot, 'set', 'escape'));
    await assert.rejects(
      s.store.download(`${s.dataRoot}/set/`, s.dest),
      refused(/set\/escape: leads outside/),
    );
    const copied = await readdir(s.dest, { recursive: true }).catch(() => []);
    assert.ok(!copied.some((f) => f.includes('escape')), `copied: ${copied.join(', ')}`);
    for (const f of copied) {
      const text = await readFile(path.join(s.dest, f), 'utf8').catch(() => '');
      assert.notEqual(text, 'secret');
    }
  });

  test('symlinks that stay inside the roots are followed; a root may itself be a link', async () => {
    const s = sandbox();
    await mkdir(path.join(s.dataRoot, 'set'));
    await writeFile(path.join(s.dataRoot, 'shared.txt'), 'shared');
    await symlink(path.join(s.dataRoot, 'shared.txt'), path.join(s.dataRoot, 'set', 'alias.txt'));
    await symlink(s.dataRoot, path.join(s.dataRoot, 'set', 'loop')); // a directory: not entered
    const linkedRoot = path.join(s.base, 'root-link');
    await symlink(s.dataRoot, linkedRoot);
    const store = new LocalObjectStore([linkedRoot]);
    const written = await store.download(`${linkedRoot}/set/`, s.dest);
    assert.deepEqual(written, [path.join(s.dest, 'alias.txt')]);
    assert.equal(await readFile(path.join(s.dest, 'alias.txt'), 'utf8'), 'shared');
  });

  test('a FIFO is refused as a reference and skipped in a walk, never waited on', async () => {
    const s = sandbox();
    await mkdir(path.join(s.dataRoot, 'set'));
    await writeFile(path.join(s.dataRoot, 'set', 'a.txt'), 'a');
    execFileSync('mkfifo', [path.join(s.dataRoot, 'set', 'pipe')]);
    await assert.rejects(
      s.store.download(path.join(s.dataRoot, 'set', 'pipe'), s.dest),
      refused(/not a regular file/),
    );
    assert.deepEqual(await s.store.download(`${s.dataRoot}/set/`, s.dest), [
      path.join(s.dest, 'a.txt'),
    ]);
  });

  test('an output never writes through a symlink planted in its destination', async () => {
    const s = sandbox();
    await writeFile(path.join(s.secretDir, 'key'), 'secret');
    const src = mkdtempSync(path.join(s.base, 'out-'));
    await writeFile(path.join(src, 'key'), 'overwritten');
    await mkdir(path.join(src, 'sub'));
    await writeFile(path.join(src, 'sub', 'x.txt'), 'x');
    // A file link: the write is refused (O_NOFOLLOW), the target untouched.
    await mkdir(path.join(s.dataRoot, 'out1'));
    await symlink(path.join(s.secretDir, 'key'), path.join(s.dataRoot, 'out1', 'key'));
    await assert.rejects(s.store.upload(src, `${s.dataRoot}/out1/`), refused(/symbolic link/));
    // A directory link: nothing is created where it leads.
    await mkdir(path.join(s.dataRoot, 'out2'));
    await symlink(s.secretDir, path.join(s.dataRoot, 'out2', 'sub'));
    await assert.rejects(s.store.upload(src, `${s.dataRoot}/out2/`), refused(/leads outside/));
    assert.deepEqual(await readdir(s.secretDir), ['key']);
    assert.equal(await readFile(path.join(s.secretDir, 'key'), 'utf8'), 'secret');
  });

  test('an output overwrites a regular file of the same name (a retried upload completes)', async () => {
    const s = sandbox();
    const src = mkdtempSync(path.join(s.base, 'out-'));
    await writeFile(path.join(src, 'r.txt'), 'new');
    await mkdir(path.join(s.dataRoot, 'run'));
    await writeFile(path.join(s.dataRoot, 'run', 'r.txt'), 'old and longer');
    assert.deepEqual(await s.store.upload(src, `${s.dataRoot}/run/`), [`${s.dataRoot}/run/r.txt`]);
    assert.equal(await readFile(path.join(s.dataRoot, 'run', 'r.txt'), 'utf8'), 'new');
  });

  test('an output may be the first thing under its root: the root is created', async () => {
    const s = sandbox();
    const fresh = path.join(s.base, 'fresh', 'outputs');
    const src = mkdtempSync(path.join(s.base, 'out-'));
    await writeFile(path.join(src, 'r.txt'), 'r');
    const store = new LocalObjectStore([fresh]);
    assert.deepEqual(await store.upload(src, `${fresh}/run/`), [`${fresh}/run/r.txt`]);
    assert.equal(await readFile(path.join(fresh, 'run', 'r.txt'), 'utf8'), 'r');
  });

  test('an abort stops a walk between files: nothing more is copied', async () => {
    const s = sandbox();
    await mkdir(path.join(s.dataRoot, 'many'));
    for (let i = 0; i < 50; i++) await writeFile(path.join(s.dataRoot, 'many', `${i}.txt`), 'x');
    const controller = new AbortController();
    /** Aborts as the walk reaches its fifth file: as a cancel arriving mid-walk would. */
    class AbortingBudget extends TransferBudget {
      override entry(name: string): void {
        super.entry(name);
        if (this.files === 5) controller.abort(new Error('cancelled'));
      }
    }
    await assert.rejects(
      s.store.download(`${s.dataRoot}/many/`, s.dest, {
        signal: controller.signal,
        budget: new AbortingBudget(),
      }),
      (err: Error) => err.name === 'AbortError' || /cancelled/.test(err.message),
    );
    assert.ok((await readdir(s.dest)).length <= 5);
  });
});
