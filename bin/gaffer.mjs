#!/usr/bin/env -S node --max-semi-space-size=16
// The `gaffer` command. Installed from the npm package, it runs the compiled CLI (dist/), which
// needs the Node named by package.json's `engines.node`: on an older Node it says so and exits 2.
// In a checkout (src/ present) it runs the TypeScript sources, which also need Node's type
// stripping; on an older Node it re-runs them with the Node 24 the checkout installs (the `node`
// devDependency). npm links this file as the `gaffer` bin, so the shebang's flags
// (src/cli/node-flags.ts) apply when it runs as `gaffer` or `npx gaffer`.
// `gaffer --node-flags` prints the flags this node process started with (process.execArgv), as
// JSON, and exits: how a test shows the shebang's flags are in effect.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(realpathSync(fileURLToPath(import.meta.url))), '..');
const sources = path.join(root, 'src', 'cli', 'main.ts');
// The shebang's flags (src/cli/node-flags.ts), also given to the Node 24 this may re-run the CLI with.
const NODE_FLAGS = ['--max-semi-space-size=16'];

/**
 * `engines.node` of package.json (`>=MAJOR[.MINOR[.PATCH]]`) against this Node's version.
 * Hand-written rather than `semver`: this file must run on any old Node with builtins only (it is
 * what tells the user their Node is too old), and the package's range is always a plain `>=`;
 * any other form is let through to Node's own errors.
 */
function supported() {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const wanted = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(pkg.engines.node.trim());
  if (!wanted) return { ok: true, range: pkg.engines.node };
  const have = process.versions.node.split('.').map(Number);
  const need = wanted.slice(1).map((n) => Number(n ?? 0));
  const diff = need.map((n, i) => (have[i] ?? 0) - n).find((d) => d !== 0) ?? 0;
  return { ok: diff >= 0, range: pkg.engines.node };
}

async function run(entry) {
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(process.argv);
}

/** Runs this command again with the checkout's Node 24, passing on a SIGTERM. */
function rerun(node) {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(node, [...NODE_FLAGS, self, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal; a SIGTERM sent to this process is passed on.
  const ignore = () => {};
  const forward = () => child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forward);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

const packaged = !existsSync(sources);
const { ok, range } = supported();
if (!ok || (!packaged && !process.features.typescript)) {
  const bin = process.platform === 'win32' ? 'node.cmd' : 'node';
  const node = path.join(root, 'node_modules', '.bin', bin);
  if (packaged || !existsSync(node)) {
    const fix = packaged ? '' : `; run \`npm ci\` in ${root} to get Node 24`;
    process.stderr.write(`gaffer needs Node ${range} (this is ${process.version})${fix}\n`);
    process.exit(2);
  }
  rerun(node);
} else if (process.argv[2] === '--node-flags') {
  process.stdout.write(`${JSON.stringify(process.execArgv)}\n`);
} else {
  await run(packaged ? path.join(root, 'dist', 'cli', 'main.js') : sources);
}
