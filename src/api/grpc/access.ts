import type { Metadata } from '@grpc/grpc-js';
import { GafferError } from '../../errors.ts';
import type { Principal } from '../auth/access.ts';
import { authenticate, type AuthSource } from '../auth/authenticate.ts';

/*
 * How a gRPC call says who it is. What the caller may then do is checked by the HTTP API's own
 * helpers (src/api/auth/scope.ts: `requireRight`, `requireType`, `listInScope`), and failed key
 * checks are limited by its `FailedAuthLimiter` (src/api/auth/failed-auth.ts).
 */

/**
 * Who is calling, from the `authorization` metadata (`Bearer <key>`, as the HTTP header; absent:
 * undefined). Throws (or rejects with) GAFFER_UNAUTHORIZED for a missing or wrong key when auth is
 * on. The seam where a key check plugs in; `keyCheck` is the HTTP API's.
 */
export type Authenticate = (authorization: string | undefined) => Principal | Promise<Principal>;

/** The HTTP API's key check (src/api/auth/authenticate.ts): the same keys, the same principals. */
export function keyCheck(src: AuthSource): Authenticate {
  return (authorization) => {
    const principal = authenticate(src, authorization);
    if (principal instanceof GafferError) throw principal;
    return principal;
  };
}

export function authorizationOf(metadata: Metadata): string | undefined {
  const [value] = metadata.get('authorization');
  return value === undefined ? undefined : String(value);
}

/**
 * The client address failed authentications count against: the address part of grpc-js's
 * `getPeer()` ("1.2.3.4:5678", "[::1]:5678", "unix:…").
 */
export function clientAddress(peer: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(peer) ?? /^([^:]+):\d+$/.exec(peer);
  return m?.[1] ?? peer;
}
