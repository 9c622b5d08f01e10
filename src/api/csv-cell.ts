/**
 * One cell of a CSV file gaffer writes (the rejected rows of a batch, and any later export): RFC
 * 4180 quoting, and safe from formula injection when opened in a spreadsheet (OWASP "CSV
 * Injection"). A cell that would start with = + - @, a tab or a carriage return — also after
 * leading whitespace, which spreadsheets skip before reading a formula — gets a leading `'`, so
 * the program shows it as text. That covers DDE payloads such as `=cmd|' /C calc'!A0` too: a `|`
 * only acts inside a formula. Written by hand: a few lines, and the CSV libraries in use
 * (Papa Parse; csv-parse in the tests) read, they do not defuse.
 */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^(\s*[=+\-@]|[\t\r])/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV line of cells (no line break). */
export function csvLine(values: readonly unknown[]): string {
  return values.map(csvCell).join(',');
}
