import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO } from '../helpers/gaffer.ts';
import { api, untilEvent } from '../helpers/process.ts';

// The images scripts/build-images.sh builds (deploy/Dockerfile, deploy/worker.Dockerfile), run as
// a user would without a Docker engine: `buildah run --isolation chroot`, which shares the host's
// network, so gaffer in its image listens on the host's loopback. Needs root, buildah and
// mmdebstrap (scripts/install-deps.sh). GAFFER_IMAGES_DIR: use the archives the script wrote
// there; otherwise this file runs the script (the base is cached: ~/.cache/gaffer/images).

const run = promisify(execFile);
const buildah = async (...args: string[]) =>
  (await run('buildah', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  version: string;
};
const IMAGES = ['gaffer', 'gaffer-worker'] as const;
type Image = (typeof IMAGES)[number];
const TOKEN = 'images-smoke-test-worker-token';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-images-'));
const containers: Partial<Record<Image, string>> = {};
const running: ChildProcess[] = [];
let built = false;

before(
  async () => {
    let dir = process.env['GAFFER_IMAGES_DIR'];
    if (!dir) {
      dir = path.join(tmp, 'images');
      await run('bash', [path.join(REPO, 'scripts/build-images.sh'), dir], {
        maxBuffer: 64 * 1024 * 1024,
      });
      built = true;
    }
    for (const image of IMAGES) {
      containers[image] = await buildah('from', '--quiet', `oci-archive:${dir}/${image}.oci.tar`);
    }
  },
  { timeout: 40 * 60_000 },
);

after(async () => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
  for (const c of Object.values(containers)) await buildah('rm', c);
  rmSync(tmp, { recursive: true, force: true });
});

const container = (image: Image) => containers[image]!;

/** `buildah run` in a container: its stdout once it exits 0. */
const inside = (image: Image, ...argv: string[]) =>
  buildah('run', '--isolation', 'chroot', container(image), '--', ...argv);

/** `buildah run` of a long-running command; stopped (SIGTERM to buildah) after the file's tests. */
function start(image: Image, runArgs: string[], argv: string[]) {
  const child = spawn(
    'buildah',
    ['run', '--isolation', 'chroot', ...runArgs, container(image), '--', ...argv],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.push(child);
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, output: () => output };
}

interface ImageConfig {
  config: { User?: string; Entrypoint?: string[]; Labels?: Record<string, string> };
}
const imageConfig = async (image: Image) =>
  (
    JSON.parse(await buildah('inspect', '--type', 'container', container(image))) as {
      OCIv1: ImageConfig;
    }
  ).OCIv1.config;

/** gaffer started with its image's ENTRYPOINT, on loopback; resolves with its URL. */
async function startGaffer(): Promise<string> {
  const etc = path.join(tmp, 'etc');
  mkdirSync(etc, { recursive: true });
  const config = [
    'server:',
    `  workerToken: ${TOKEN}`,
    'jobTypes:',
    '  inside:',
    // The marker file exists only in the worker's container (copied in below).
    '    worker: { command: [cat, /marker] }',
    '    scaling: { min: 0, max: 0 }',
  ];
  writeFileSync(path.join(etc, 'config.yaml'), config.join('\n'));
  const { Entrypoint } = await imageConfig('gaffer');
  const gaffer = start(
    'gaffer',
    ['--volume', `${etc}:/etc/gaffer:ro`],
    [
      ...Entrypoint!,
      'up',
      '--config',
      '/etc/gaffer/config.yaml',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
    ],
  );
  return new Promise<string>((resolve, reject) => {
    createInterface({ input: gaffer.child.stdout! }).on('line', (line) => {
      const m = /gaffer up: (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void gaffer.exited.then((code) =>
      reject(new Error(`gaffer exited (${code}) before listening: ${gaffer.output()}`)),
    );
  });
}

let url: string;

test('gaffer’s image serves /healthz to the host', async () => {
  url = await startGaffer();
  const res = await fetch(`${url}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('a job runs on a worker inside the worker image’s filesystem', async () => {
  const nonce = `only-in-the-worker-container-${process.pid}`;
  const marker = path.join(tmp, 'marker');
  writeFileSync(marker, `${nonce}\n`);
  await buildah('copy', '--quiet', container('gaffer-worker'), marker, '/marker');
  assert.ok(!existsSync('/marker'), 'the marker is not on the host');
  // As gaffer's Kubernetes pool runs it: `gaffer` on PATH, gaffer's URL, the token in the env.
  const worker = start(
    'gaffer-worker',
    ['--env', `GAFFER_WORKER_TOKEN=${TOKEN}`],
    ['gaffer', '--url', url, 'worker', '--type', 'inside'],
  );
  const { job } = await api<{ job: { id: string } }>(url, '/v1/jobs', {
    type: 'inside',
    payload: {},
  });
  let ended: { state: string; result: unknown } | undefined;
  await untilEvent(url, async () => {
    const { job: now } = await api<{ job: { state: string; result: unknown } }>(
      url,
      `/v1/jobs/${job.id}`,
    );
    if (['succeeded', 'failed', 'dead_lettered', 'cancelled', 'timed_out'].includes(now.state)) {
      ended = now;
    }
    return ended !== undefined || worker.child.exitCode !== null;
  });
  assert.equal(ended?.state, 'succeeded', worker.output());
  assert.equal(ended?.result, nonce);
});

for (const image of IMAGES) {
  test(`${image}: runs as a numeric non-root user`, async () => {
    const { User } = await imageConfig(image);
    assert.equal(User, '10001:10001');
    assert.equal(await inside(image, 'id', '-u'), '10001');
  });

  test(`${image}: carries the OCI labels`, async () => {
    const labels = (await imageConfig(image)).Labels ?? {};
    const label = (name: string) => labels[`org.opencontainers.image.${name}`];
    assert.equal(label('title'), image);
    assert.equal(label('version'), pkg.version);
    assert.equal(label('licenses'), 'MIT');
    assert.match(label('created') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(label('source'));
    if (built) {
      const head = (await run('git', ['-C', REPO, 'rev-parse', 'HEAD'])).stdout.trim();
      assert.equal(label('revision'), head);
    } else assert.match(label('revision') ?? '', /^[0-9a-f]{40}$/);
  });

  test(`${image}: Node 24 and gaffer, and no compilers, npm or dev dependencies`, async () => {
    assert.match(await inside(image, 'node', '--version'), /^v24\./);
    assert.equal(await inside(image, 'gaffer', '--version'), pkg.version);
    const tools = ['gcc', 'cc', 'c++', 'g++', 'make', 'ld', 'npm', 'npx'];
    const found = await inside(
      image,
      'sh',
      '-c',
      `for t in ${tools.join(' ')}; do command -v $t; done; true`,
    );
    assert.equal(found, '', 'no build tool on PATH');
    // Packages the lockfile marks dev-only (eslint, typescript, prettier…) are not installed.
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([p, meta]) => meta.dev && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p))
      .map(([p]) => p.slice('node_modules/'.length));
    assert.ok(devOnly.includes('typescript') && devOnly.includes('eslint'));
    const modules = '/opt/gaffer/lib/node_modules/gaffer/node_modules';
    const present = await inside(
      image,
      'sh',
      '-c',
      `cd ${modules} && for p in ${devOnly.join(' ')}; do [ -e "$p" ] && echo "$p"; done; true`,
    );
    assert.equal(present, '', 'dev-only packages in the image');
    assert.equal(
      await inside(
        image,
        'sh',
        '-c',
        'ls -d /root/.npm /var/lib/gaffer/.npm /tmp/npm-cache 2>/dev/null; true',
      ),
      '',
    );
  });
}
