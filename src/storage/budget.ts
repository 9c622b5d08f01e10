/**
 * Per-job bounds on what a transfer may move (`storage.maxFilesPerJob`, `storage.maxBytesPerJob`):
 * one budget for all of a job's inputs together, another for its output. Pure counting.
 */
export interface TransferLimits {
  /** Files copied, plus every other entry a walk meets (so a tree of empty folders is bounded). */
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_TRANSFER_LIMITS: TransferLimits = {
  maxFiles: 10_000,
  maxBytes: 1024 ** 3,
};

/**
 * A reference gaffer's policy refuses (outside the roots, a link leading out of them) or a
 * transfer over its budget. Retrying cannot help, unlike a store that failed: the staged runner
 * fails the attempt as non-retryable.
 */
export class DataPolicyError extends Error {
  override name = 'DataPolicyError';
}

export class TransferBudget {
  readonly limits: TransferLimits;
  /** What is counted, for messages: "the job's inputs", "the job's output". */
  readonly what: string;
  files = 0;
  bytes = 0;

  constructor(limits: TransferLimits = DEFAULT_TRANSFER_LIMITS, what = 'transfer') {
    this.limits = limits;
    this.what = what;
  }

  /** Counts one more file (or entry walked); throws once over the limit. */
  entry(name: string): void {
    if (++this.files > this.limits.maxFiles) {
      throw new DataPolicyError(
        `${this.what}: more than ${this.limits.maxFiles} files and directory entries (storage.maxFilesPerJob), at ${name}`,
      );
    }
  }

  /** Counts bytes moved; throws once over the limit. */
  add(bytes: number, name: string): void {
    this.bytes += bytes;
    this.#checkBytes(this.bytes, name);
  }

  /** Throws if `size` more bytes would go over the limit (nothing counted). */
  wouldFit(size: number, name: string): void {
    this.#checkBytes(this.bytes + size, name);
  }

  #checkBytes(total: number, name: string): void {
    if (total > this.limits.maxBytes) {
      throw new DataPolicyError(
        `${this.what}: more than ${this.limits.maxBytes} bytes (storage.maxBytesPerJob), at ${name}`,
      );
    }
  }
}
