import { Dec } from '../decimal';
import type { BacktestResult } from './backtester';

export interface TradeRecord {
  positionId: string;
  market: string;
  signalType: string;
  category: string;
  outcome: 'yes' | 'no';
  status: string;
  openedAtMs: number;
  closedAtMs: number;
  cost: Dec;
  pnl: Dec;
  /** Fees paid on the position's orders (already in `pnl`). */
  fees?: Dec;
}

/**
 * Periods in a year for the annualised ratios. Prediction markets trade every calendar day, so a
 * year is 365 daily returns (empyrical's DAILY is 252 trading days; its functions take the factor).
 */
export const DAYS_PER_YEAR = 365;
const DAY_MS = 86_400_000;

export interface PerformanceMetrics {
  trades: number;
  wins: number;
  losses: number;
  winRate: number | null;
  totalPnl: string;
  fees: string;
  /** Per-trade return = P&L / capital at risk; mean over standard deviation of those (no period: not annualised). */
  sharpePerTrade: number | null;
  /** Per-trade mean return over the per-trade downside deviation. */
  sortinoPerTrade: number | null;
  /** Largest fall of equity from its running peak, dollars. */
  maxDrawdown: string;
  /** That fall as a fraction of the peak it fell from (the standard max drawdown). */
  maxDrawdownFromPeak: number;
  /** The largest fall from the peak in dollars as a fraction of the initial capital. */
  maxDrawdownOfCapital: number;
  /** Equity return of each UTC calendar day of the run (days without a closed trade return 0). */
  dailyReturns: number[];
  /** Compound annual growth of equity over those days, a year being `DAYS_PER_YEAR` days. */
  annualReturn: number | null;
  /** Mean daily return / its standard deviation (n − 1) × √365. */
  sharpeAnnualised: number | null;
  /** Mean daily return × 365 / (downside deviation of daily returns × √365). */
  sortinoAnnualised: number | null;
  /** Annual return / max drawdown from peak. */
  calmarAnnualised: number | null;
  averageHoldMs: number | null;
}

/** Closed or settled positions of a run as trades (entry cost, P&L after all fees). */
export function tradesOf(result: BacktestResult, categoryOf: (market: string) => string): TradeRecord[] {
  return result.positions
    .filter((p) => (p.status === 'closed' || p.status === 'settled') && p.entryPrice !== undefined)
    .map((p) => ({
      positionId: p.positionId,
      market: p.market,
      signalType: p.signal?.type ?? 'unknown',
      category: categoryOf(p.market),
      outcome: p.outcome,
      status: p.status,
      openedAtMs: p.openedAtMs ?? 0,
      closedAtMs: p.closedAtMs ?? p.openedAtMs ?? 0,
      cost: new Dec(p.size).times(p.entryPrice!),
      pnl: new Dec(p.realizedPnl),
      fees: new Dec(p.fees),
    }))
    .sort((a, b) => a.closedAtMs - b.closedAtMs || a.positionId.localeCompare(b.positionId));
}

/** Equity (capital + cumulative P&L) after each trade, with the drawdown from the running peak. */
export function equityCurve(trades: readonly TradeRecord[], capital: Dec): { atMs: number; equity: Dec; drawdown: Dec }[] {
  let equity = capital;
  let peak = capital;
  return trades.map((t) => {
    equity = equity.plus(t.pnl);
    if (equity.gt(peak)) peak = equity;
    return { atMs: t.closedAtMs, equity, drawdown: peak.minus(equity) };
  });
}

/** The time a run covers (its first and last event). */
export interface RunSpan {
  startMs: number;
  endMs: number;
}

/** The trades' own span: the first opening to the last close. */
function spanOf(trades: readonly TradeRecord[]): RunSpan | undefined {
  if (trades.length === 0) return undefined;
  // A loop, not Math.min(...spread): a long run's trades would overflow the argument list.
  return trades.reduce((s, t) => ({ startMs: Math.min(s.startMs, t.openedAtMs), endMs: Math.max(s.endMs, t.closedAtMs) }), { startMs: Infinity, endMs: -Infinity });
}

/**
 * Equity returns of each UTC calendar day from the span's first day to its last: equity at a day's
 * end over the previous day's end (the capital before the first), minus 1. Equity changes when a
 * trade closes. Empty once equity reaches zero (returns stop meaning anything).
 */
export function dailyEquityReturns(trades: readonly TradeRecord[], capital: Dec, span: RunSpan | undefined = spanOf(trades)): number[] {
  if (!span || span.endMs < span.startMs) return [];
  const { startMs, endMs } = span;
  const firstDay = Math.floor(startMs / DAY_MS);
  const pnlByDay = new Map<number, Dec>();
  for (const t of trades) {
    const day = Math.max(firstDay, Math.floor(t.closedAtMs / DAY_MS));
    pnlByDay.set(day, (pnlByDay.get(day) ?? new Dec(0)).plus(t.pnl));
  }
  const lastDay = Math.max(Math.floor(endMs / DAY_MS), ...pnlByDay.keys());
  const returns: number[] = [];
  let equity = capital;
  for (let day = firstDay; day <= lastDay; day++) {
    if (equity.lte(0)) return [];
    const next = equity.plus(pnlByDay.get(day) ?? 0);
    returns.push(next.div(equity).minus(1).toNumber());
    equity = next;
  }
  return returns;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1), as numpy's std(ddof=1). */
const sampleStd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** Root mean square of the returns below zero, over all n returns (empyrical's downside risk before annualising). */
const downsideDeviation = (xs: readonly number[]) => Math.sqrt(xs.reduce((a, x) => a + Math.min(0, x) ** 2, 0) / xs.length);
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Sharpe ratio of periodic returns (risk-free 0): mean / sample std × √periodsPerYear; null below two returns or with no variation. */
export function sharpeRatio(returns: readonly number[], periodsPerYear: number): number | null {
  if (returns.length < 2) return null;
  const sd = sampleStd(returns);
  return sd > 0 ? finiteOrNull((mean(returns) / sd) * Math.sqrt(periodsPerYear)) : null;
}

/** Sortino ratio of periodic returns (required return 0): annualised mean / annualised downside deviation; null without a loss. */
export function sortinoRatio(returns: readonly number[], periodsPerYear: number): number | null {
  if (returns.length < 2) return null;
  const downside = downsideDeviation(returns) * Math.sqrt(periodsPerYear);
  return downside > 0 ? finiteOrNull((mean(returns) * periodsPerYear) / downside) : null;
}

/** Compound annual growth of periodic returns: (Π(1 + r))^(periodsPerYear / n) − 1. */
export function annualReturn(returns: readonly number[], periodsPerYear: number): number | null {
  if (returns.length === 0) return null;
  const growth = returns.reduce((g, r) => g * (1 + r), 1);
  return finiteOrNull(growth ** (periodsPerYear / returns.length) - 1);
}

/** Largest fall from a running peak of an equity path, as a fraction of that peak (0 when it never falls). */
export function maxDrawdownFromPeak(equities: readonly number[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const e of equities) {
    peak = Math.max(peak, e);
    if (peak > 0) worst = Math.max(worst, (peak - e) / peak);
  }
  return worst;
}

/** The equity path of periodic returns from 1 (the start included: it is the first peak). */
export function equityOfReturns(returns: readonly number[]): number[] {
  const path = [1];
  for (const r of returns) path.push(path.at(-1)! * (1 + r));
  return path;
}

/** Calmar ratio: annual return over max drawdown from peak; null without a drawdown. */
export function calmarRatio(annual: number | null, maxDrawdown: number): number | null {
  return annual !== null && maxDrawdown > 0 ? finiteOrNull(annual / maxDrawdown) : null;
}

/**
 * A run's trades summarised. `fees` defaults to the trades' own fees; `span` (the run's first and
 * last event) sets the calendar days of the daily returns, else the trades' own span.
 */
export function performance(trades: readonly TradeRecord[], capital: Dec, fees?: Dec, span?: RunSpan): PerformanceMetrics {
  const perTrade = trades.map((t) => (t.cost.gt(0) ? t.pnl.div(t.cost).toNumber() : 0));
  const wins = trades.filter((t) => t.pnl.gt(0)).length;
  const losses = trades.filter((t) => t.pnl.lt(0)).length;
  const total = trades.reduce((n, t) => n.plus(t.pnl), new Dec(0));
  const curve = equityCurve(trades, capital);
  const maxDd = curve.reduce((m, c) => Dec.max(m, c.drawdown), new Dec(0));
  const fromPeak = maxDrawdownFromPeak([capital, ...curve.map((c) => c.equity)].map((e) => e.toNumber()));
  const daily = dailyEquityReturns(trades, capital, span);
  const annual = annualReturn(daily, DAYS_PER_YEAR);
  return {
    trades: trades.length,
    wins,
    losses,
    winRate: wins + losses > 0 ? wins / (wins + losses) : null,
    totalPnl: total.toFixed(4),
    fees: (fees ?? trades.reduce((n, t) => n.plus(t.fees ?? 0), new Dec(0))).toFixed(4),
    sharpePerTrade: sharpeRatio(perTrade, 1),
    sortinoPerTrade: sortinoRatio(perTrade, 1),
    maxDrawdown: maxDd.toFixed(4),
    maxDrawdownFromPeak: fromPeak,
    maxDrawdownOfCapital: capital.gt(0) ? maxDd.div(capital).toNumber() : 0,
    dailyReturns: daily,
    annualReturn: annual,
    sharpeAnnualised: sharpeRatio(daily, DAYS_PER_YEAR),
    sortinoAnnualised: sortinoRatio(daily, DAYS_PER_YEAR),
    calmarAnnualised: calmarRatio(annual, fromPeak),
    averageHoldMs: trades.length ? mean(trades.map((t) => t.closedAtMs - t.openedAtMs)) : null,
  };
}

/** Metrics per group (signal type, category): each group's own fees, over the run's calendar days (all groups' span when not given). */
export function performanceBy(trades: readonly TradeRecord[], key: (t: TradeRecord) => string, capital: Dec, span?: RunSpan): Record<string, PerformanceMetrics> {
  const groups = new Map<string, TradeRecord[]>();
  for (const t of trades) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return Object.fromEntries([...groups].map(([k, ts]) => [k, performance(ts, capital, undefined, span ?? spanOf(trades))]));
}

/**
 * Monte Carlo: resample the trades' P&L with replacement `runs` times (seeded) and report the
 * spread of total P&L and max drawdown, i.e. how much of the result is the order of luck.
 */
export function monteCarlo(trades: readonly TradeRecord[], capital: Dec, runs: number, random: () => number) {
  if (trades.length === 0) return { runs, totals: { p5: 0, p50: 0, p95: 0 }, maxDrawdown: { p50: 0, p95: 0 }, probabilityOfLoss: 0 };
  const totals: number[] = [];
  const drawdowns: number[] = [];
  const pnls = trades.map((t) => t.pnl.toNumber());
  for (let r = 0; r < runs; r++) {
    let equity = 0;
    let peak = 0;
    let dd = 0;
    for (let i = 0; i < pnls.length; i++) {
      equity += pnls[Math.floor(random() * pnls.length)]!;
      peak = Math.max(peak, equity);
      dd = Math.max(dd, peak - equity);
    }
    totals.push(equity);
    drawdowns.push(dd);
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  return {
    runs,
    totals: { p5: q(totals, 0.05), p50: q(totals, 0.5), p95: q(totals, 0.95) },
    maxDrawdown: { p50: q(drawdowns, 0.5), p95: q(drawdowns, 0.95) },
    probabilityOfLoss: totals.filter((t) => t < 0).length / runs,
    capital: capital.toFixed(2),
  };
}
