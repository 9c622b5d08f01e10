import type { Sample } from './loop.ts';

/**
 * Plots as hand-written SVG: two step charts per trace and start-up delay (workers, queued jobs),
 * one line per policy. No chart library: the output must be byte-identical for a seed (a library
 * upgrade could change every plot without a change of ours), it is a few dozen lines, and a
 * rendering dependency (canvas, a headless browser) would be heavy for two line charts.
 */
export interface Series {
  name: string;
  samples: Sample[];
}

const COLORS = ['#1b7837', '#b2182b', '#2166ac', '#7f7f7f', '#e08214', '#762a83'];
const WIDTH = 900;
const PANEL = 220;
const LEFT = 60;
const RIGHT = 20;
const TOP = 40;
const GAP = 50;

export function plot(title: string, series: Series[]): string {
  const end = Math.max(1, ...series.map((s) => s.samples.at(-1)?.at ?? 0));
  const height = TOP + 2 * PANEL + GAP + 60;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
  ];
  parts.push(panel('workers', series, end, TOP, (s) => s.workers));
  parts.push(panel('queued jobs', series, end, TOP + PANEL + GAP, (s) => s.queued));
  let x = LEFT;
  const y = height - 15;
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    parts.push(
      `<rect x="${x}" y="${y - 10}" width="14" height="4" fill="${color}"/>`,
      `<text x="${x + 20}" y="${y - 4}">${escape(s.name)}</text>`,
    );
    x += 30 + s.name.length * 7;
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function panel(
  label: string,
  series: Series[],
  end: number,
  top: number,
  value: (s: Sample) => number,
): string {
  const plotW = WIDTH - LEFT - RIGHT;
  const columns = series.map((s) => columnMax(s.samples, end, plotW, value));
  const ymax = niceCeil(Math.max(1, ...columns.flat()));
  const X = (col: number) => (LEFT + col).toFixed(1);
  const Y = (v: number) => (top + PANEL - (v / ymax) * PANEL).toFixed(1);
  const out: string[] = [
    `<text x="${LEFT}" y="${top - 8}" font-weight="bold">${label}</text>`,
    `<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL}" fill="none" stroke="#ccc"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (ymax * i) / 4;
    out.push(
      `<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/>`,
      `<text x="${LEFT - 6}" y="${Y(v)}" text-anchor="end" dy="4">${fmt(v)}</text>`,
    );
  }
  for (let i = 0; i <= 6; i++) {
    const t = (end * i) / 6;
    const x = LEFT + (plotW * i) / 6;
    out.push(
      `<text x="${x.toFixed(1)}" y="${top + PANEL + 16}" text-anchor="middle">${minutes(t)}</text>`,
    );
  }
  columns.forEach((col, i) => {
    // A step line: a point only where the value changes (and at both ends).
    const pts: string[] = [`${X(0)},${Y(col[0]!)}`];
    for (let c = 1; c < col.length; c++) {
      if (col[c] === col[c - 1]) continue;
      pts.push(`${X(c)},${Y(col[c - 1]!)}`, `${X(c)},${Y(col[c]!)}`);
    }
    pts.push(`${X(col.length - 1)},${Y(col.at(-1)!)}`);
    const color = COLORS[i % COLORS.length]!;
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" opacity="0.85" points="${pts.join(' ')}"/>`,
    );
  });
  return out.join('\n');
}

/** The most of each pixel column's samples (a spike narrower than a pixel still shows). */
function columnMax(
  samples: Sample[],
  end: number,
  width: number,
  value: (s: Sample) => number,
): number[] {
  const col = new Array<number>(width + 1).fill(-1);
  for (const s of samples) {
    const c = Math.min(width, Math.floor((s.at / end) * width));
    col[c] = Math.max(col[c]!, value(s));
  }
  // A column without a sample holds the value before it (the series are steps); the line stops
  // where its run ended.
  const lastCol = Math.min(width, Math.floor(((samples.at(-1)?.at ?? 0) / end) * width));
  let last = 0;
  return col.slice(0, lastCol + 1).map((v) => (v < 0 ? last : (last = v)));
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
