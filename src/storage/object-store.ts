import type { TransferBudget } from './budget.ts';

/**
 * Object storage for job data: a job's inputs and output by reference. One
 * implementation per reference scheme (src/storage/reference.ts); `registry.ts` picks it.
 *
 * Contract, shared by every implementation (test/storage/object-store.contract.ts):
 * - `download` of an object reference writes it as `destDir/<its last path segment>`; of a prefix
 *   reference (ending in `/`), every object under the prefix at its path relative to the prefix.
 *   Nothing found is an error naming the reference; it never yields an empty download.
 * - `upload` writes every file under `srcDir` to the prefix `ref` names (a trailing `/` is implied)
 *   at its path relative to `srcDir`, and returns the references of the objects written, sorted.
 *   An empty directory uploads nothing and returns [].
 * - Both stop early when `signal` aborts, and fail with a DataPolicyError (budget.ts) once the
 *   files or bytes moved exceed `budget` (absent: a fresh budget of the default limits per call).
 *   Errors say which reference failed and why; they never carry credentials.
 */
export interface ObjectStore {
  /** Returns the local paths written, sorted. */
  download(ref: string, destDir: string, transfer?: Transfer): Promise<string[]>;
  upload(srcDir: string, ref: string, transfer?: Transfer): Promise<string[]>;
}

/** How one transfer is bounded: the job's abort signal and its budget (shared by its inputs). */
export interface Transfer {
  signal?: AbortSignal | undefined;
  budget?: TransferBudget | undefined;
}

/** What a job sees of its staged data: where its inputs are and where to write its output. */
export interface DataDirs {
  input: string;
  output: string;
}
