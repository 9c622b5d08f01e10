import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after } from 'node:test';
import { LocalObjectStore } from '../../src/storage/local.ts';
import { describeObjectStoreContract } from './object-store.contract.ts';

const root = mkdtempSync(path.join(tmpdir(), 'gaffer-local-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** `file://` references for half the prefixes and plain absolute paths for the other half. */
describeObjectStoreContract('local filesystem', () => ({
  store: new LocalObjectStore(),
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
