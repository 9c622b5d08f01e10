import type { ResolvedConfig } from './load.ts';

export const REDACTED = '[redacted]';

/**
 * The effective config as GET /v1/config shows it: a deep copy with every secret replaced by
 * "[redacted]" — the worker token, API key hashes, passwords (and credential query parameters) in
 * the store's, broker's, object store's and gaffer's own URLs, and the Kubernetes Secret references
 * (the worker token's, each type's secretEnv). Pure: `config` is not changed.
 *
 * Not redacted: `jobTypes.*.worker.env`, which remote workers read here to run their jobs; a
 * secret a job needs belongs in the worker's own environment or a Kubernetes secretEnv.
 */
export function redactConfig(config: ResolvedConfig): ResolvedConfig {
  const c = structuredClone(config);
  if (c.server.workerToken !== undefined) c.server.workerToken = REDACTED;
  c.auth.keys = c.auth.keys.map((k) => ({ ...k, hash: REDACTED }));
  if (c.store.url !== undefined) c.store.url = redactUrl(c.store.url);
  if (c.broker.url !== undefined) c.broker.url = redactUrl(c.broker.url);
  if (c.executor.gafferUrl !== undefined) c.executor.gafferUrl = redactUrl(c.executor.gafferUrl);
  const s3 = c.storage.s3;
  if (s3?.endpoint !== undefined) s3.endpoint = redactUrl(s3.endpoint);
  c.executor.kubernetes.workerTokenSecret = { name: REDACTED, key: REDACTED };
  for (const type of Object.values(c.jobTypes)) {
    const env = type.kubernetes.secretEnv;
    for (const name of Object.keys(env)) env[name] = { secret: REDACTED, key: REDACTED };
  }
  return c;
}

/** Query parameters that carry credentials in connection URLs (libpq, Redis, AMQP, S3). */
const SECRET_PARAM =
  /^(password|passwd|pass|pwd|secret|token|key|sslpassword|access_?key|secret_?key|auth)$/i;

/**
 * A URL with the password of its user info and its credential query parameters redacted; the
 * user, host, port and path stay (they say where, not how to get in). A value that is not a URL
 * but has user info (`user:pass@host`) loses everything before the `@`.
 */
export function redactUrl(url: string): string {
  let parsed: URL | null = null;
  try {
    if (url.includes('://')) parsed = new URL(url);
  } catch {
    // not a URL: handled below
  }
  if (!parsed) {
    return url.includes('@') ? `${REDACTED}@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  }
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i.exec(url);
  let out = url;
  if (userinfo && parsed.password !== '') {
    const user = userinfo[2]!.slice(0, userinfo[2]!.indexOf(':'));
    out = `${userinfo[1]}${user}:${REDACTED}@${url.slice(userinfo[0].length)}`;
  }
  return out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : whole,
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
