import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DAYS_PER_YEAR, equityCurve, type PerformanceMetrics } from '../domain/backtest/metrics';
import type { Dec } from '../domain/decimal';
import type { BacktestSummary } from './gold-backtest';

/** A line chart as standalone SVG (no dependencies): x = time, y = value, zero line, min/max labels. */
export function lineChartSvg(title: string, points: { x: number; y: number }[], opts: { color: string; width?: number; height?: number; fill?: boolean }): string {
  const w = opts.width ?? 800;
  const h = opts.height ?? 260;
  // SVG is XML: an unescaped `&` (as in "P&L") makes the whole file unreadable to a browser.
  const label = title.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  const pad = { l: 70, r: 20, t: 30, b: 30 };
  if (points.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><text x="20" y="40">${label}: no trades</text></svg>`;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(0, ...ys)];
  const sx = (x: number) => pad.l + (x1 === x0 ? 0 : ((x - x0) / (x1 - x0)) * (w - pad.l - pad.r));
  const sy = (y: number) => h - pad.b - (y1 === y0 ? 0 : ((y - y0) / (y1 - y0)) * (h - pad.t - pad.b));
  const line = points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
  const area = opts.fill ? `<polygon fill="${opts.color}" fill-opacity="0.25" points="${sx(x0).toFixed(1)},${sy(0).toFixed(1)} ${line} ${sx(x1).toFixed(1)},${sy(0).toFixed(1)}"/>` : '';
  const date = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="${w}" height="${h}" fill="white"/>
<text x="${pad.l}" y="18" font-size="14" font-weight="bold">${label}</text>
<line x1="${pad.l}" x2="${w - pad.r}" y1="${sy(0)}" y2="${sy(0)}" stroke="#999" stroke-dasharray="4 3"/>
<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${h - pad.b}" stroke="#333"/>
<text x="${pad.l - 6}" y="${sy(y1) + 4}" text-anchor="end">${y1.toFixed(2)}</text>
<text x="${pad.l - 6}" y="${sy(y0) + 4}" text-anchor="end">${y0.toFixed(2)}</text>
<text x="${pad.l}" y="${h - 8}">${date(x0)}</text>
<text x="${w - pad.r}" y="${h - 8}" text-anchor="end">${date(x1)}</text>
${area}<polyline fill="none" stroke="${opts.color}" stroke-width="2" points="${line}"/>
</svg>
`;
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const num = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
const hold = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(0)} s`);

function metricsRow(name: string, m: PerformanceMetrics): string {
  return `| ${name} | ${m.trades} | ${pct(m.winRate)} | ${m.totalPnl} | ${m.fees} | ${num(m.sharpePerTrade)} | ${num(m.sortinoPerTrade)} | ${num(m.sharpeAnnualised)} | ${num(m.sortinoAnnualised)} | ${num(m.calmarAnnualised)} | ${m.maxDrawdown} | ${pct(m.maxDrawdownFromPeak)} | ${hold(m.averageHoldMs)} |`;
}

/** Writes report.md, equity.svg and drawdown.svg into `dir`; returns their paths. */
export function writeBacktestReport(dir: string, summary: BacktestSummary, ctx: { title: string; capital: Dec; markets: string[]; parameters: Record<string, unknown> }): { report: string; equity: string; drawdown: string } {
  mkdirSync(dir, { recursive: true });
  const curve = equityCurve(summary.trades, ctx.capital);
  const equity = path.join(dir, 'equity.svg');
  const drawdown = path.join(dir, 'drawdown.svg');
  writeFileSync(equity, lineChartSvg('Cumulative P&L ($, after fees)', curve.map((c) => ({ x: c.atMs, y: c.equity.minus(ctx.capital).toNumber() })), { color: '#1f77b4' }));
  writeFileSync(drawdown, lineChartSvg('Drawdown from peak ($)', curve.map((c) => ({ x: c.atMs, y: -c.drawdown.toNumber() })), { color: '#d62728', fill: true }));
  const m = summary.metrics;
  const header = '| | trades | win rate | P&L $ | fees $ | Sharpe/trade | Sortino/trade | Sharpe | Sortino | Calmar | max DD $ | max DD from peak | avg hold |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = [
    `# ${ctx.title}`,
    '',
    `${ctx.markets.length} recorded markets, ${summary.result.events.toLocaleString('en-US')} book events, simulated in ${(summary.elapsedMs / 1000).toFixed(1)} s. Strategy \`${summary.result.strategy.positions[0]?.positionId.split('/')[1] ?? '-'}\`; fees ${m.fees} (Kalshi trade fee and balance rounding, per fill); capital ${ctx.capital.toFixed(2)}.`,
    '',
    '## Results',
    '',
    `Sharpe, Sortino and Calmar are annualised from ${m.dailyReturns.length} daily equity return${m.dailyReturns.length === 1 ? '' : 's'} (UTC calendar days, ${DAYS_PER_YEAR} a year: prediction markets trade every day); Calmar is the annual return (${pct(m.annualReturn)}) over the max drawdown from peak. The per-trade ratios use each trade's P&L over its cost, without a period.`,
    '',
    header,
    metricsRow('all', m),
    ...Object.entries(summary.bySignalType).map(([k, v]) => metricsRow(`signal: ${k}`, v)),
    ...Object.entries(summary.byCategory).map(([k, v]) => metricsRow(`category: ${k}`, v)),
    '',
    '![equity](equity.svg)',
    '',
    '![drawdown](drawdown.svg)',
    '',
    `## Monte Carlo (${summary.monteCarlo.runs} resamples of the trades, with replacement)`,
    '',
    `Total P&L 5th / 50th / 95th percentile: ${summary.monteCarlo.totals.p5.toFixed(2)} / ${summary.monteCarlo.totals.p50.toFixed(2)} / ${summary.monteCarlo.totals.p95.toFixed(2)}; max drawdown median ${summary.monteCarlo.maxDrawdown.p50.toFixed(2)}, 95th ${summary.monteCarlo.maxDrawdown.p95.toFixed(2)}; probability of a loss ${pct(summary.monteCarlo.probabilityOfLoss)}.`,
    '',
    '## Trades',
    '',
    '| position | outcome | status | cost $ | P&L $ | hold |',
    '|---|---|---|---|---|---|',
    ...summary.trades.map((t) => `| ${t.positionId} | ${t.outcome} | ${t.status} | ${t.cost.toFixed(2)} | ${t.pnl.toFixed(4)} | ${hold(t.closedAtMs - t.openedAtMs)} |`),
    '',
    '## Parameters',
    '',
    '```json',
    JSON.stringify(ctx.parameters, null, 2),
    '```',
    '',
  ];
  const report = path.join(dir, 'report.md');
  writeFileSync(report, lines.join('\n'));
  return { report, equity, drawdown };
}

/** A one-line progress bar on stderr for long runs. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  let lastPct = -1;
  return (done, total) => {
    const pctDone = total > 0 ? Math.floor((100 * done) / total) : 100;
    if (pctDone === lastPct) return;
    lastPct = pctDone;
    const width = 30;
    const filled = Math.round((width * pctDone) / 100);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pctDone).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${pctDone === 100 ? '\n' : ''}`);
  };
}
