import type { Job } from '../../domain/job.ts';
import { GafferError } from '../../errors.ts';
import type { JobFilter, JobPage } from '../../store/job-store.ts';
import { encodeCursor } from '../../store/paging.ts';
import { allowsType, roleAllows, type Access, type Principal } from './access.ts';

/**
 * Rights and type scope (docs/security.md): a key's role gives it `Access` levels, and a key with
 * `types` submits, sees and acts on jobs of those types only. These helpers are the one place the
 * HTTP routes and the gRPC methods check them.
 */

/** Throws GAFFER_FORBIDDEN unless `principal`'s role holds `access`. */
export function requireRight(principal: Principal, access: Access): void {
  if (!roleAllows(principal.role, access)) {
    throw new GafferError(
      'GAFFER_FORBIDDEN',
      `key ${principal.id} (${principal.role}) may not ${access}`,
    );
  }
}

/** Throws GAFFER_FORBIDDEN unless `principal` may see and act on jobs of `type`. */
export function requireType(principal: Principal, type: string): void {
  if (!allowsType(principal, type)) {
    throw new GafferError(
      'GAFFER_FORBIDDEN',
      `key ${principal.id} is not for jobs of type ${type}`,
    );
  }
}

/** The scope as a predicate for the services; undefined when every type is allowed. */
export function typeCheck(principal: Principal): ((type: string) => boolean) | undefined {
  const types = principal.types;
  return types === null ? undefined : (type) => types.has(type);
}

/**
 * A job listing limited to the principal's types. A filter naming a type outside the scope is
 * refused (403). With no type named, each type in scope is listed through its own index and the
 * pages are merged in the listing's order (created_at, id descending): the page is exact, and its
 * cursor is the keyset of its last job, which every per-type listing understands.
 */
export async function listInScope(
  list: (filter: JobFilter) => Promise<JobPage>,
  filter: JobFilter,
  principal: Principal,
): Promise<JobPage> {
  if (principal.types === null) return list(filter);
  if (filter.type !== undefined) {
    requireType(principal, filter.type);
    return list(filter);
  }
  const pages = await Promise.all([...principal.types].map((type) => list({ ...filter, type })));
  const merged = pages.flatMap((p) => p.jobs).sort(newestFirst);
  const jobs = merged.slice(0, filter.limit);
  const more = merged.length > filter.limit || pages.some((p) => p.nextCursor !== null);
  const last = jobs.at(-1);
  return { jobs, nextCursor: more && last ? encodeCursor(last.createdAt, last.id) : null };
}

function newestFirst(a: Job, b: Job): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
