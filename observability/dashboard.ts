import { desc, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { positions, retrainingRuns, signals, strategyRuns } from '../db/schema';
import { readRiskState } from '../db/risk-repo';
import { Dec } from '../domain/decimal';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';

export interface DashboardData {
  generatedAt: string;
  temporalUi: string;
  risk: { mode: string; dailyPnl: string; consecutiveLosses: number; tripped: { breaker: string; reason: string }[] };
  open: { positionId: string; market: string; outcome: string; status: string; entryPrice: string | null; remaining: string; mark: string | null; unrealizedPnl: string | null }[];
  closed: { positionId: string; market: string; realizedPnl: string; closedAt: string | null }[];
  /** Cumulative realized P&L after each closed position, oldest first. */
  pnlCurve: { at: string; cumulative: string }[];
  signals: { id: number; firedAt: string; type: string; market: string; direction: string | null; priority: string; actionable: boolean }[];
  strategyRuns: { workflowId: string; feed: string; status: string; startedAt: string }[];
  retraining: { at: string; model: string; status: string; outOfSample: number | null; reason: string }[];
}

/** A market's published best YES bid and ask (decimal texts, '' for an empty side; `stale` says why, '' when fresh). */
export type MarkSource = (markets: readonly string[]) => Promise<ReadonlyMap<string, { yesBid: string; yesAsk: string; stale: string }>>;

/**
 * What a held outcome would sell at now, its best bid (NO's is 1 − the YES ask); none when the
 * side is empty or the book is stale.
 */
export function markOf(top: { yesBid: string; yesAsk: string; stale: string } | undefined, outcome: string): Dec | undefined {
  if (!top || top.stale) return undefined;
  const side = outcome === 'yes' ? top.yesBid : top.yesAsk;
  if (!side) return undefined;
  return outcome === 'yes' ? new Dec(side) : new Dec(1).minus(side);
}

/**
 * The dashboard summary as JSON (/api/dashboard; the web console in observability/console renders
 * its pages from console/data.ts), read from Postgres (the same numbers as the CLI and /metrics); open positions are marked at their outcome's best bid from `marks` (published tops of
 * book), unrealized P&L before exit fees.
 */
export async function dashboardData(db: Database, temporalUi: string, nowMs: number, marks?: MarkSource): Promise<DashboardData> {
  const [open, closed, recentSignals, risk, runs, retraining] = await Promise.all([
    db.select().from(positions).where(inArray(positions.status, [...OPEN_STATUSES])).orderBy(desc(positions.updatedAt)).limit(100),
    db.select().from(positions).where(inArray(positions.status, ['closed', 'settled'])).orderBy(desc(positions.closedAt)).limit(500),
    db.select().from(signals).orderBy(desc(signals.firedAt), desc(signals.id)).limit(25),
    readRiskState(db, nowMs),
    db.select().from(strategyRuns).orderBy(desc(strategyRuns.startedAt)).limit(10),
    db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(5),
  ]);
  const tops = marks ? await marks(open.map((p) => p.marketTicker)) : new Map<string, { yesBid: string; yesAsk: string; stale: string }>();
  const chronological = [...closed].reverse();
  let cumulative = new Dec(0);
  const pnlCurve = chronological.map((p) => {
    cumulative = cumulative.plus(p.realizedPnl);
    return { at: (p.closedAt ?? p.updatedAt).toISOString(), cumulative: cumulative.toFixed(4) };
  });
  return {
    generatedAt: new Date(nowMs).toISOString(),
    temporalUi,
    risk: { mode: risk.mode, dailyPnl: risk.dailyPnl.toFixed(4), consecutiveLosses: risk.consecutiveLosses, tripped: risk.tripped.map((t) => ({ breaker: t.breaker, reason: t.reason })) },
    open: open.map((p) => {
      const mark = markOf(tops.get(p.marketTicker), p.outcome);
      const unrealized = mark && p.entryPrice ? mark.minus(p.entryPrice).times(p.remainingSize) : undefined;
      return { positionId: p.positionId, market: p.marketTicker, outcome: p.outcome, status: p.status, entryPrice: p.entryPrice, remaining: p.remainingSize, mark: mark?.toFixed(4) ?? null, unrealizedPnl: unrealized?.toFixed(4) ?? null };
    }),
    closed: closed.slice(0, 25).map((p) => ({ positionId: p.positionId, market: p.marketTicker, realizedPnl: p.realizedPnl, closedAt: p.closedAt?.toISOString() ?? null })),
    pnlCurve,
    signals: recentSignals.map((s) => ({ id: s.id, firedAt: s.firedAt.toISOString(), type: s.type, market: s.marketTicker, direction: s.direction, priority: s.priority, actionable: s.actionable })),
    strategyRuns: runs.map((r) => ({ workflowId: r.workflowId, feed: r.feed, status: r.status, startedAt: r.startedAt.toISOString() })),
    retraining: retraining.map((r) => ({ at: r.createdAt.toISOString(), model: r.modelName, status: r.status, outOfSample: r.outOfSample, reason: r.reason })),
  };
}
