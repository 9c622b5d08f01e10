/** Pure formatting helpers for the CLI: tables, durations, times. No I/O. */

export type Align = 'left' | 'right';

export interface TableOptions {
  /** Per column; default left. */
  align?: Align[];
  /** Lines longer than this are cut with an ellipsis. */
  maxWidth?: number;
}

/** A plain-text table: header, a rule, then rows; columns separated by two spaces. */
export function table(headers: string[], rows: string[][], options: TableOptions = {}): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    widths
      .map((w, i) => pad(cells[i] ?? '', w, options.align?.[i] ?? 'left'))
      .join('  ')
      .trimEnd();
  const out = [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
  const max = options.maxWidth;
  return out.map((l) => (max ? truncate(l, max) : l)).join('\n');
}

export function pad(s: string, width: number, align: Align = 'left'): string {
  if (s.length >= width) return s;
  const fill = ' '.repeat(width - s.length);
  return align === 'right' ? fill + s : s + fill;
}

/** Cuts `s` to `width` characters, the last one an ellipsis. */
export function truncate(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return width === 1 ? '…' : s.slice(0, width - 1) + '…';
}

/** 850ms, 1.2s, 42s, 3m 05s, 2h 03m, 1d 04h. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)}s`;
  if (s < 60) return `${Math.floor(s)}s`;
  const totalS = Math.floor(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m}m ${two(totalS % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${two(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${two(h % 24)}h`;
}

/** "5s ago" relative to `now`. */
export function formatAgo(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined) return '-';
  return `${formatDuration(now - at)} ago`;
}

/** HH:MM:SS in local time. */
export function formatClock(at: number): string {
  const d = new Date(at);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** ISO 8601 in UTC, or '-'. */
export function formatIso(at: number | null | undefined): string {
  return at === null || at === undefined ? '-' : new Date(at).toISOString();
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} ${units[0]}` : `${v.toFixed(1)} ${units[i]}`;
}

/** A value as compact JSON on one line, cut to `width`. */
export function inlineJson(value: unknown, width = 60): string {
  if (value === undefined) return '';
  return truncate(JSON.stringify(value) ?? String(value), width);
}

/** "key: value" lines with the keys aligned. */
export function keyValues(pairs: [string, string][]): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${pad(k + ':', w + 1)} ${v}`).join('\n');
}

/** JSON indented by two spaces, each line prefixed with `indent`. */
export function indentJson(value: unknown, indent = '  '): string {
  return (JSON.stringify(value, null, 2) ?? 'undefined')
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** Splits `text` into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(10, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    for (let rest = word; rest.length > 0;) {
      const room = line ? w - line.length - 1 : w;
      if (rest.length <= room) {
        line = line ? `${line} ${rest}` : rest;
        rest = '';
      } else if (line) {
        lines.push(line);
        line = '';
      } else {
        lines.push(rest.slice(0, w));
        rest = rest.slice(w);
      }
    }
  }
  if (line) lines.push(line);
  return lines;
}
