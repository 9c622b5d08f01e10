import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createInterface } from 'node:readline';
import { descendants } from '../../src/executors/local-process/process-tree.ts';
import { NODE_FLAGS } from '../../src/cli/node-flags.ts';
import {
  installGlobally,
  installInto,
  mustRun,
  pack,
  REPO,
  run,
  tempDir,
  TSC,
  userEnv,
  type PackResult,
} from './project.ts';

/**
 * gaffer as its users get it: `npm pack` of this checkout (once for this file), installed into a
 * fresh project under os.tmpdir() with its dependencies from the registry; then the CLI, the
 * library and the client are used from there, as the README and docs/library.md, docs/client.md
 * say, on this Node (24).
 */

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const VERSION = (
  JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }
).version;
/** The most a shipped file may weigh: the largest today is README.md (~65 kB). */
const MAX_FILE_BYTES = 200_000;

let work: ReturnType<typeof tempDir>;
let packed: PackResult;
let tarball: string;
let project: string;
let installMs: number;

before(
  async () => {
    work = tempDir('gaffer-package-');
    ({ tarball, result: packed } = await pack(work.dir));
    project = path.join(work.dir, 'project');
    mkdirSync(project);
    const start = performance.now();
    await installInto(project, [tarball, '@types/node@24']);
    installMs = Math.round(performance.now() - start);
    for (const file of ['library.mjs', 'library.ts', 'client.mjs', 'client.ts']) {
      cpSync(path.join(FIXTURES, file), path.join(project, file));
    }
  },
  { timeout: 600_000 },
);
after(() => work?.remove());

/** Runs `node` (this Node 24) in the project. */
const node = (args: string[]) => mustRun(process.execPath, args, { cwd: project });

describe('the tarball', () => {
  it('ships the built package and what a user reads, nothing of the repository', (t) => {
    t.diagnostic(
      `${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ` +
        `${packed.entryCount} files; npm install took ${installMs} ms`,
    );
    const files = packed.files.map((f) => f.path);
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/gaffer.mjs',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/cli/main.js',
      'dist/worker/main.js',
      'dashboard/index.html',
      'proto/gaffer/v1/gaffer.proto',
      'schema/gaffer.config.schema.json',
      'docs/library.md',
      'docs/client.md',
    ]) {
      assert.ok(files.includes(needed), `${needed} is missing`);
    }
    const unwanted = files.filter(
      (f) =>
        /^(test|bench|chaos|examples|src|scripts|tools|deploy|\.ci)\//.test(f) ||
        (/\.(ts|mts|cts)$/.test(f) && !/\.d\.ts$/.test(f)) ||
        /^docs\/.+\//.test(f) ||
        /\.(png|svg|db|csv)$/.test(f),
    );
    assert.deepEqual(unwanted, []);
    const heavy = packed.files.filter((f) => f.size > MAX_FILE_BYTES).map((f) => f.path);
    assert.deepEqual(heavy, []);
  });
});

describe('the declarations', () => {
  const tsconfig = (files: string[]) =>
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2024',
        types: ['node'],
        noEmit: true,
        skipLibCheck: false,
      },
      files,
    });

  it('type-check a library and a client program, strict, with nodenext resolution', async () => {
    writeFileSync(path.join(project, 'tsconfig.json'), tsconfig(['library.ts', 'client.ts']));
    await mustRun(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project });
  });

  it('make a misspelt option a type error', async () => {
    const misspell = (file: string, from: string, to: string) => {
      const text = readFileSync(path.join(FIXTURES, file), 'utf8');
      assert.ok(text.includes(from), `${file} has ${from}`);
      writeFileSync(path.join(project, `misspelt-${file}`), text.replace(from, to));
    };
    misspell('library.ts', 'concurrency: 1', 'concurency: 1');
    misspell('client.ts', 'createClient({ url })', "createClient({ url, apiKee: 'k' })");
    writeFileSync(
      path.join(project, 'tsconfig.misspelt.json'),
      tsconfig(['misspelt-library.ts', 'misspelt-client.ts']),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.misspelt.json'], { cwd: project });
    assert.notEqual(r.code, 0);
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    assert.equal(errors.length, 2, r.stdout);
    assert.match(errors.find((l) => l.startsWith('misspelt-library.ts')) ?? '', /'concurency'/);
    assert.match(errors.find((l) => l.startsWith('misspelt-client.ts')) ?? '', /'apiKee'/);
  });
});

describe('the library', () => {
  for (const file of ['library.mjs', 'library.ts']) {
    it(`runs jobs given in code: ${file}`, async () => {
      const { stdout } = await node([file, path.join(project, `data-${file}`)]);
      assert.equal(stdout, 'library: twice is 42\n');
    });
  }
});

describe('npx gaffer up', () => {
  let up: ChildProcess;
  let exited: Promise<number | null>;
  let url: string;
  let grpc: string | undefined;
  const cli = (args: string[]) =>
    mustRun('npx', ['gaffer', ...args], { cwd: project, env: userEnv({ GAFFER_URL: url }) });

  before(async () => {
    writeFileSync(
      path.join(project, 'gaffer.config.yaml'),
      [
        'server: { host: 127.0.0.1, port: 0, grpcPort: 0 }',
        'store: { dataDir: gaffer-data }',
        'jobTypes:',
        '  echo:',
        '    mode: pool',
        '    worker: { command: [node, -e, "process.stdin.pipe(process.stdout)"] }',
        '    concurrency: 1',
        '    timeoutSeconds: 60',
      ].join('\n'),
    );
    up = spawn('npx', ['gaffer', 'up', '--config', 'gaffer.config.yaml'], {
      cwd: project,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    exited = new Promise((resolve) => up.on('exit', (code) => resolve(code)));
    url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: up.stdout! }).on('line', (line) => {
        grpc ??= /^gaffer up: gRPC on (\S+)/.exec(line)?.[1];
        const m = /^gaffer up: (http:\/\/\S+)/.exec(line);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) =>
        reject(new Error(`npx gaffer up exited ${code} before listening`)),
      );
    });
  });
  after(() => {
    if (up.exitCode === null) for (const pid of [up.pid!, ...descendants(up.pid!)]) kill(pid);
  });

  it('runs a job submitted with `npx gaffer submit … --wait`', async () => {
    const { stdout } = await cli(['--json', 'submit', 'echo', '-p', '{"n":1}', '--wait']);
    const { job } = JSON.parse(stdout) as { job: { state: string; result: unknown } };
    assert.equal(job.state, 'succeeded');
    assert.deepEqual(job.result, { n: 1 });
  });

  it('serves gRPC from the shipped proto files: `npx gaffer --mode grpc submit … --wait`', async () => {
    assert.ok(grpc, 'no gRPC address in the banner');
    const { stdout } = await cli([
      '--mode',
      'grpc',
      '--grpc',
      grpc,
      '--json',
      'submit',
      'echo',
      '-p',
      '{"n":2}',
      '--wait',
    ]);
    assert.match(stdout, /"state":\s*"succeeded"/);
  });

  it('serves the dashboard and its chart library', async () => {
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /vendor\/uplot\/uPlot\.iife\.min\.js/);
    const uplot = await fetch(`${url}/vendor/uplot/uPlot.iife.min.js`);
    assert.equal(uplot.status, 200);
    await uplot.arrayBuffer();
  });

  for (const file of ['client.mjs', 'client.ts']) {
    it(`serves the typed client: ${file}`, async () => {
      const { stdout } = await node([file, url, 'echo']);
      assert.match(stdout, /^client: \S+ succeeded\n$/);
    });
  }

  it("runs with the shebang's node flags", () => {
    const gaffer = upProcess(up.pid!);
    const argv = readFileSync(`/proc/${gaffer}/cmdline`, 'utf8').split('\0');
    assert.deepEqual(argv.slice(1, 1 + NODE_FLAGS.length), [...NODE_FLAGS]);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    // npx runs the bin under `sh -c`, which does not pass a signal on: gaffer is sent its own.
    process.kill(upProcess(up.pid!), 'SIGTERM');
    assert.equal(await exited, 0);
  });
});

describe('the installed bin', () => {
  it("`npx gaffer` runs node with the shebang's flags", async () => {
    const { stdout } = await mustRun('npx', ['gaffer', '--node-flags'], { cwd: project });
    assert.deepEqual(JSON.parse(stdout), [...NODE_FLAGS]);
  });

  it('a global install runs `gaffer --version` and `gaffer --node-flags`', async () => {
    const prefix = path.join(work.dir, 'global');
    await installGlobally(prefix, tarball);
    const gaffer = path.join(prefix, 'bin', 'gaffer');
    assert.equal((await mustRun(gaffer, ['--version'])).stdout, `${VERSION}\n`);
    assert.deepEqual(JSON.parse((await mustRun(gaffer, ['--node-flags'])).stdout), [...NODE_FLAGS]);
  });

  it('refuses a Node older than engines.node with a message and exit code 2', async () => {
    // The installed package, with an engines.node no Node meets yet.
    const copy = path.join(work.dir, 'future', 'gaffer');
    cpSync(path.join(project, 'node_modules', 'gaffer'), copy, { recursive: true });
    const pkgFile = path.join(copy, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { engines: { node: string } };
    writeFileSync(pkgFile, JSON.stringify({ ...pkg, engines: { node: '>=999.1' } }));
    const r = await run(process.execPath, [path.join(copy, 'bin', 'gaffer.mjs'), '--version']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `gaffer needs Node >=999.1 (this is ${process.version})\n`);
  });
});

describe('exports', () => {
  it('refuse a deep import of the package', async () => {
    for (const deep of ['gaffer/dist/index.js', 'gaffer/src/index.ts', 'gaffer/package.json']) {
      const r = await run(process.execPath, ['-e', `await import(${JSON.stringify(deep)})`], {
        cwd: project,
      });
      assert.notEqual(r.code, 0, deep);
      assert.match(r.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/, deep);
    }
  });
});

/** The node process of `gaffer up` below the npx process `root`. */
function upProcess(root: number): number {
  const bin = path.join('.bin', 'gaffer');
  const pid = descendants(root).find((p) =>
    readFileSync(`/proc/${p}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg.endsWith(bin)),
  );
  assert.ok(pid, 'no gaffer up process below npx');
  return pid;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
