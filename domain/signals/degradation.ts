import { Dec } from '../decimal';

/**
 * Signal degradation: a signal type's recent closed trades against its trailing baseline. The
 * windows count trades, not days, so the rule reads the same on the live clock and on a replay's.
 */
export interface DegradationSettings {
  /** A fall of more than this many percent below the baseline is a degradation (e.g. 20). */
  pct: number;
  /** The rolling window: the type's last this many closed trades. */
  recentTrades: number;
  /** The baseline: up to this many trades before the rolling window (at least `recentTrades` to judge). */
  baselineTrades: number;
}

export interface ClosedTrade {
  type: string;
  closedAtMs: number;
  /** Realized P&L after fees, dollars (decimal text). */
  pnl: string;
}

export interface TradeWindowStats {
  trades: number;
  /** Share of trades with a positive P&L (0 … 1). */
  winRate: number;
  /** Mean P&L per trade, dollars (6 places). */
  pnlPerTrade: string;
}

export type DegradedMetric = 'win_rate' | 'pnl_per_trade';

export type TypeDegradation =
  | { type: string; judged: false; why: string; trades: number }
  | { type: string; judged: true; recent: TradeWindowStats; baseline: TradeWindowStats; degraded: DegradedMetric[] };

export function checkDegradationSettings(s: DegradationSettings): void {
  if (!(Number.isFinite(s.pct) && s.pct > 0 && s.pct <= 100)) throw new RangeError(`degradation pct must be in (0, 100], got ${s.pct}`);
  if (!Number.isInteger(s.recentTrades) || s.recentTrades < 1) throw new RangeError(`recentTrades must be a positive integer, got ${s.recentTrades}`);
  if (!Number.isInteger(s.baselineTrades) || s.baselineTrades < 1) throw new RangeError(`baselineTrades must be a positive integer, got ${s.baselineTrades}`);
}

function statsOf(trades: readonly ClosedTrade[]): TradeWindowStats {
  const total = trades.reduce((n, t) => n.plus(t.pnl), new Dec(0));
  return { trades: trades.length, winRate: trades.filter((t) => new Dec(t.pnl).gt(0)).length / trades.length, pnlPerTrade: total.div(trades.length).toFixed(6) };
}

/**
 * Per signal type: the last `recentTrades` trades (by close time) against up to `baselineTrades`
 * trades before them. Win rate degrades when it is more than `pct`% below the baseline's; P&L per
 * trade when it is more than `pct`% of the baseline's magnitude below it (a baseline of exactly 0
 * has no relative scale, so P&L is not judged then). Too few trades: not judged, with why.
 */
export function signalDegradation(trades: readonly ClosedTrade[], settings: DegradationSettings): TypeDegradation[] {
  checkDegradationSettings(settings);
  const byType = new Map<string, ClosedTrade[]>();
  for (const t of trades) {
    if (!Number.isFinite(t.closedAtMs)) throw new RangeError(`trade of ${t.type} has no close time`);
    byType.set(t.type, [...(byType.get(t.type) ?? []), t]);
  }
  const fraction = new Dec(settings.pct).div(100);
  const out: TypeDegradation[] = [];
  for (const [type, list] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const ordered = [...list].sort((a, b) => a.closedAtMs - b.closedAtMs);
    const recent = ordered.slice(-settings.recentTrades);
    const baseline = ordered.slice(0, -settings.recentTrades).slice(-settings.baselineTrades);
    const needed = settings.recentTrades * 2;
    if (recent.length < settings.recentTrades || baseline.length < settings.recentTrades) {
      out.push({ type, judged: false, trades: ordered.length, why: `${ordered.length} closed trades; at least ${needed} needed (${settings.recentTrades} recent, ${settings.recentTrades} or more before them)` });
      continue;
    }
    const r = statsOf(recent);
    const b = statsOf(baseline);
    const degraded: DegradedMetric[] = [];
    if (b.winRate > 0 && new Dec(r.winRate).lt(new Dec(b.winRate).times(new Dec(1).minus(fraction)))) degraded.push('win_rate');
    const basePnl = new Dec(b.pnlPerTrade);
    if (!basePnl.isZero() && new Dec(r.pnlPerTrade).lt(basePnl.minus(basePnl.abs().times(fraction)))) degraded.push('pnl_per_trade');
    out.push({ type, judged: true, recent: r, baseline: b, degraded });
  }
  return out;
}

/** One line for an operator: what fell, from what, to what. */
export function describeDegradation(d: Extract<TypeDegradation, { judged: true }>, pct: number): string {
  const pctText = (x: number) => `${(x * 100).toFixed(1)}%`;
  const parts = d.degraded.map((m) =>
    m === 'win_rate'
      ? `win rate ${pctText(d.recent.winRate)} over the last ${d.recent.trades} trades vs ${pctText(d.baseline.winRate)} over the ${d.baseline.trades} before`
      : `P&L per trade ${d.recent.pnlPerTrade} over the last ${d.recent.trades} trades vs ${d.baseline.pnlPerTrade} over the ${d.baseline.trades} before`,
  );
  return `${d.type}: ${parts.join('; ')} (more than ${pct}% below the baseline)`;
}
