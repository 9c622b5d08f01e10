// Time-series charts drawn with uPlot (MIT, served from its npm package at /vendor/uplot/; the
// IIFE build defines the global `uPlot`). One small chart per metric group and job type.
import { h } from './dom.js';

const COLORS = {
  ready: '#d97706',
  inFlight: '#2563eb',
  finished: '#16a34a',
  failed: '#dc2626',
  starting: '#a78bfa',
  idle: '#94a3b8',
  busy: '#2563eb',
  draining: '#f59e0b',
};

/**
 * A chart in a <figure>: `series` are [key, label]; with `stacked`, each series is drawn as the
 * sum of itself and those before it, filled, so the top edge is the total (workers by state).
 * `update(xs, columns)` takes x in ms and one array per series; it exposes the point count and
 * the largest value on the figure (data-points, data-max) for tests and screen readers.
 */
export function chart(title, series, { stacked = false, width = 380, height = 130 } = {}) {
  const figure = h('figure', { class: 'chart', 'data-points': '0', 'data-max': '0' });
  const caption = h('figcaption', {}, title);
  const plotEl = h('div', { class: 'plot', role: 'img', 'aria-label': title });
  figure.append(caption, plotEl);
  let raw = series.map(() => []);
  // Stacked series are drawn top (total) first, so each band's fill sits on the one below.
  const order = stacked ? [...series.keys()].reverse() : [...series.keys()];
  const plot = new window.uPlot(
    {
      width,
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      axes: [{ size: 30 }, { size: 50 }],
      series: [
        {},
        ...order.map((i) => {
          const [key, label] = series[i];
          return {
            label,
            stroke: COLORS[key] ?? '#555',
            width: 1.5,
            ...(stacked ? { fill: COLORS[key] ?? '#555' } : {}),
            value: (_u, _v, _si, idx) => (idx === null ? '–' : String(raw[i][idx] ?? '–')),
          };
        }),
      ],
    },
    [[], ...order.map(() => [])],
    plotEl,
  );
  return {
    figure,
    update(xs, columns) {
      raw = columns;
      let drawn = columns;
      if (stacked) {
        drawn = [];
        columns.forEach((col, i) => drawn.push(col.map((v, j) => v + (i ? drawn[i - 1][j] : 0))));
      }
      plot.setData([xs.map((x) => x / 1000), ...order.map((i) => drawn[i])]);
      // At least a minute wide, so the first samples do not stretch over a degenerate range.
      if (xs.length) {
        const min = xs[0] / 1000;
        plot.setScale('x', { min, max: Math.max(xs.at(-1) / 1000, min + 60) });
      }
      figure.dataset.points = String(xs.length);
      figure.dataset.max = String(Math.max(0, ...columns.flat()));
    },
    resize(w) {
      plot.setSize({ width: w, height });
    },
    destroy() {
      plot.destroy();
    },
  };
}
