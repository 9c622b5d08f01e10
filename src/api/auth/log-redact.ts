import type { FastifyRequest } from 'fastify';

/** A URL with its credential query parameters (a worker's `?token=`) censored. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|key|api_key|apikey|session)=)[^&#]*/gi, '$1[redacted]');
}

/** Fastify's request serializer, with the URL censored. */
export const logSerializers = {
  req(req: FastifyRequest) {
    return {
      method: req.method,
      url: redactUrl(req.url),
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort,
    };
  },
};
