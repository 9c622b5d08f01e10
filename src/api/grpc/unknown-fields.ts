import type { ServiceDefinition } from '@grpc/grpc-js';
import { packageDefinition } from './definition.ts';

/**
 * Fields a submission carries that this gaffer's proto does not define (a client built from a
 * newer or another proto: `run_at = 10`, say). The protobuf decoder drops them without a word,
 * so a client would believe a feature that does not exist; here they are found on the wire and
 * the submission is refused (GAFFER_UNKNOWN_FIELD, by field number), as HTTP refuses a JSON field
 * it does not know.
 *
 * Hand-written: protobufjs, whose reader could walk the tags, is only a transitive dependency
 * (through @grpc/proto-loader) and its decoder keeps no unknown fields. The walk reads tags and
 * skips values; it is the protobuf wire format's, stable since proto2.
 */

/** Where `markUnknownFields` leaves the numbers it found on a decoded message. */
export const UNKNOWN_FIELDS = Symbol('gaffer.unknownFields');

export type WithUnknown<T> = T & { [UNKNOWN_FIELDS]?: number[] };

/** The field numbers of a message type of gaffer's proto. */
function fieldNumbers(type: string): ReadonlySet<number> {
  const message = packageDefinition()[type] as unknown as {
    type: { field: { number: number }[] };
  };
  return new Set(message.type.field.map((f) => f.number));
}

/**
 * Top-level fields of an encoded message, in wire order: number and, for length-delimited ones,
 * their bytes. Null when the bytes are not a well-formed message (the decoder then fails anyway).
 */
export function wireFields(buf: Uint8Array): { number: number; bytes?: Uint8Array }[] | null {
  const out: { number: number; bytes?: Uint8Array }[] = [];
  let at = 0;
  const varint = (): number | null => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= buf.length) return null;
      const b = buf[at++]!;
      // Past 2^53 the value is only skipped, never used: precision does not matter.
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    return null;
  };
  while (at < buf.length) {
    const tag = varint();
    if (tag === null) return null;
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      if (varint() === null) return null;
      out.push({ number });
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
      if (at > buf.length) return null;
      out.push({ number });
    } else if (wire === 2) {
      const length = varint();
      if (length === null || at + length > buf.length) return null;
      out.push({ number, bytes: buf.subarray(at, at + length) });
      at += length;
    } else {
      return null; // groups (3, 4) are not used by proto3; anything else is malformed
    }
  }
  return out;
}

function unknownIn(buf: Uint8Array, known: ReadonlySet<number>): number[] {
  const fields = wireFields(buf) ?? [];
  return [...new Set(fields.map((f) => f.number).filter((n) => !known.has(n)))];
}

/**
 * The Gaffer service definition with SubmitJob and SubmitJobs decoding also the unknown field
 * numbers of each submission: on the request (SubmitJob) or on each item (SubmitJobs; the batch's
 * own unknown fields on the request).
 */
export function withUnknownFields(definition: ServiceDefinition): ServiceDefinition {
  const submission = fieldNumbers('gaffer.v1.SubmitJobRequest');
  const batch = fieldNumbers('gaffer.v1.SubmitJobsRequest');
  const wrap = (
    method: string,
    mark: (buf: Buffer, message: WithUnknown<Record<string, unknown>>) => void,
  ) => {
    const original = definition[method]!;
    const decode = original.requestDeserialize;
    return {
      ...original,
      requestDeserialize: (buf: Buffer) => {
        const message = decode(buf) as WithUnknown<Record<string, unknown>>;
        mark(buf, message);
        return message;
      },
    };
  };
  const note = (message: WithUnknown<object>, numbers: number[]) => {
    if (numbers.length > 0) message[UNKNOWN_FIELDS] = numbers;
  };
  return {
    ...definition,
    SubmitJob: wrap('SubmitJob', (buf, message) => note(message, unknownIn(buf, submission))),
    SubmitJobs: wrap('SubmitJobs', (buf, message) => {
      note(message, unknownIn(buf, batch));
      const items = (message['jobs'] ?? []) as WithUnknown<object>[];
      const encoded = (wireFields(buf) ?? []).filter((f) => f.number === 2);
      encoded.forEach((f, i) => {
        const item = items[i];
        if (item && f.bytes) note(item, unknownIn(f.bytes, submission));
      });
    }),
  };
}
