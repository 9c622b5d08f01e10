// The HTTP API client (docs/http-api.md). A 401 anywhere opens the login form.

const listeners = new Set();

/** Called with no argument when an API call answers 401 (the session is missing or expired). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    ...init,
    headers,
    credentials: 'same-origin',
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (res.status === 401 && !init.quiet401) for (const fn of listeners) fn();
  if (!res.ok) {
    const err = body?.error ?? { code: `HTTP_${res.status}`, message: res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return body;
}

export const post = (path, json) => api(path, { method: 'POST', ...(json ? { json } : {}) });
export const enc = encodeURIComponent;
