import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { GafferError } from '../errors.ts';
import { MAX_JSON_DEPTH } from '../jobs/submission.ts';

/**
 * Deepest nesting of arrays and objects a JSON body may have (src/jobs/submission.ts): a deeper
 * one would overflow the stack when the job is serialized for the store.
 */
export { MAX_JSON_DEPTH };

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

/**
 * JSON text that arrives inside a message rather than as a body (gRPC's `payload_json`), parsed
 * with the same guards as a body: at most MAX_JSON_DEPTH deep (GAFFER_BAD_REQUEST), no
 * `__proto__` or `constructor.prototype` keys (GAFFER_BAD_JSON, as secure-json-parse refuses
 * them in a body). `field` names it in the message.
 */
export function parseJsonText(text: string, field: string): unknown {
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `${field}: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  try {
    return sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    throw new GafferError('GAFFER_BAD_JSON', `${field}: ${(err as Error).message}`);
  }
}
