import type { StorageConfig } from '../config/schema.ts';
import { DEFAULT_TRANSFER_LIMITS, type TransferLimits } from './budget.ts';
import { LocalObjectStore } from './local.ts';
import type { ObjectStore } from './object-store.ts';
import { parseRef } from './reference.ts';

/** What a worker's spec may carry of `storage` (absent parts: nothing local, default limits). */
export type StorageSettings = Partial<StorageConfig>;

/**
 * Picks the object store for a reference by its scheme. The S3 store (and the AWS SDK with it) is
 * loaded on the first `s3://` reference only: most workers never touch S3, and per-job workers
 * start once per job, so they should not pay for loading the SDK.
 */
export class ObjectStores {
  readonly #config: StorageSettings;
  readonly #local: LocalObjectStore;
  #s3: Promise<ObjectStore> | null = null;

  constructor(config: StorageSettings = {}) {
    this.#config = config;
    this.#local = new LocalObjectStore(config.local?.roots ?? []);
  }

  /** The per-job caps on files and bytes moved, each way. */
  get limits(): TransferLimits {
    return {
      maxFiles: this.#config.maxFilesPerJob ?? DEFAULT_TRANSFER_LIMITS.maxFiles,
      maxBytes: this.#config.maxBytesPerJob ?? DEFAULT_TRANSFER_LIMITS.maxBytes,
    };
  }

  /** Throws on an invalid reference. */
  async for(ref: string): Promise<ObjectStore> {
    if (parseRef(ref).scheme === 'file') return this.#local;
    this.#s3 ??= import('./s3.ts').then(({ S3ObjectStore }) => new S3ObjectStore(this.#config.s3));
    return this.#s3;
  }
}
