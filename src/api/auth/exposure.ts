import { BlockList, isIP } from 'node:net';
import { ConfigError, type ResolvedConfig } from '../../config/load.ts';

/**
 * With no API key configured every caller is the anonymous operator of every job type (auth is
 * off, docs/security.md). That is the one-machine default, on loopback. On any other address it
 * would hand the API — every type's workers, and ad-hoc commands when they are on — to whoever can
 * reach the port, so gaffer refuses to listen there unless the operator says it wants exactly
 * that (`server.allowUnauthenticated`, `gaffer up --allow-unauthenticated`,
 * `listen({ allowUnauthenticated: true })`). Checked where the library decides where to serve,
 * before it binds a port or takes its data folder (`gaffer up` goes through the same path).
 */

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4'); // also matches ::ffff:127.x.x.x
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (in any spelling, brackets allowed) and `localhost`; nothing else. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  const family = isIP(h);
  if (family === 0) return false; // a name (or '' = every address): not known to be loopback
  return LOOPBACK.check(h, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Why listening on `host` is refused, or null when it is allowed. With ad-hoc commands on, an
 * unauthenticated listener off loopback would be a shell for whoever reaches the port, which
 * `allowUnauthenticated` (a decision about job types) does not extend to: refused regardless.
 */
export function exposureProblem(
  config: ResolvedConfig,
  host: string,
  allowUnauthenticated: boolean,
): string | null {
  if (config.auth.keys.length > 0 || isLoopbackHost(host)) return null;
  if (config.adhoc.enabled) {
    return [
      `gaffer refuses to listen on ${host || '(every address)'} with no API key: ad-hoc commands are on`,
      "(adhoc.enabled), so anyone who can reach it could run shell commands as gaffer's user. Either:",
      '  - configure an API key (`gaffer keys create --id ops --role operator`, then auth.keys),',
      '    and give ad-hoc commands a key of their own (docs/security.md);',
      '  - turn ad-hoc commands off: adhoc.enabled: false;',
      '  - or listen on loopback only (server.host 127.0.0.1, the default).',
    ].join('\n');
  }
  if (allowUnauthenticated) return null;
  return [
    `gaffer refuses to listen on ${host || '(every address)'}: it is not a loopback address and no API key`,
    'is configured, so anyone who can reach it would be the operator of every job type. Either:',
    '  - configure an API key: `gaffer keys create --id ops --role operator` prints a key and the',
    '    entry to add under auth.keys in the config (or to GAFFER_API_KEYS); then start again;',
    '  - listen on loopback only (server.host 127.0.0.1, the default);',
    '  - or, to serve every caller as an operator on purpose:',
    '    `gaffer up --allow-unauthenticated`, `listen({ allowUnauthenticated: true })` in a program,',
    '    or server.allowUnauthenticated: true in the config.',
  ].join('\n');
}

/** The refusal: a ConfigError (about server.host) whose message is the whole explanation. */
export class UnauthenticatedExposureError extends ConfigError {
  constructor(message: string) {
    super('server.host', [{ path: '/server/host', message }]);
    this.name = 'UnauthenticatedExposureError';
    this.message = message;
  }
}

/** Throws UnauthenticatedExposureError when listening on `host` is refused. */
export function assertExposureAllowed(
  config: ResolvedConfig,
  host: string,
  allowUnauthenticated: boolean,
): void {
  const problem = exposureProblem(config, host, allowUnauthenticated);
  if (problem) throw new UnauthenticatedExposureError(problem);
}
