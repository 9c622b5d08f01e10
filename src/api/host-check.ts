import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GafferError } from '../errors.ts';
import { isLoopbackHost } from './auth/exposure.ts';

/**
 * Refuses (403 GAFFER_FOREIGN_HOST) a request that reached gaffer on a loopback address but names
 * another host, while no API key is configured. Without a key gaffer trusts whoever reaches it on
 * loopback — the programs of this machine — but a web page can reach it too, by DNS rebinding:
 * the page's own name, resolved again to 127.0.0.1, makes the browser send the page's requests
 * to gaffer as same-origin ones (Origin and Host both the page's name), past the cross-origin
 * check (origin.ts), to run ad-hoc commands or read jobs. A real client of loopback names a
 * loopback host (localhost, 127.0.0.0/8, ::1) or, behind a proxy, one of `allowedOrigins`' hosts.
 * With a key configured the key is the guard (a page cannot add one) and the host is not checked;
 * requests on other addresses are the exposure check's concern (auth/exposure.ts).
 */
export function refuseForeignHosts(
  app: FastifyInstance,
  settings: () => { keys: number; allowedOrigins: readonly string[] },
): void {
  app.addHook('onRequest', async (req) => {
    const { keys, allowedOrigins } = settings();
    if (keys > 0 || !onLoopback(req)) return;
    const host = hostName(req.headers.host ?? '');
    if (host === null || isLoopbackHost(host)) return;
    if (allowedOrigins.some((o) => URL.parse(o)?.hostname === host)) return;
    throw new GafferError(
      'GAFFER_FOREIGN_HOST',
      `${JSON.stringify(host)} (use localhost or 127.0.0.1, or configure an API key)`,
    );
  });
}

/** Whether the request came in on a loopback address (an injected test request: no socket). */
function onLoopback(req: FastifyRequest): boolean {
  const local = req.socket?.localAddress;
  return local !== undefined && isLoopbackHost(local.replace(/^::ffff:/, ''));
}

/** The host name of a Host header, lower-cased, without its port; null when absent. */
function hostName(header: string): string | null {
  if (header === '') return null;
  return URL.parse(`http://${header.trim()}`)?.hostname.toLowerCase() ?? header.toLowerCase();
}
