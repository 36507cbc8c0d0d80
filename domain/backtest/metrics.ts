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
}

export interface PerformanceMetrics {
  trades: number;
  wins: number;
  losses: number;
  winRate: number | null;
  totalPnl: string;
  fees: string;
  /** Per-trade return = P&L / capital at risk; Sharpe and Sortino are per trade (not annualised: event contracts have no fixed period). */
  sharpe: number | null;
  sortino: number | null;
  /** Total return over capital divided by max drawdown (as a fraction of capital). */
  calmar: number | null;
  maxDrawdown: string;
  maxDrawdownFraction: number;
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

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function performance(trades: readonly TradeRecord[], capital: Dec, fees: Dec = new Dec(0)): PerformanceMetrics {
  const returns = trades.map((t) => (t.cost.gt(0) ? t.pnl.div(t.cost).toNumber() : 0));
  const wins = trades.filter((t) => t.pnl.gt(0)).length;
  const losses = trades.filter((t) => t.pnl.lt(0)).length;
  const total = trades.reduce((n, t) => n.plus(t.pnl), new Dec(0));
  const curve = equityCurve(trades, capital);
  const maxDd = curve.reduce((m, c) => Dec.max(m, c.drawdown), new Dec(0));
  const m = returns.length ? mean(returns) : 0;
  const sd = returns.length > 1 ? Math.sqrt(returns.reduce((a, r) => a + (r - m) ** 2, 0) / (returns.length - 1)) : 0;
  const downside = returns.length > 1 ? Math.sqrt(returns.reduce((a, r) => a + Math.min(0, r) ** 2, 0) / returns.length) : 0;
  const ddFraction = capital.gt(0) ? maxDd.div(capital).toNumber() : 0;
  return {
    trades: trades.length,
    wins,
    losses,
    winRate: wins + losses > 0 ? wins / (wins + losses) : null,
    totalPnl: total.toFixed(4),
    fees: fees.toFixed(4),
    sharpe: sd > 0 ? m / sd : null,
    sortino: downside > 0 ? m / downside : null,
    calmar: ddFraction > 0 ? total.div(capital).toNumber() / ddFraction : null,
    maxDrawdown: maxDd.toFixed(4),
    maxDrawdownFraction: ddFraction,
    averageHoldMs: trades.length ? mean(trades.map((t) => t.closedAtMs - t.openedAtMs)) : null,
  };
}

/** Metrics per group (signal type, category). */
export function performanceBy(trades: readonly TradeRecord[], key: (t: TradeRecord) => string, capital: Dec): Record<string, PerformanceMetrics> {
  const groups = new Map<string, TradeRecord[]>();
  for (const t of trades) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return Object.fromEntries([...groups].map(([k, ts]) => [k, performance(ts, capital)]));
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
