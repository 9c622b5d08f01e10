import Papa from 'papaparse';

/**
 * A data row of a CSV, by the line it starts on: its fields by header name, or why it cannot be
 * one. `raw` is its text as read (with its line break, if any), for a row that is rejected.
 */
export type CsvRow =
  | { line: number; raw: string; record: Record<string, string> }
  | { line: number; raw: string; error: string };

/**
 * Reads a CSV with a header row, pushed as text in pieces of any size: RFC 4180 quoting (quoted
 * fields may hold separators, doubled quotes and line breaks), LF or CRLF line ends, a leading
 * byte-order mark, empty lines skipped. A row whose field count differs from the header's, whose
 * quoting is broken, or longer than `maxRowChars` becomes an error row with its line number (where
 * it starts) and text; the rows after it go on. Holds at most one unfinished row between pushes.
 *
 * Papa Parse does the quoted parts; text without a quote character is split directly, as Papa
 * itself does in its fast mode. csv-parse was used before: 4.5–5.5 µs of CPU per row of
 * `gaffer gen-data`'s CSV, against 1–1.5 µs for Papa Parse, on a 2-core machine where an upload's budget at 100,000
 * rows/s is 10 µs per row for everything. Papa's streaming API gives no row's text or line, which
 * the rejected rows need, hence this driver over its string parser.
 */
export class CsvReader {
  readonly #maxRowChars: number;
  #header: string[] | null = null;
  /** No column is named __proto__, so fields can be assigned. */
  #plainNames = true;
  /** Text after the last complete row: the start of the next one. */
  #carry = '';
  /** The line number `#carry` starts on. */
  #line = 1;
  #started = false;
  /** A row over the length limit was cut: text is dropped up to the next line break. */
  #skipping = false;

  constructor(options: { maxRowChars: number }) {
    this.#maxRowChars = options.maxRowChars;
  }

  /** Takes the next piece of the text; returns the rows it completed. */
  push(text: string): CsvRow[] {
    if (!this.#started && text !== '') {
      this.#started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    const out: CsvRow[] = [];
    if (this.#skipping) {
      const nl = text.indexOf('\n');
      if (nl === -1) return out;
      this.#skipping = false;
      this.#line += 1;
      text = text.slice(nl + 1);
    }
    const input = this.#carry + text;
    const end = input.lastIndexOf('\n') + 1;
    this.#carry = input.slice(end);
    if (end > 0) this.#rows(input.slice(0, end), false, out);
    if (this.#carry.length > this.#maxRowChars) this.#cut(out);
    return out;
  }

  /** The end of the text: the last row, if it had no line break after it. */
  end(): CsvRow[] {
    const out: CsvRow[] = [];
    const rest = this.#carry;
    this.#carry = '';
    if (rest !== '' && !this.#skipping) this.#rows(rest, true, out);
    return out;
  }

  /** Rows of `block`, which starts at a row's start; unless `final`, it ends with a line break. */
  #rows(block: string, final: boolean, out: CsvRow[]): void {
    if (block.indexOf('"') === -1) {
      const lines = block.split('\n');
      if (!final) lines.pop(); // the empty string after the last line break
      for (const line of lines) {
        this.#row(line.endsWith('\r') ? line.slice(0, -1) : line, line, out);
        this.#line += 1;
      }
      return;
    }
    let from = 0;
    let incomplete = false;
    const parser: Papa.Parser = new Papa.Parser({
      delimiter: ',',
      newline: '\n',
      // Papa's string parser hands each row to `step` alone, as the only row of `data`.
      step: (result: Papa.ParseStepResult<string[][]>) => {
        const to: number = result.meta.cursor;
        const raw = block.slice(from, to);
        const errors = result.errors;
        if (!final && to === block.length && errors.some((e) => e.code === 'MissingQuotes')) {
          // A quoted field goes on past this piece: the row is read again with the next one.
          incomplete = true;
          parser.abort();
          return;
        }
        const fields = result.data[0] ?? [];
        const last = fields.length - 1;
        if (fields[last]?.endsWith('\r')) fields[last] = fields[last].slice(0, -1);
        if (errors.length > 0) this.#error(raw, errors[0]!.message, out);
        else this.#row(fields, raw, out);
        this.#line += countLines(raw);
        from = to;
      },
    });
    parser.parse(block, 0, false);
    if (incomplete) this.#carry = block.slice(from) + this.#carry;
  }

  /** One row, as a line of text without quotes or as fields Papa parsed. */
  #row(row: string | string[], raw: string, out: CsvRow[]): void {
    if (raw.length > this.#maxRowChars) {
      this.#error(raw, `the row is longer than ${this.#maxRowChars} characters`, out);
      return;
    }
    const fields = typeof row === 'string' ? row.split(',') : row;
    if (fields.length === 1 && fields[0] === '') return; // an empty line
    const header = this.#header;
    if (header === null) {
      this.#header = fields;
      this.#plainNames = !fields.includes('__proto__');
      return;
    }
    if (fields.length !== header.length) {
      this.#error(raw, `the header has ${header.length} fields, this row ${fields.length}`, out);
      return;
    }
    let record: Record<string, string>;
    if (this.#plainNames) {
      record = {};
      for (let i = 0; i < fields.length; i++) record[header[i]!] = fields[i]!;
    } else {
      // Assigning to __proto__ would not make a field; fromEntries defines it like any other.
      record = Object.fromEntries(header.map((name, i) => [name, fields[i]!]));
    }
    out.push({ line: this.#line, raw, record });
  }

  #error(raw: string, error: string, out: CsvRow[]): void {
    out.push({ line: this.#line, raw, error });
  }

  /**
   * The unfinished row is already over the limit (a line without a break, or a quote never
   * closed): it is refused, and reading goes on after the line break that follows its first line.
   */
  #cut(out: CsvRow[]): void {
    const carry = this.#carry;
    this.#error(carry, `the row is longer than ${this.#maxRowChars} characters`, out);
    const nl = carry.indexOf('\n');
    this.#carry = '';
    if (nl === -1) {
      this.#skipping = true;
      return;
    }
    this.#line += 1;
    const rest = carry.slice(nl + 1);
    for (const row of this.push(rest)) out.push(row);
  }
}

/** Line breaks in a row's text: a quoted field may span lines. */
function countLines(raw: string): number {
  let n = 0;
  for (let i = raw.indexOf('\n'); i !== -1; i = raw.indexOf('\n', i + 1)) n += 1;
  return n;
}
