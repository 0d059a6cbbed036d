/** A dependency-free SVG line plot for the simulator's reports (hops vs N, success over time). */
import type { Series } from './scenarios.js';

export interface PlotInit {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Logarithmic x axis (network sizes). */
  logX?: boolean;
  /** Fixed y range; default from the data, starting at 0. */
  yRange?: readonly [number, number];
}

const W = 640;
const H = 400;
const M = { left: 64, right: 24, top: 40, bottom: 56 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number): string => (Math.abs(x) >= 1000 ? x.toLocaleString('en-US') : String(Math.round(x * 100) / 100));

/** The plot as an SVG document. */
export function linePlot(p: PlotInit): string {
  const points = p.series.flatMap((s) => s.points);
  if (points.length === 0) throw new RangeError('nothing to plot');
  const tx = (x: number): number => (p.logX === true ? Math.log10(x) : x);
  const xs = points.map(([x]) => tx(x));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const [y0, y1] = p.yRange ?? [0, Math.max(...points.map(([, y]) => y)) * 1.1 || 1];
  const px = (x: number): number => M.left + ((tx(x) - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(p.title)}</text>`,
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="black"/>`,
    `<text x="${(W + M.left) / 2}" y="${H - 14}" text-anchor="middle">${esc(p.xLabel)}</text>`,
    `<text transform="translate(16 ${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = y0 + ((y1 - y0) * i) / 5;
    out.push(`<line x1="${M.left - 4}" y1="${py(y)}" x2="${W - M.right}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${py(y) + 4}" text-anchor="end">${fmt(y)}</text>`);
  }
  const xTicks = [...new Set(points.map(([x]) => x))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(xTicks.length / 10));
  xTicks.filter((_, i) => i % step === 0).forEach((x) => {
    out.push(`<line x1="${px(x)}" y1="${H - M.bottom}" x2="${px(x)}" y2="${H - M.bottom + 4}" stroke="black"/>`,
      `<text x="${px(x)}" y="${H - M.bottom + 18}" text-anchor="middle">${fmt(x)}</text>`);
  });
  p.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const path = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`);
    out.push(`<rect x="${W - M.right - 170}" y="${M.top + 4 + i * 18}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${W - M.right - 152}" y="${M.top + 14 + i * 18}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
