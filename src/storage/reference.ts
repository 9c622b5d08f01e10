import { isAbsolute, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Data references (pure: no I/O). A reference names either one object or, when it ends in `/`,
 * every object under a prefix (a directory on the local filesystem).
 *
 *   s3://bucket/key          one object        s3://bucket/prefix/   every object under prefix
 *   file:///abs/path         local file/dir    /abs/path             same as file:///abs/path
 *
 * Refused, whatever the scheme: a `..` path segment (in a `file://` URL also its encoded forms
 * `%2e%2e`, `.%2e`…, and `\` as a separator, which the URL parser would otherwise resolve away
 * before anyone could check), a NUL character, and for local paths any control character (the URL
 * parser drops tabs and newlines, so `.<TAB>.` would become `..`). Whether a local path is allowed
 * at all is src/storage/roots.ts's decision.
 */
export type DataRef =
  | { scheme: 's3'; bucket: string; key: string; prefix: boolean }
  | { scheme: 'file'; path: string; prefix: boolean };

/** S3 bucket names: 3–63 of lower-case letters, digits, dots and hyphens (AWS's rule). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Parses a reference; throws an Error saying what is wrong with it. */
export function parseRef(ref: string): DataRef {
  if (ref.includes('\0')) throw new Error(`${JSON.stringify(ref)}: a NUL character is not allowed`);
  if (ref.startsWith('s3://')) return parseS3(ref);
  if (CONTROL.test(ref)) {
    throw new Error(`${JSON.stringify(ref)}: control characters are not allowed in a local path`);
  }
  if (ref.startsWith('file://')) return parseFileUrl(ref);
  if (isAbsolute(ref)) return parseFile(ref, ref, ref.split('/'));
  throw new Error(`${ref}: expected s3://bucket/key, file:///path or an absolute path`);
}

function parseS3(ref: string): DataRef {
  const rest = ref.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!BUCKET.test(bucket)) throw new Error(`${ref}: "${bucket}" is not a valid bucket name`);
  // A key is written under the job's input directory at its path below the prefix: `..` there
  // means nothing an object store needs, and everything a traversal does.
  if (key.split('/').includes('..')) throw new Error(`${ref}: ".." is not allowed in a key`);
  // An empty key names the whole bucket: a prefix of ''.
  return { scheme: 's3', bucket, key, prefix: key === '' || key.endsWith('/') };
}

function parseFileUrl(ref: string): DataRef {
  if (/[?#]/.test(ref)) throw new Error(`${ref}: a file:// reference takes no query or fragment`);
  // The segments as written, before the URL parser normalises them: it resolves `..`, `%2e%2e`
  // and `\..\` silently, which would make a check after fileURLToPath see none of them.
  const raw = ref.slice('file://'.length).split(/[/\\]/);
  const segments = raw.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch (err) {
      throw new Error(`${ref}: malformed percent-encoding`, { cause: err });
    }
  });
  let path: string;
  try {
    path = fileURLToPath(ref);
  } catch (err) {
    throw new Error(`${ref}: ${(err as Error).message}`, { cause: err });
  }
  if (CONTROL.test(path)) throw new Error(`${ref}: control characters are not allowed`);
  return parseFile(ref, path, segments);
}

function parseFile(ref: string, path: string, segments: readonly string[]): DataRef {
  if (segments.includes('..')) throw new Error(`${ref}: ".." is not allowed`);
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
