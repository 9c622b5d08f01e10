import { createWriteStream } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Config } from '../config/schema.ts';
import { DataPolicyError, TransferBudget } from './budget.ts';
import { openForRead, walk } from './confined.ts';
import { asPrefix, inside } from './files.ts';
import type { ObjectStore, Transfer } from './object-store.ts';
import { parseRef } from './reference.ts';

/**
 * Any S3-compatible server (AWS S3, MinIO, …) through the official AWS SDK v3. Settings come from
 * the config's `storage.s3`; credentials only from the SDK's default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY in the worker's environment, a profile, an instance role…), so they are
 * never in gaffer's config, a job record or a log line.
 */
export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;

  constructor(config: S3Config = {}) {
    this.#client = new S3Client({
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      ...(config.region ? { region: config.region } : {}),
      ...(config.forcePathStyle !== undefined ? { forcePathStyle: config.forcePathStyle } : {}),
    });
  }

  async download(ref: string, destDir: string, t: Transfer = {}): Promise<string[]> {
    const { bucket, key, prefix } = s3Ref(ref);
    const budget = t.budget ?? new TransferBudget(undefined, ref);
    await mkdir(destDir, { recursive: true });
    if (!prefix) {
      budget.entry(ref);
      const dest = join(destDir, key.slice(key.lastIndexOf('/') + 1));
      await this.#get(ref, bucket, key, dest, budget, t.signal);
      return [dest];
    }
    const written: string[] = [];
    for (const object of await this.#list(ref, bucket, key, t.signal)) {
      const name = `s3://${bucket}/${object.key}`;
      budget.entry(name);
      budget.wouldFit(object.size, name);
      const dest = inside(destDir, object.key.slice(key.length));
      await this.#get(ref, bucket, object.key, dest, budget, t.signal);
      written.push(dest);
    }
    if (written.length === 0) throw new Error(`${ref}: no object under this prefix`);
    return written.sort();
  }

  async upload(srcDir: string, ref: string, t: Transfer = {}): Promise<string[]> {
    const { bucket, key } = s3Ref(ref);
    const budget = t.budget ?? new TransferBudget(undefined, ref);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const src = await realpath(srcDir);
    const written: string[] = [];
    const walked = { roots: [src], budget, signal: t.signal, name: `${srcDir}/` };
    await walk(src, walked, async (rel, path) => {
      const objectKey = prefix + rel;
      const from = await openForRead(path, [src], `${srcDir}/${rel}`);
      try {
        budget.add(from.size, `s3://${bucket}/${objectKey}`);
        await this.#put(bucket, objectKey, from.handle.createReadStream(), t);
      } finally {
        await from.handle.close();
      }
      written.push(asPrefix(ref) + rel);
    });
    return written.sort();
  }

  async #put(bucket: string, objectKey: string, body: Readable, t: Transfer): Promise<void> {
    t.signal?.throwIfAborted();
    // lib-storage streams the file, in parts when it is large (no whole file in memory).
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: bucket, Key: objectKey, Body: body },
    });
    const abort = (): void => void upload.abort().catch(() => {});
    t.signal?.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      throw new Error(`s3://${bucket}/${objectKey}: upload failed: ${describe(err)}`, {
        cause: err,
      });
    } finally {
      t.signal?.removeEventListener('abort', abort);
    }
  }

  /** Keys under `prefix`, minus "directory" placeholder objects (keys ending in `/`). */
  async #list(ref: string, bucket: string, prefix: string, signal?: AbortSignal) {
    const keys: { key: string; size: number }[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.#client },
        { Bucket: bucket, Prefix: prefix },
      );
      for await (const page of pages) {
        signal?.throwIfAborted();
        for (const o of page.Contents ?? []) {
          if (o.Key && !o.Key.endsWith('/')) keys.push({ key: o.Key, size: o.Size ?? 0 });
        }
      }
    } catch (err) {
      throw new Error(`${ref}: listing failed: ${describe(err)}`, { cause: err });
    }
    return keys;
  }

  async #get(
    ref: string,
    bucket: string,
    key: string,
    dest: string,
    budget: TransferBudget,
    signal?: AbortSignal,
  ) {
    const name = `s3://${bucket}/${key}`;
    try {
      const res = await this.#client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key }),
        signal ? { abortSignal: signal } : {},
      );
      await mkdir(dirname(dest), { recursive: true });
      await pipeline(
        res.Body as Readable,
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            budget.add(chunk.length, name);
            yield chunk;
          }
        },
        createWriteStream(dest),
        signal ? { signal } : {},
      );
    } catch (err) {
      if (err instanceof DataPolicyError) throw err;
      const what = isNotFound(err) ? 'no such object' : `download failed: ${describe(err)}`;
      throw new Error(`${name === ref ? name : `${name} (under ${ref})`}: ${what}`, { cause: err });
    }
  }
}

function s3Ref(ref: string) {
  const parsed = parseRef(ref);
  if (parsed.scheme !== 's3') throw new Error(`${ref}: not an s3:// reference`);
  return parsed;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket';
}

/** The SDK error's name and message: enough to act on, and never a credential. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message;
}
