import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GafferError } from '../../errors.ts';
import { ANONYMOUS, UNAUTHENTICATED, accessOf, type Principal } from './access.ts';
import { recordAudit, refusalDetails, unauditedRefusal, type AuditSink } from './audit.ts';
import {
  authEnabled,
  authenticate,
  bearerKey,
  sessionPrincipal,
  type AuthSource,
} from './authenticate.ts';
import { FailedAuthLimiter } from './failed-auth.ts';
import { requireRight } from './scope.ts';
import { SESSION_COOKIE, SessionStore, type SessionKey } from './sessions.ts';
import { sameSecret } from './keys.ts';

/** Handed to the session routes. */
export interface AuthContext {
  sessions: SessionStore;
  /**
   * Failed key and worker-token checks per client IP (`checkFailedAuth`). Keys are checked only
   * with auth on; the worker token is checked whenever one is configured.
   */
  failedAuth: FailedAuthLimiter;
}

/** What authentication needs: the keys and limits in force, the clock, the audit log. */
export interface AuthDeps {
  /** Read on every request: a config reload may change the keys. */
  source: AuthSource;
  now: () => number;
  /** The worker token, which may read GET /v1/config (remote workers' job types). */
  workerToken: string | undefined;
  audit: AuditSink;
}

/** Remote workers read their job types at GET /v1/config with the worker token. */
const WORKER_READER: Principal = { id: 'worker', role: 'viewer', types: null };

/** Default request limit per key (per IP when anonymous) when auth is on. */
const DEFAULT_RATE_LIMIT = { max: 6000, timeWindowMs: 60_000 };

/**
 * Authentication and authorization for every HTTP route (docs/security.md). Must be registered
 * before the routes: the hooks and the rate limit attach to routes as they are added.
 *
 * onRequest, in order: the cookie plugin parses cookies; this hook sets `req.principal` (the
 * anonymous operator when auth is off) and refuses a missing or wrong credential (401) or a role
 * without the route's access (403); then @fastify/rate-limit counts the request against the
 * principal (429). Worker routes check their own token; public routes never refuse.
 */
export async function registerAuth(app: FastifyInstance, deps: AuthDeps): Promise<AuthContext> {
  const { source } = deps;
  const auth = source.config.auth;
  const on = authEnabled(source);
  await app.register(fastifyCookie);
  app.decorateRequest('principal', null as unknown as Principal);
  const sessions = new SessionStore(auth.sessionTtlMs, deps.now);
  const limit = auth.rateLimit ?? (on ? DEFAULT_RATE_LIMIT : null);
  const failedAuth = new FailedAuthLimiter(() => source.config.auth.failedAuthLimit, deps.now);
  if (on || limit) {
    await app.register(fastifyRateLimit, {
      global: limit !== null,
      max: limit?.max ?? DEFAULT_RATE_LIMIT.max,
      timeWindow: limit?.timeWindowMs ?? DEFAULT_RATE_LIMIT.timeWindowMs,
      keyGenerator: (req) =>
        req.principal && req.principal.id !== 'anonymous'
          ? `key:${req.principal.id}`
          : `ip:${req.ip}`,
      // Workers have their own token and connection; a limit would only stall their jobs.
      allowList: (req) => accessOf(req.routeOptions) === 'worker',
      errorResponseBuilder: (_req, ctx) =>
        new GafferError('GAFFER_RATE_LIMITED', `over ${ctx.max} requests; retry in ${ctx.after}`),
    });
  }

  app.addHook('onRequest', async (req, reply) => {
    if (!on) {
      req.principal = ANONYMOUS;
      return;
    }
    req.principal = UNAUTHENTICATED;
    const access = accessOf(req.routeOptions);
    if (access === 'worker') return;
    const open = access === undefined || access === 'public';
    if (isWorkerConfigRead(req, deps.workerToken)) {
      req.principal = WORKER_READER;
      return;
    }
    const header = req.headers.authorization;
    const sessionId = req.cookies[SESSION_COOKIE];
    if (header === undefined && sessionId === undefined) {
      if (open) return;
      throw new GafferError('GAFFER_UNAUTHORIZED', 'send an API key or log in');
    }
    if (header !== undefined && !open) checkFailedAuth(failedAuth, req, reply);
    const found =
      header !== undefined
        ? authenticate(source, header)
        : sessionOf(source, sessions.get(sessionId!));
    if (found instanceof GafferError) {
      if (open) return;
      // Only keys are guessable credentials worth counting; a stale session cookie is not a guess.
      if (header !== undefined) failedAuth.failed(req.ip);
      throw found;
    }
    req.principal = found;
    if (!open) requireRight(found, access);
  });

  // Every refusal (403) is audited: those of operator actions by the action itself (audit.ts),
  // the rest (a role without the right, a type out of scope) here, by route.
  app.addHook('onError', async (req, _reply, err) => {
    if (!on || !unauditedRefusal(err)) return;
    const params = (req.params ?? {}) as { id?: unknown };
    await recordAudit(deps.audit, {
      actor: req.principal?.id ?? 'anonymous',
      action: `${req.method} ${req.routeOptions.url ?? req.url}`,
      target: typeof params.id === 'string' ? params.id : null,
      outcome: 'refused',
      details: refusalDetails(err),
    });
  });
  return { sessions, failedAuth };
}

/** The principal of a session cookie's session, or why it is refused. */
function sessionOf(source: AuthSource, key: SessionKey | undefined): Principal | GafferError {
  if (!key) {
    return new GafferError('GAFFER_UNAUTHORIZED', 'the session has ended or expired; log in again');
  }
  return sessionPrincipal(source, key);
}

/**
 * `failedAuth.check` for an HTTP request, by its IP: over the limit, GAFFER_RATE_LIMITED (429) with
 * Retry-After.
 */
export function checkFailedAuth(
  failedAuth: FailedAuthLimiter,
  req: FastifyRequest,
  reply: FastifyReply,
): void {
  try {
    failedAuth.check(req.ip);
  } catch (err) {
    const details = err instanceof GafferError ? err.details : undefined;
    const seconds = (details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
    if (seconds !== undefined) void reply.header('retry-after', String(seconds));
    throw err;
  }
}

function isWorkerConfigRead(req: FastifyRequest, token: string | undefined): boolean {
  if (!token || req.method !== 'GET' || req.routeOptions.url !== '/v1/config') return false;
  const given = bearerKey(req.headers.authorization);
  return given !== undefined && sameSecret(given, token);
}
