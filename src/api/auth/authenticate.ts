import type { ApiKeyConfig, AuthConfig } from '../../config/schema.ts';
import { GafferError } from '../../errors.ts';
import { ANONYMOUS, type Principal } from './access.ts';
import { matchKey } from './keys.ts';

/** What authentication reads: the config in force, read on every call (a reload may change keys). */
export interface AuthSource {
  config: { auth: AuthConfig };
}

/** Auth is on when at least one key is configured (auth.keys or GAFFER_API_KEYS). */
export function authEnabled(src: AuthSource): boolean {
  return src.config.auth.keys.length > 0;
}

/** The principal a configured key entry stands for. */
export function principalOfKey(entry: ApiKeyConfig): Principal {
  return { id: entry.id, role: entry.role, types: entry.types ? new Set(entry.types) : null };
}

/** The key of an `Authorization: Bearer <key>` header value; undefined for any other value. */
export function bearerKey(authorization: string | undefined): string | undefined {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  return m?.[1];
}

/**
 * Who an `Authorization` header value (HTTP header or gRPC `authorization` metadata) names. Auth
 * off: always the anonymous operator. Auth on: the key's principal, or (returned, not thrown) a
 * GAFFER_UNAUTHORIZED error for a missing, malformed, unknown or wrong key. Rights (role, types)
 * are the caller's to check: `roleAllows`, `allowsType` in access.ts. Failed attempts are not
 * counted here: a server that takes guesses must limit them per client (the HTTP API does).
 */
export function authenticate(
  source: AuthSource,
  authorization: string | undefined,
): Principal | GafferError {
  if (!authEnabled(source)) return ANONYMOUS;
  if (authorization === undefined || authorization === '') {
    return new GafferError('GAFFER_UNAUTHORIZED', 'no API key was sent');
  }
  const key = bearerKey(authorization);
  if (key === undefined) {
    return new GafferError('GAFFER_UNAUTHORIZED', 'send the key as "Authorization: Bearer <key>"');
  }
  return authenticateKey(source, key);
}

/**
 * Who a session is: the principal of the key it was opened with, as configured now. Once that key
 * is gone — removed, or given a new secret (another hash) — by a config reload, the session is
 * refused like a wrong key.
 */
export function sessionPrincipal(
  source: AuthSource,
  key: { id: string; hash: string },
): Principal | GafferError {
  const entry = source.config.auth.keys.find((k) => k.id === key.id && k.hash === key.hash);
  if (!entry) {
    return new GafferError(
      'GAFFER_UNAUTHORIZED',
      'the key of this session was revoked; log in again',
    );
  }
  return principalOfKey(entry);
}

/** As `authenticate`, for the bare key (POST /v1/session's body). */
export function authenticateKey(source: AuthSource, key: string): Principal | GafferError {
  if (!authEnabled(source)) return ANONYMOUS;
  const entry = matchKey(source.config.auth.keys, key);
  if (!entry) return new GafferError('GAFFER_UNAUTHORIZED', 'the API key is not valid');
  return principalOfKey(entry);
}
