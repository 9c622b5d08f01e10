import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, stopOnce } from './common.ts';

/** Where scripts/build-test-servers.sh puts the MinIO binary (outside the repository). */
export const MINIO_BIN = path.join(
  process.env['XDG_CACHE_HOME'] || path.join(homedir(), '.cache'),
  'gaffer',
  'bin',
  'minio',
);

export interface MinioServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** A bucket created for the test. */
  bucket: string;
  /** The root credentials, for AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of workers. */
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A client for this server (path-style, its credentials). */
  client(): S3Client;
  /** Stops the server (SIGTERM, by PID) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * A private MinIO server on a free loopback port with its own temporary data directory, in the
 * foreground (a child of this process); resolves once it prints its API address and `bucket` exists.
 */
export async function startMinio(bucket = 'gaffer-test'): Promise<MinioServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gaffer-minio-'));
  const port = await freePort();
  const creds = { accessKeyId: 'gaffer-test', secretAccessKey: 'gaffer-test-secret' };
  const child = spawn(MINIO_BIN, ['server', '--address', `127.0.0.1:${port}`, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      MINIO_ROOT_USER: creds.accessKeyId,
      MINIO_ROOT_PASSWORD: creds.secretAccessKey,
      // No web console (it would listen on another port), no phoning home.
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
  });
  const stop = stopOnce(child, dir);
  await ready(child).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const client = () => new S3Client({ endpoint, region, forcePathStyle: true, credentials: creds });
  const admin = client();
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();

  return {
    endpoint,
    bucket,
    region,
    ...creds,
    client,
    stop,
  };
}

/** Resolves when MinIO prints its API address (on stderr; it serves from then on). */
function ready(child: ReturnType<typeof spawn>): Promise<void> {
  let log = '';
  return new Promise<void>((resolve, reject) => {
    // Both streams stay drained for the server's life, so a full pipe never blocks it.
    let up = false;
    const onData = (chunk: Buffer) => {
      if (up) return; // only drained from now on
      log += chunk.toString();
      if (/API: http/.test(log)) {
        up = true;
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`minio exited (${code}) before it was ready:\n${log}`)),
    );
  });
}
