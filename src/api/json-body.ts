import type { FastifyInstance } from 'fastify';
import { GafferError } from '../errors.ts';

/**
 * Deepest nesting of arrays and objects a JSON body may have. Real submissions stay far below it;
 * a deeper body would overflow the stack when the job is serialized for the store (JSON.stringify
 * recurses), which surfaced as a 503 that invites the client to send the same body again.
 */
export const MAX_JSON_DEPTH = 64;

/** Depth of the deepest array or object in a JSON text; strings are skipped, escapes honoured. */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i++; // backslash: the next character is escaped
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > stopAt) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Replaces Fastify's JSON parser: the same parse (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype` keys), but the bytes must be valid UTF-8 (RFC 8259 §8.1; the default
 * decoder would turn bad bytes into U+FFFD and accept them) and the nesting at most
 * MAX_JSON_DEPTH deep.
 */
export function strictJson(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch (err) {
      done(new GafferError('GAFFER_BAD_JSON', 'the body is not valid UTF-8', { cause: err }));
      return;
    }
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(new GafferError('GAFFER_BAD_REQUEST', `nested deeper than ${MAX_JSON_DEPTH} levels`));
      return;
    }
    parse(req, text, done);
  });
}
