import type { TimeSeries } from './data';

const PALETTE = ['#56d364', '#79c0ff', '#d2a8ff', '#ffa657', '#ff7b72', '#f2cc60', '#a5d6ff', '#7ee787'];
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SECOND = 1000;
const TIME_STEPS = [SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY];

/** Round-number time ticks (UTC) across [fromMs, toMs], at most about `max` of them. */
export function timeTicks(fromMs: number, toMs: number, max = 6): { atMs: number; label: string }[] {
  const span = Math.max(toMs - fromMs, 1);
  const step = TIME_STEPS.find((s) => span / s <= max) ?? Math.ceil(span / max / DAY) * DAY;
  const ticks: { atMs: number; label: string }[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    const iso = new Date(t).toISOString();
    // Days and longer: the date; shorter: the time (seconds when the step is under a minute; the date where a day starts).
    ticks.push({ atMs: t, label: step >= DAY || iso.slice(11, 19) === '00:00:00' ? iso.slice(5, 10) : step < MINUTE ? iso.slice(11, 19) : iso.slice(11, 16) });
  }
  return ticks;
}

/** Round-number value ticks across [lo, hi]. */
function valueTicks(lo: number, hi: number, max = 5): number[] {
  const raw = (hi - lo) / max || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

/**
 * A line chart of time series with a real time axis (UTC ticks), a value axis, a zero line and a
 * legend; step lines (a cumulative value holds until the next event). Server-rendered SVG.
 */
export function timeSeriesSvg(id: string, series: readonly TimeSeries[], opts: { width?: number; height?: number; format?: (v: number) => string; empty: string }): string {
  const width = opts.width ?? 760;
  const height = opts.height ?? 220;
  const fmt = opts.format ?? ((v: number) => v.toFixed(2));
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return `<svg id="${id}" class="chart" width="${width}" height="60" viewBox="0 0 ${width} 60" role="img"><text x="12" y="34" fill="#8b949e">${esc(opts.empty)}</text></svg>`;
  const [left, right, top, bottom] = [64, 16, 12, 40];
  let t0 = Math.min(...points.map((p) => p.atMs));
  let t1 = Math.max(...points.map((p) => p.atMs));
  if (t1 === t0) [t0, t1] = [t0 - 30 * SECOND, t1 + 30 * SECOND];
  const values = [0, ...points.map((p) => p.value)];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const x = (t: number) => left + ((t - t0) * (width - left - right)) / (t1 - t0);
  const y = (v: number) => height - bottom - ((v - lo) * (height - top - bottom)) / (hi - lo);
  const parts: string[] = [];
  for (const tick of timeTicks(t0, t1)) parts.push(`<line x1="${x(tick.atMs).toFixed(1)}" x2="${x(tick.atMs).toFixed(1)}" y1="${top}" y2="${height - bottom}" stroke="#21262d"/><text class="x-tick" x="${x(tick.atMs).toFixed(1)}" y="${height - bottom + 16}" fill="#8b949e" font-size="11" text-anchor="middle">${tick.label}</text>`);
  for (const v of valueTicks(lo, hi)) parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="${v === 0 ? '#484f58' : '#21262d'}"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" fill="#8b949e" font-size="11" text-anchor="end">${esc(fmt(v))}</text>`);
  parts.push(`<text x="${width - right}" y="${height - 4}" fill="#6e7681" font-size="10" text-anchor="end">UTC ${new Date(t0).toISOString().slice(0, 16).replace('T', ' ')} → ${new Date(t1).toISOString().slice(0, 16).replace('T', ' ')}</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = PALETTE[i % PALETTE.length]!;
    const sorted = [...s.points].sort((a, b) => a.atMs - b.atMs);
    let d = `M${x(sorted[0]!.atMs).toFixed(1)},${y(sorted[0]!.value).toFixed(1)}`;
    for (let k = 1; k < sorted.length; k++) d += ` H${x(sorted[k]!.atMs).toFixed(1)} V${y(sorted[k]!.value).toFixed(1)}`;
    parts.push(`<path class="series" data-series="${esc(s.name)}" data-points="${sorted.length}" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${left + 8}" y="${top + 12 + i * 14}" fill="${color}" font-size="11">${esc(s.name)}: ${esc(fmt(sorted.at(-1)!.value))}</text>`);
  });
  return `<svg id="${id}" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(series.map((s) => s.name).join(', '))}">${parts.join('')}</svg>`;
}
