import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseRef } from '../../src/storage/reference.ts';
import { S3ObjectStore } from '../../src/storage/s3.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { MINIO_BIN, startMinio } from '../helpers/servers/minio.ts';
import { describeObjectStoreContract } from './object-store.contract.ts';

if (serviceAvailable(MINIO_BIN)) {
  const minio = await startMinio();
  const client = minio.client();
  after(async () => {
    client.destroy();
    await minio.stop();
  });
  // The store takes its credentials from the SDK's default chain, as a worker does: the env.
  process.env['AWS_ACCESS_KEY_ID'] = minio.accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = minio.secretAccessKey;
  const store = new S3ObjectStore({
    endpoint: minio.endpoint,
    region: minio.region,
    forcePathStyle: true,
  });

  describeObjectStoreContract('S3 (a private MinIO server)', () => ({
    store,
    freshPrefix: () => `s3://${minio.bucket}/${randomUUID()}/`,
    async put(ref, content) {
      const { bucket, key } = s3(ref);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: content }));
    },
    async get(ref) {
      const { bucket, key } = s3(ref);
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await res.Body?.transformToString()) ?? null;
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return null;
        throw err;
      }
    },
  }));
}

function s3(ref: string): { bucket: string; key: string } {
  const parsed = parseRef(ref);
  if (parsed.scheme !== 's3') throw new Error(`not s3: ${ref}`);
  return parsed;
}
