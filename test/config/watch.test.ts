import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { watchConfig } from '../../src/config/watch.ts';
import { stderrLogger } from '../helpers/log.ts';

/**
 * kubelet's ConfigMap update: `gaffer.yaml` → `..data/gaffer.yaml`, `..data` → a timestamped
 * directory; an update writes a new directory and renames a new `..data` symlink over the old one.
 * The watcher must notice although the file's own path never changes.
 */
test('a ConfigMap-style symlink swap triggers a reload', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-watch-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const version = (name: string, text: string) => {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'gaffer.yaml'), text);
  };
  version('..v1', 'jobTypes: {}');
  symlinkSync('..v1', path.join(dir, '..data'));
  symlinkSync('..data/gaffer.yaml', path.join(dir, 'gaffer.yaml'));

  const reloaded = Promise.withResolvers<void>();
  const watcher = watchConfig(
    path.join(dir, 'gaffer.yaml'),
    {
      reload: async () => {
        reloaded.resolve();
        return { at: 0, ok: true };
      },
    },
    { debounceMs: 50, log: stderrLogger() },
  );
  after(() => watcher.close());
  version('..v2', 'jobTypes: { a: { worker: { command: [true] } } }');
  symlinkSync('..v2', path.join(dir, '..data_tmp'));
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  await reloaded.promise;
});
