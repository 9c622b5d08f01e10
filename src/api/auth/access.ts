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

/**
 * A caller without a valid credential on a public route while auth is on: may do nothing that
 * needs a right, and sees no type.
 */
export const UNAUTHENTICATED: Principal = { id: 'anonymous', role: 'viewer', types: new Set() };

/** What each role may do (the `Access` levels it holds). */
export const RIGHTS: Readonly<Record<Role, readonly Access[]>> = {
  viewer: ['read'],
  submitter: ['read', 'submit'],
  operator: ['read', 'submit', 'operate'],
};

/** True when `role` holds `access`; public routes need no role, worker routes check a token. */
export function roleAllows(role: Role, access: Access): boolean {
  return access === 'public' || RIGHTS[role].includes(access);
}

/** The principal as the API shows it (types as a sorted list, null for every type). */
export function principalView(p: Principal): { id: string; role: Role; types: string[] | null } {
  return { id: p.id, role: p.role, types: p.types === null ? null : [...p.types].sort() };
}

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
  DECLARED.set(app, routes);
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

const DECLARED = new WeakMap<FastifyInstance, RouteOptions[]>();

/**
 * Every route of an app built with `requireDeclaredAccess`, one entry per method, with its access
 * (after `ready()`): what the auth table test walks, so a new route is covered without a list.
 */
export function declaredRoutes(
  app: FastifyInstance,
): { method: string; url: string; access: Access | undefined }[] {
  return (DECLARED.get(app) ?? []).flatMap((r) =>
    [r.method].flat().map((method) => ({ method, url: r.url, access: accessOf(r) })),
  );
}

export function accessOf(route: Pick<RouteOptions, 'config'>): Access | undefined {
  return (route.config as { access?: Access } | undefined)?.access;
}
