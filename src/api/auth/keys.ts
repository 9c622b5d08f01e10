import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RESERVED_KEY_IDS, type ApiKeyConfig } from '../../config/schema.ts';

/**
 * API keys: `gaffer_<id>_<secret>`, the secret 43 base64url characters of 32 random bytes. The id
 * (letters, digits, dashes) selects the configured entry; the entry holds `sha256:<hex>` of the
 * whole key, never the key.
 *
 * Why a fast hash, not bcrypt/scrypt/argon2: those slow hashes protect low-entropy passwords from
 * a dictionary attack on a leaked hash. A key here is 256 random bits, so no dictionary exists and
 * brute force is out of reach at any hash speed; a slow hash would only cost CPU on every request
 * (GitHub's and Stripe's API tokens are checked the same way). The comparison is constant-time.
 */
export const KEY_PREFIX = 'gaffer_';
const KEY_FORM = /^gaffer_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{43})$/;
export const KEY_ID_FORM = /^[A-Za-z0-9-]{1,64}$/;

export interface NewKey {
  /** The key: shown once, never stored. */
  key: string;
  /** `sha256:<hex>` of the key: what the config holds. */
  hash: string;
}

/** A fresh random key for `id`. Throws on an id the key format cannot carry. */
export function createKey(id: string): NewKey {
  if (!KEY_ID_FORM.test(id)) {
    throw new Error(`a key id is 1 to 64 letters, digits or dashes: ${JSON.stringify(id)}`);
  }
  if (RESERVED_KEY_IDS.has(id)) {
    throw new Error(`the key id ${id} is reserved for callers without a key`);
  }
  const key = `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashKey(key) };
}

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** The id inside a well-formed key; null for anything else. */
export function keyId(key: string): string | null {
  return KEY_FORM.exec(key)?.[1] ?? null;
}

/**
 * The configured entry `key` names, when the key matches its hash; null otherwise (malformed,
 * unknown id, wrong secret). Constant-time in the secret: the hashes are compared with
 * timingSafeEqual (both are 32 bytes), so response times tell nothing about how close a guess was.
 */
export function matchKey(keys: readonly ApiKeyConfig[], key: string): ApiKeyConfig | null {
  const id = keyId(key);
  if (id === null) return null;
  const entry = keys.find((k) => k.id === id);
  if (!entry) return null;
  const given = createHash('sha256').update(key, 'utf8').digest();
  const stored = Buffer.from(entry.hash.slice('sha256:'.length), 'hex');
  return stored.length === given.length && timingSafeEqual(stored, given) ? entry : null;
}

/** Constant-time string comparison (the worker token), so it cannot be guessed byte by byte. */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a === b;
}
