import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'gaffer_session';

/** The key a session was opened with: its id and stored hash (never the key itself). */
export interface SessionKey {
  id: string;
  hash: string;
}

interface Session {
  key: SessionKey;
  expiresAt: number;
}

/**
 * Dashboard sessions: a random id (256 bits, base64url) in an HttpOnly cookie, mapped here to the
 * key that logged in, until `ttlMs` after login or logout. The session's rights are that key's as
 * configured now (`sessionPrincipal`), so a key revoked or rotated by a config reload ends its
 * sessions too, and a changed role applies at once. In this process's memory: a
 * restart logs everyone out, and with several replicas a browser must reach the one it logged in
 * at (or use an API key) — a small price for keeping no session secrets in the store.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  /** Opens a session; returns its id (the cookie's value). */
  create(key: SessionKey): string {
    this.#sweep();
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { key, expiresAt: this.#now() + this.#ttlMs });
    return id;
  }

  /** The key of a live session; undefined for an unknown, ended or expired one. */
  get(id: string): SessionKey | undefined {
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s.key;
  }

  /** Ends a session; true when it was live. */
  delete(id: string): boolean {
    return this.#sessions.delete(id);
  }

  /** Drops expired sessions, so logins that never log out do not pile up. */
  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(id);
  }
}
