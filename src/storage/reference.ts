import { isAbsolute, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Data references (pure: no I/O). A reference names either one object or, when it ends in `/`,
 * every object under a prefix (a directory on the local filesystem).
 *
 *   s3://bucket/key          one object        s3://bucket/prefix/   every object under prefix
 *   file:///abs/path         local file/dir    /abs/path             same as file:///abs/path
 */
export type DataRef =
  | { scheme: 's3'; bucket: string; key: string; prefix: boolean }
  | { scheme: 'file'; path: string; prefix: boolean };

/** S3 bucket names: 3–63 of lower-case letters, digits, dots and hyphens (AWS's rule). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses a reference; throws an Error saying what is wrong with it. */
export function parseRef(ref: string): DataRef {
  if (ref.startsWith('s3://')) return parseS3(ref);
  if (ref.startsWith('file://')) return parseFile(ref, fileURLToPath(ref));
  if (isAbsolute(ref)) return parseFile(ref, ref);
  throw new Error(`${ref}: expected s3://bucket/key, file:///path or an absolute path`);
}

function parseS3(ref: string): DataRef {
  const rest = ref.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new Error(`${ref}: "${bucket}" is not a valid bucket name`);
  // An empty key names the whole bucket: a prefix of ''.
  return { scheme: 's3', bucket, key, prefix: key === '' || key.endsWith('/') };
}

function parseFile(ref: string, path: string): DataRef {
  // `..` would let a reference escape the directory it seems to name; refuse rather than resolve.
  if (path.split('/').includes('..')) throw new Error(`${ref}: ".." is not allowed`);
  return { scheme: 'file', path: normalize(path), prefix: ref.endsWith('/') };
}

/** The reference's problem, or null when it is valid (for submit-time validation). */
export function refProblem(ref: string): string | null {
  try {
    parseRef(ref);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
