/**
 * The two ways a call fails. `GafferApiError`: gaffer answered with an error body
 * (`{ error: { code, message, details? } }`, src/api/error-handler.ts); `code` is from the one
 * catalogue (src/errors.ts, docs/errors.md). `GafferConnectionError`: no answer at all (refused,
 * DNS, reset before an answer).
 */
export class GafferApiError extends Error {
  readonly status: number;
  /** `GAFFER_…` from the catalogue, or `HTTP_<status>` when the body is not gaffer's. */
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'GafferApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export class GafferConnectionError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const reason = describeCause(cause);
    super(`cannot connect to ${url}${reason ? `: ${reason}` : ''}`, { cause });
    this.name = 'GafferConnectionError';
    this.url = url;
  }
}

/** The innermost cause's code (ECONNREFUSED, ENOTFOUND) or message: what a person can act on. */
function describeCause(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause) e = e.cause;
  if (e instanceof Error) return (e as { code?: string }).code ?? e.message;
  return '';
}

/** Reads a non-2xx answer into a `GafferApiError` (consumes the body). */
export async function toApiError(res: Response): Promise<GafferApiError> {
  const text = await res.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (parsed.error?.code) {
      const e = parsed.error;
      return new GafferApiError(res.status, e.code!, e.message ?? res.statusText, e.details);
    }
  } catch {
    // not JSON: fall through
  }
  return new GafferApiError(res.status, `HTTP_${res.status}`, text.trim() || res.statusText);
}
