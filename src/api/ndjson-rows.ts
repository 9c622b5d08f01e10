import { Ajv } from 'ajv';
import sjson from 'secure-json-parse';
import type { Static } from 'typebox';
import type { RowReader, UploadRow } from '../jobs/ingest.ts';
import { withTiming, type Timing } from '../jobs/prepare.ts';
import { jsonDepth, MAX_JSON_DEPTH } from './json-body.ts';
import { SubmissionBody } from './schemas.ts';

/**
 * The checks POST /v1/jobs makes of its body (Fastify's ajv options in app.ts: numbers and booleans
 * given as strings are coerced), made of each line of a streamed batch.
 */
const ajv = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  strict: false,
  allowUnionTypes: true,
});
const validate = ajv.compile<Static<typeof SubmissionBody>>(SubmissionBody);

export interface NdjsonOptions {
  /** A line's type and priority when it names none. */
  type?: string | undefined;
  priority?: number | string | undefined;
  /** A line's due time and expiry when it gives none (the upload's query). */
  timing?: Timing;
  /** Longest accepted line, in characters. */
  maxLineChars: number;
}

/**
 * Reads a streamed batch: one submission per line, as the body of POST /v1/jobs (NDJSON, JSON
 * Lines); empty lines are skipped. A line that is not JSON (GAFFER_BAD_JSON), nests deeper than
 * MAX_JSON_DEPTH, does not match the submission schema or is longer than `maxLineChars`
 * (GAFFER_BAD_REQUEST) is rejected with its line number; the rest go on.
 */
export class NdjsonReader implements RowReader {
  readonly #options: NdjsonOptions;
  /** Text after the last line break: the start of the next line. */
  #carry = '';
  #line = 1;
  /** A line over the length limit was cut: text is dropped up to the next line break. */
  #skipping = false;

  constructor(options: NdjsonOptions) {
    this.#options = options;
  }

  push(text: string): UploadRow[] {
    const out: UploadRow[] = [];
    const input = this.#carry + text;
    let from = 0;
    for (let nl = input.indexOf('\n'); nl !== -1; nl = input.indexOf('\n', from)) {
      if (this.#skipping) this.#skipping = false;
      else this.#row(input.slice(from, nl), out);
      this.#line += 1;
      from = nl + 1;
    }
    this.#carry = this.#skipping ? '' : input.slice(from);
    if (this.#carry.length > this.#options.maxLineChars) {
      this.#tooLong(this.#carry, out);
      this.#carry = '';
      this.#skipping = true;
    }
    return out;
  }

  end(): UploadRow[] {
    const out: UploadRow[] = [];
    if (!this.#skipping && this.#carry !== '') this.#row(this.#carry, out);
    this.#carry = '';
    return out;
  }

  #row(raw: string, out: UploadRow[]): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    const line = this.#line;
    const reject = (code: string, error: string) => out.push({ line, raw, code, error });
    if (text.length > this.#options.maxLineChars) return this.#tooLong(raw, out);
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return void reject('GAFFER_BAD_REQUEST', `nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    let value: unknown;
    try {
      value = sjson.parse(text, null, { protoAction: 'error', constructorAction: 'error' });
    } catch (err) {
      return void reject('GAFFER_BAD_JSON', (err as Error).message);
    }
    if (!validate(value)) {
      return void reject('GAFFER_BAD_REQUEST', ajv.errorsText(validate.errors, { dataVar: 'job' }));
    }
    const { type, priority } = this.#options;
    out.push({
      line,
      raw,
      submission: withTiming(
        { ...value, type: value.type ?? type, priority: value.priority ?? priority },
        this.#options.timing ?? {},
      ),
    });
  }

  #tooLong(raw: string, out: UploadRow[]): void {
    const error = `the line is longer than ${this.#options.maxLineChars} characters`;
    out.push({ line: this.#line, raw, code: 'GAFFER_BAD_REQUEST', error });
  }
}
