import path from 'node:path';

/**
 * Where gaffer's own files are, whether it runs from its TypeScript sources (`src/`, a checkout)
 * or from the compiled package (`dist/`, what npm installs). This module sits at the root of
 * either, so the package root (package.json, dashboard/, proto/) is its parent, and gaffer's other
 * modules carry this module's extension (`.ts` or `.js`).
 */
const MODULES_DIR = import.meta.dirname;
const MODULE_EXT = path.extname(import.meta.filename);

/** The folder holding package.json, dashboard/ and proto/. */
export const PACKAGE_ROOT = path.dirname(MODULES_DIR);

/** A file shipped with gaffer, by its path from the package root: `packageFile('proto')`. */
export function packageFile(...segments: string[]): string {
  return path.join(PACKAGE_ROOT, ...segments);
}

/** One of gaffer's modules, as a file node can run: `moduleFile('worker/main')`. */
export function moduleFile(name: string): string {
  return path.join(MODULES_DIR, `${name}${MODULE_EXT}`);
}
