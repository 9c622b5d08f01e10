import type { FastifyRequest } from 'fastify';
import { GafferError, type ErrorCode } from '../../errors.ts';
import type { Principal } from './access.ts';
import type { AuditEntry } from '../../store/job-store.ts';
import type { AuditService } from '../../jobs/audit.ts';
import { scopeRefusal } from './scope.ts';

/** Where actions are recorded: the audit log (jobs/audit.ts). */
export type AuditSink = Pick<AuditService, 'record'>;

/** Marks an error whose refusal is already in the audit log, so the 403 hook does not add it twice. */
const AUDITED = Symbol('gaffer.audited');

export type AuditInput = Omit<AuditEntry, 'at'>;

/**
 * The actor of a refused authentication: `unverified:<id>` for the key id the caller typed (it
 * proves nothing), `unverified` when it named none (a malformed key, a worker token).
 */
export function unverified(claimedId: string | null): string {
  return claimedId === null ? 'unverified' : `unverified:${claimedId}`;
}

/** Appends an entry at gaffer's clock. Awaited: an action's answer follows its record. */
export async function recordAudit(sink: AuditSink, entry: AuditInput): Promise<void> {
  await sink.record(entry);
}

/**
 * Runs an operator action by `principal` and records it: `ok` with `details(result)`, or — when it
 * throws — `refused` (GAFFER_FORBIDDEN, a 403) or `failed` (any other error, e.g. 409) with
 * `failure(code)` (default `{code}`). The error is rethrown unchanged. Free of Fastify: the gRPC
 * server records its calls with it too.
 */
export async function auditAction<T>(
  sink: AuditSink,
  principal: Principal,
  action: string,
  target: string | null,
  run: () => Promise<T>,
  details: (result: T) => unknown = () => null,
  failure: (code: ErrorCode) => unknown = (code) => ({ code }),
): Promise<T> {
  const entry = { actor: principal.id, action, target };
  let result: T;
  try {
    result = await run();
  } catch (err) {
    // An id out of scope is answered as unknown (404) but recorded as the refusal it is.
    const code = scopeRefusal(err)
      ? 'GAFFER_FORBIDDEN'
      : err instanceof GafferError
        ? err.code
        : 'GAFFER_INTERNAL';
    const outcome = code === 'GAFFER_FORBIDDEN' ? 'refused' : 'failed';
    await recordAudit(sink, { ...entry, outcome, details: failure(code) });
    if (err instanceof GafferError) Object.defineProperty(err, AUDITED, { value: true });
    throw err;
  }
  await recordAudit(sink, { ...entry, outcome: 'ok', details: details(result) });
  return result;
}

/**
 * Runs an action whose success is recorded elsewhere (the job service records each ad-hoc job it
 * creates) and records only its failure, as `auditAction` would: `refused` or `failed`, `{code}`.
 */
export async function auditFailure<T>(
  sink: AuditSink,
  principal: Principal,
  action: string,
  target: string | null,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const code = err instanceof GafferError ? err.code : 'GAFFER_INTERNAL';
    const outcome = code === 'GAFFER_FORBIDDEN' ? 'refused' : 'failed';
    await recordAudit(sink, { actor: principal.id, action, target, outcome, details: { code } });
    if (err instanceof GafferError) Object.defineProperty(err, AUDITED, { value: true });
    throw err;
  }
}

/** `auditAction` for an HTTP route: the actor is the request's principal. */
export async function audited<T>(
  sink: AuditSink,
  req: FastifyRequest,
  action: string,
  target: string | null,
  run: () => Promise<T>,
  details: (result: T) => unknown = () => null,
): Promise<T> {
  return auditAction(sink, req.principal, action, target, run, details);
}

/**
 * True when `err` is a refusal not yet in the audit log: a 403, or a 404 that hides an id out of
 * the caller's scope (`scopeRefusal`).
 */
export function unauditedRefusal(err: unknown): err is GafferError {
  return (
    err instanceof GafferError &&
    (err.code === 'GAFFER_FORBIDDEN' || scopeRefusal(err) !== undefined) &&
    !(err as unknown as Record<symbol, unknown>)[AUDITED]
  );
}

/** What the audit log records of a refusal: the code and the reason (the real one when hidden). */
export function refusalDetails(err: GafferError): { code: ErrorCode; message: string } {
  const reason = scopeRefusal(err);
  return reason === undefined
    ? { code: err.code, message: err.message }
    : { code: 'GAFFER_FORBIDDEN', message: reason };
}
