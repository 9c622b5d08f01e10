import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GafferError } from '../errors.ts';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Refuses (403 GAFFER_CROSS_ORIGIN) a state-changing request that a page of another site made a
 * browser send: a form or a fetch that rides on the dashboard's session cookie or, with auth off,
 * on gaffer listening on the victim's own machine (cross-site request forgery). Browsers name the
 * page's origin in `Origin` on every such request (`Referer` is read when an older one sends only
 * that); it must be this gaffer's own (the Host, or a proxy's X-Forwarded-Host: headers a page of
 * another site cannot set without a CORS preflight, which gaffer never grants) or one of
 * `allowed` (`server.allowedOrigins`). A request with an Authorization header is not checked:
 * no page of another site can add one, so it was not forged by one. Requests naming no origin
 * (curl, SDKs, workers) pass. Hand-written: the CSRF plugins guard with tokens, which every API
 * client would then have to fetch and echo back.
 */
export function refuseForeignOrigins(app: FastifyInstance, allowed: () => readonly string[]) {
  app.addHook('onRequest', async (req) => {
    if (!STATE_CHANGING.has(req.method) || req.headers.authorization !== undefined) return;
    const origin = originOf(req);
    if (origin === undefined || sameSite(origin, req) || allowed().includes(origin)) return;
    throw new GafferError('GAFFER_CROSS_ORIGIN', `${origin} is not this gaffer`);
  });
}

/** The origin a browser named: `Origin`, else the origin of `Referer`; undefined: neither. */
function originOf(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin;
  const referer = req.headers.referer;
  if (referer === undefined) return undefined;
  return URL.parse(referer)?.origin ?? 'null';
}

/** True when `origin` (scheme://host[:port]) is the host the request was sent to. */
function sameSite(origin: string, req: FastifyRequest): boolean {
  const o = URL.parse(origin);
  if (!o || (o.protocol !== 'http:' && o.protocol !== 'https:')) return false;
  const forwarded = req.headers['x-forwarded-host'];
  const hosts = [req.headers.host, ...(forwarded ? String(forwarded).split(',') : [])];
  // Parsed with the origin's scheme, so a default port written or not compares equal.
  return hosts.some((h) => h && URL.parse(`${o.protocol}//${h.trim()}`)?.host === o.host);
}
