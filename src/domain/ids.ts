import { randomUUID } from 'node:crypto';

/** Job ids sort by creation time within one process: a time prefix and a random tail. */
export function newJobId(now: number): string {
  return `${now.toString(36).padStart(9, '0')}-${randomUUID().slice(0, 13)}`;
}

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
