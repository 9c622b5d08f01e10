import { GafferError } from '../../errors.ts';
import type { JobFilter, JobPage } from '../../store/job-store.ts';
import type { Submitter } from '../../jobs/service.ts';
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
 * The principal as the job service knows a submitter: its id (the scope of its idempotency keys,
 * the actor of its audit entries) and its type scope. `via`: the front end when not HTTP.
 */
export function submitter(principal: Principal, via?: string): Submitter {
  return { id: principal.id, allows: typeCheck(principal), ...(via ? { via } : {}) };
}

/**
 * A job listing limited to the principal's types. A filter naming a type outside the scope is
 * refused (403); with no type named, the store lists every type in scope (JobFilter.types).
 */
export async function listInScope<F extends Pick<JobFilter, 'type' | 'types'>>(
  list: (filter: F) => Promise<JobPage>,
  filter: F,
  principal: Principal,
): Promise<JobPage> {
  if (principal.types === null) return list(filter);
  if (filter.type !== undefined) {
    requireType(principal, filter.type);
    return list(filter);
  }
  return list({ ...filter, types: [...principal.types] });
}

/** Marks a not-found answer that hides a job or batch out of the caller's scope (`scopeRefusal`). */
const HIDDEN = Symbol('gaffer.outOfScope');

/**
 * Throws unless `principal` may see `job`: the very error an unknown id gets (404, same code,
 * message and body), so a scoped key cannot tell which ids of other types exist. The error
 * carries why it was refused, for the audit log only (`scopeRefusal`).
 */
export function requireJobInScope<J extends { id: string; type: string }>(
  principal: Principal,
  job: J,
): J {
  if (allowsType(principal, job.type)) return job;
  throw hidden(new GafferError('GAFFER_JOB_NOT_FOUND', job.id), principal, job.type);
}

/** As `requireJobInScope` for a batch uploaded for one type; a mixed batch (type null) passes. */
export function requireBatchInScope<B extends { id: string; type: string | null }>(
  principal: Principal,
  batch: B,
): B {
  if (batch.type === null || allowsType(principal, batch.type)) return batch;
  throw hidden(new GafferError('GAFFER_BATCH_NOT_FOUND', batch.id), principal, batch.type);
}

function hidden(err: GafferError, principal: Principal, type: string): GafferError {
  const reason = `key ${principal.id} is not for jobs of type ${type}`;
  Object.defineProperty(err, HIDDEN, { value: reason });
  return err;
}

/** Why a not-found answer was really a refusal of an id out of scope; undefined for any other. */
export function scopeRefusal(err: unknown): string | undefined {
  return err instanceof GafferError
    ? ((err as unknown as Record<symbol, string | undefined>)[HIDDEN] ?? undefined)
    : undefined;
}
