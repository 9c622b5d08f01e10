#!/usr/bin/env -S node --max-semi-space-size=16
// The `gaffer` command. gaffer needs Node with `node:sqlite` and TypeScript type stripping
// (Node >= 22.18); the machines ship Node 20, so on an older Node this re-runs the CLI with the
// Node 24 the project installs (the `node` devDependency), else it runs it in this process.
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(realpathSync(fileURLToPath(import.meta.url))), '..');
const entry = path.join(root, 'src', 'cli', 'main.ts');
const capable = isBuiltin('node:sqlite') && Boolean(process.features.typescript);
// The shebang's flags (src/cli/node-flags.ts), also given to the Node 24 this may re-run the CLI with.
const NODE_FLAGS = ['--max-semi-space-size=16'];

if (capable) {
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(process.argv);
} else {
  const node = path.join(
    root,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'node.cmd' : 'node',
  );
  if (!existsSync(node)) {
    process.stderr.write(
      `gaffer needs Node >= 22.18 (this is ${process.version}); run \`npm ci\` in ${root} to get Node 24\n`,
    );
    process.exit(2);
  }
  const child = spawn(node, [...NODE_FLAGS, entry, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
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
