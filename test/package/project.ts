import { execFile, spawn, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * What a user of the npm package has: the tarball `npm pack` makes of this checkout, and fresh
 * projects under os.tmpdir() (out of reach of the checkout's node_modules and .npmrc) that install
 * it, its dependencies coming from the registry through the machine's npm cache.
 */

export const REPO = path.resolve(import.meta.dirname, '../..');
/** The repository's TypeScript compiler, run on the user's project. */
export const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** One entry of `npm pack --json`. */
export interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

/**
 * The environment of a user's shell: this Node (24) first on PATH, and none of what `npm test`
 * gives this process — its `npm_*` settings and NODE_OPTIONS carry the checkout's .npmrc, whose
 * `gaffer-source` condition would point `import 'gaffer'` at sources the package does not ship.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) || name === 'NODE_OPTIONS' || name === 'INIT_CWD') continue;
    env[name] = value;
  }
  env['PATH'] = [path.dirname(process.execPath), process.env['PATH'] ?? ''].join(path.delimiter);
  return { ...env, ...extra };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (no shell), resolving with its exit and output whatever they are. */
export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: userEnv(), ...options, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Like `run`, but a non-zero exit is an error naming the command and its output. */
export async function mustRun(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Promise<Run> {
  const r = await run(command, args, options);
  if (r.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}`,
    );
  }
  return r;
}

/** A private temporary folder, removed by `remove`. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `npm pack` of the checkout into `dest` (its prepack builds dist/); the tarball and the list. */
export async function pack(dest: string): Promise<{ tarball: string; result: PackResult }> {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', '--json', '--pack-destination', dest],
    { cwd: REPO, env: userEnv(), maxBuffer: 64 * 1024 * 1024 },
  );
  // The JSON follows whatever the prepack script printed.
  const [result] = JSON.parse(stdout.slice(stdout.indexOf('\n[') + 1)) as PackResult[];
  return { tarball: path.join(dest, result!.filename), result: result! };
}

const INSTALL = ['--no-audit', '--no-fund', '--no-update-notifier'];

/** `npm init -y` in `dir` as an ES module project, then `npm install` of each of `specs`. */
export async function installInto(dir: string, specs: string[]): Promise<void> {
  await mustRun('npm', ['init', '-y'], { cwd: dir });
  await mustRun('npm', ['pkg', 'set', 'type=module'], { cwd: dir });
  await mustRun('npm', ['install', ...INSTALL, ...specs], { cwd: dir });
}

/** `npm install --global` of the tarball into the prefix `prefix` (its bin/ holds `gaffer`). */
export async function installGlobally(prefix: string, tarball: string): Promise<void> {
  await mustRun('npm', ['install', '--global', '--prefix', prefix, ...INSTALL, tarball]);
}
