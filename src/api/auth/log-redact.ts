import type { FastifyRequest } from 'fastify';

/**
 * pino `redact` paths for every logger gaffer builds (the API's is the only one): credentials in
 * headers, wherever a request or reply object is logged. Fastify's default request serializer
 * logs no headers; these paths keep it so if a log call ever passes headers or a raw request.
 */
export const LOG_REDACT = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'req.headers["x-api-key"]',
    'res.headers["set-cookie"]',
    'headers.authorization',
    'headers.cookie',
    'request.headers.authorization',
    'request.headers.cookie',
  ],
  censor: '[redacted]',
};

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
