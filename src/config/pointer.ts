/** A key as one token of a JSON pointer (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
