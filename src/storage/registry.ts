import type { StorageConfig } from '../config/schema.ts';
import { LocalObjectStore } from './local.ts';
import type { ObjectStore } from './object-store.ts';
import { parseRef } from './reference.ts';

/**
 * Picks the object store for a reference by its scheme. The S3 store (and the AWS SDK with it) is
 * loaded on the first `s3://` reference only: most workers never touch S3, and per-job workers
 * start once per job, so they should not pay for loading the SDK.
 */
export class ObjectStores {
  readonly #config: StorageConfig;
  readonly #local = new LocalObjectStore();
  #s3: Promise<ObjectStore> | null = null;

  constructor(config: StorageConfig = {}) {
    this.#config = config;
  }

  /** Throws on an invalid reference. */
  async for(ref: string): Promise<ObjectStore> {
    if (parseRef(ref).scheme === 'file') return this.#local;
    this.#s3 ??= import('./s3.ts').then(({ S3ObjectStore }) => new S3ObjectStore(this.#config.s3));
    return this.#s3;
  }
}
