import { GafferConnectionError, toApiError } from './errors.ts';
import { resolveRoute, type RouteName } from './routes.ts';

export interface ClientOptions {
  /** gaffer's base URL, e.g. http://127.0.0.1:8080 (a trailing slash is fine). */
  url: string;
  /** An API key, sent as `Authorization: Bearer <key>`. Absent: no credential (auth off). */
  apiKey?: string;
  /** The fetch to use (a proxying or instrumented one); default: the platform's. */
  fetch?: typeof fetch;
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestInit {
  params?: Record<string, string>;
  query?: object;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (a stream or FormData); `headers` should say what it is. */
  raw?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  accept?: string;
}

/**
 * The one place requests are made: base URL, credential, JSON, errors. Answers outside 2xx throw
 * `GafferApiError`; no answer throws `GafferConnectionError`; an aborted `signal` rejects with its
 * reason, as fetch does.
 */
export class Transport {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  /**
   * The dashboard session cookie, once `session.login` set one: a client without an API key then
   * rides on the session, as a browser would. Node's fetch keeps no cookies, hence this jar of one.
   */
  sessionCookie: string | undefined;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#apiKey = options.apiKey || undefined;
    this.#fetch = options.fetch ?? fetch;
  }

  async json<T>(route: RouteName, init: RequestInit = {}): Promise<T> {
    return (await (await this.request(route, init)).json()) as T;
  }

  async text(route: RouteName, init: RequestInit = {}): Promise<string> {
    return (await this.request(route, { accept: 'text/plain', ...init })).text();
  }

  async request(route: RouteName, init: RequestInit = {}): Promise<Response> {
    const [method, path] = resolveRoute(route, init.params);
    const headers: Record<string, string> = {
      accept: init.accept ?? 'application/json',
      ...this.#credential(),
      ...init.headers,
    };
    let body: BodyInit | undefined = init.raw;
    if (body === undefined && init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.#fetch(this.url + path + queryString(init.query as Query | undefined), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        // A streamed body must say so (fetch spec); Node's fetch refuses it otherwise.
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      } as globalThis.RequestInit);
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason;
      throw new GafferConnectionError(this.url, err);
    }
    if (!res.ok) throw await toApiError(res);
    return res;
  }

  #credential(): Record<string, string> {
    if (this.#apiKey) return { authorization: `Bearer ${this.#apiKey}` };
    if (this.sessionCookie) return { cookie: this.sessionCookie };
    return {};
  }
}

/** `?a=1&b=x`, leaving out undefined, null and empty values. */
export function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
