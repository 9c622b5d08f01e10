import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { GafferError } from '../../errors.ts';
import type { AuditService } from '../../jobs/audit.ts';
import { ANONYMOUS, principalView } from './access.ts';
import { recordAudit, unverified } from './audit.ts';
import { authEnabled, authenticateKey, type AuthSource } from './authenticate.ts';
import { keyId } from './keys.ts';
import { checkFailedAuth, type AuthContext } from './plugin.ts';
import { SESSION_COOKIE } from './sessions.ts';

const LoginBody = Type.Object({ key: Type.String({ minLength: 1, maxLength: 200 }) });
const AuditQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  cursor: Type.Optional(Type.String()),
  actor: Type.Optional(Type.String()),
  action: Type.Optional(Type.String()),
});

/**
 * The dashboard's login (POST/GET/DELETE /v1/session) and the audit log (GET /v1/audit). The
 * session contract is the dashboard's (dashboard/js/session.js): POST {key} sets an HttpOnly,
 * SameSite=Strict cookie and answers {principal: {id, role, types}}; GET answers who you are and
 * whether auth is on; DELETE logs out.
 */
export interface AuthRoutesDeps {
  /** The keys in force (a reload may change them). */
  source: AuthSource;
  audit: Pick<AuditService, 'record' | 'list'>;
  auth: AuthContext;
}

export const authRoutes: FastifyPluginAsync<AuthRoutesDeps> = async (
  app,
  { source, audit, auth },
) => {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['auth'];

  r.post(
    '/session',
    { config: { access: 'public' }, schema: { body: LoginBody, tags } },
    async (req, reply) => {
      if (!authEnabled(source)) return { principal: principalView(ANONYMOUS), auth: false };
      checkFailedAuth(auth.failedAuth, req, reply);
      const found = authenticateKey(source, req.body.key);
      if (found instanceof GafferError) {
        auth.failedAuth.failed(req.ip);
        // The id in a refused key is only what the caller typed: recorded as unverified, so no
        // one can write entries under another key's id.
        await recordAudit(audit, {
          actor: unverified(keyId(req.body.key)),
          action: 'session.login',
          target: null,
          outcome: 'refused',
          details: { code: found.code, ip: req.ip },
        });
        throw found;
      }
      const entry = source.config.auth.keys.find((k) => k.id === found.id)!;
      const id = auth.sessions.create({ id: entry.id, hash: entry.hash });
      void reply.setCookie(SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        secure: req.protocol === 'https',
        maxAge: Math.floor(auth.sessions.ttlMs / 1000),
      });
      await recordAudit(audit, {
        actor: found.id,
        action: 'session.login',
        target: null,
        outcome: 'ok',
        details: null,
      });
      return { principal: principalView(found), auth: true };
    },
  );

  r.get('/session', { config: { access: 'read' }, schema: { tags } }, async (req) => ({
    principal: principalView(req.principal),
    auth: authEnabled(source),
  }));

  r.delete('/session', { config: { access: 'read' }, schema: { tags } }, async (req, reply) => {
    const id = req.cookies[SESSION_COOKIE];
    const ended = id !== undefined && auth.sessions.delete(id);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    if (authEnabled(source)) {
      await recordAudit(audit, {
        actor: req.principal.id,
        action: 'session.logout',
        target: null,
        outcome: 'ok',
        details: { ended },
      });
    }
    return reply.status(204).send();
  });

  r.get(
    '/audit',
    { config: { access: 'operate' }, schema: { querystring: AuditQuery, tags } },
    async (req) =>
      audit.list(
        {
          limit: req.query.limit,
          ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
          ...(req.query.actor ? { actor: req.query.actor } : {}),
          ...(req.query.action ? { action: req.query.action } : {}),
        },
        req.principal,
      ),
  );
};
