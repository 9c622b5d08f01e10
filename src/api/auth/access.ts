import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * What a route needs from its caller. Every route declares one in `config.access`; the app refuses
 * to start with a route that does not, so a new route can never be open by omission.
 * - public: anyone (health probes, the dashboard's static files, the OpenAPI document)
 * - read: viewer, submitter, operator
 * - submit: submitter, operator
 * - operate: operator (cancel, retry, replay, edit, audit)
 * - worker: the worker token (checked by the route itself: /v1/workers/connect)
 */
export type Access = 'public' | 'read' | 'submit' | 'operate' | 'worker';

export const ROLES = ['viewer', 'submitter', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request. With auth off every request is the anonymous operator of every type. */
export interface Principal {
  /** The key's id (never the key), or 'anonymous' when auth is off. */
  id: string;
  role: Role;
  /** The job types this principal may see and act on; null: every type. */
  types: ReadonlySet<string> | null;
}

export const ANONYMOUS: Principal = { id: 'anonymous', role: 'operator', types: null };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/** True when the principal may see or act on jobs of `type`. */
export function allowsType(principal: Principal, type: string): boolean {
  return principal.types === null || principal.types.has(type);
}

/**
 * Fails app startup (`ready()`) on a route that does not declare its access (see `Access`). Checked
 * at ready, not per route, so a plugin that registers routes it does not let us configure (the
 * static files) can mark them in its own onRoute hook: see `publicRoutes`.
 */
export function requireDeclaredAccess(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onReady', async () => {
    const open = routes.filter((r) => accessOf(r) === undefined).map((r) => `${r.method} ${r.url}`);
    if (open.length > 0) throw new Error(`routes without config.access: ${open.join(', ')}`);
  });
}

/** Marks every route registered in `app` (an encapsulated plugin) public. */
export function publicRoutes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, access: 'public' };
  });
}

export function accessOf(route: Pick<RouteOptions, 'config'>): Access | undefined {
  return (route.config as { access?: Access } | undefined)?.access;
}
