import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { consoleActions, exitAttempts, fills, orders, positionExits, positions, strategyRuns } from '../../db/schema';
import { explainOrder, type OrderExplanation } from '../../db/provenance';
import { readRiskState } from '../../db/risk-repo';
import { recentClosedTradesByType } from '../../db/attribution';
import { Dec } from '../../domain/decimal';
import { OPEN_STATUSES } from '../../domain/trading/strategy-rules';
import { walkForwardSummarySchema, type WalkForwardSummary } from '../../domain/backtest/walk-forward';
import { markOf, type MarkSource } from '../dashboard';

/** How many open positions one page lists (more are counted, not shown). */
export const OPEN_POSITIONS_SHOWN = 1000;

export interface PositionRow {
  positionId: string;
  strategyId: string;
  market: string;
  outcome: string;
  status: string;
  entryPrice: string | null;
  size: string;
  remaining: string;
  realizedPnl: string;
  mark: string | null;
  unrealizedPnl: string | null;
  openedAt: string | null;
  closedAt: string | null;
}

export interface ConsoleOverview {
  generatedAt: string;
  risk: { mode: string; dailyPnl: string; consecutiveLosses: number; tripped: { breaker: string; reason: string; at: string }[] };
  openCount: number;
  open: PositionRow[];
  closed: PositionRow[];
  strategyRuns: { workflowId: string; venue: string; feed: string; status: string; signalTypes: string[]; startedAt: string; stoppedAt: string | null }[];
  actions: ConsoleActionRow[];
}

export interface ConsoleActionRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  message: string;
}

type PositionRecord = typeof positions.$inferSelect;

function positionRow(p: PositionRecord, tops?: ReadonlyMap<string, { yesBid: string; yesAsk: string; stale: string }>): PositionRow {
  const mark = tops && markOf(tops.get(p.marketTicker), p.outcome);
  const unrealized = mark && p.entryPrice ? mark.minus(p.entryPrice).times(p.remainingSize) : undefined;
  return {
    positionId: p.positionId,
    strategyId: p.strategyId,
    market: p.marketTicker,
    outcome: p.outcome,
    status: p.status,
    entryPrice: p.entryPrice,
    size: p.size,
    remaining: p.remainingSize,
    realizedPnl: p.realizedPnl,
    mark: mark?.toFixed(4) ?? null,
    unrealizedPnl: unrealized?.toFixed(4) ?? null,
    openedAt: p.openedAt?.toISOString() ?? null,
    closedAt: p.closedAt?.toISOString() ?? null,
  };
}

/** The overview page: open positions (marked at the published best bid), recent closes, risk, strategy runs and the console's own actions. */
export async function consoleOverview(db: Database, nowMs: number, marks?: MarkSource): Promise<ConsoleOverview> {
  const open = [...OPEN_STATUSES];
  const [openRows, [counted], closed, risk, runs, actions] = await Promise.all([
    db.select().from(positions).where(inArray(positions.status, open)).orderBy(desc(positions.updatedAt), asc(positions.positionId)).limit(OPEN_POSITIONS_SHOWN),
    db.select({ n: sql<number>`count(*)::int` }).from(positions).where(inArray(positions.status, open)),
    db.select().from(positions).where(inArray(positions.status, ['closed', 'settled'])).orderBy(desc(positions.closedAt)).limit(30),
    readRiskState(db, nowMs),
    db.select().from(strategyRuns).orderBy(desc(strategyRuns.startedAt)).limit(20),
    recentConsoleActions(db, 15),
  ]);
  const tops = marks && openRows.length ? await marks([...new Set(openRows.map((p) => p.marketTicker))]) : undefined;
  return {
    generatedAt: new Date(nowMs).toISOString(),
    risk: { mode: risk.mode, dailyPnl: risk.dailyPnl.toFixed(4), consecutiveLosses: risk.consecutiveLosses, tripped: risk.tripped.map((t) => ({ breaker: t.breaker, reason: t.reason, at: new Date(t.atMs).toISOString() })) },
    openCount: counted?.n ?? 0,
    open: openRows.map((p) => positionRow(p, tops)),
    closed: closed.map((p) => positionRow(p)),
    strategyRuns: runs.map((r) => ({ workflowId: r.workflowId, venue: r.venue, feed: r.feed, status: r.status, signalTypes: r.signalTypes, startedAt: r.startedAt.toISOString(), stoppedAt: r.stoppedAt?.toISOString() ?? null })),
    actions,
  };
}

export async function recentConsoleActions(db: Database, limit: number): Promise<ConsoleActionRow[]> {
  const rows = await db.select().from(consoleActions).orderBy(desc(consoleActions.id)).limit(limit);
  return rows.map((r) => ({ id: r.id, at: r.at.toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, message: r.message }));
}

/** One entry of a position's timeline, oldest first. */
export interface TimelineEntry {
  at: string;
  kind: 'opened' | 'order' | 'fill' | 'exit-attempt' | 'exit' | 'closed' | 'console';
  text: string;
}

export interface PositionDetail {
  position: PositionRow & { venue: string; fees: string; signalId: string | null; strategyVersionId: number | null; modelVersionId: number | null; state: unknown };
  orders: { clientOrderId: string; purpose: string; action: string; outcome: string; limitPrice: string; size: string; timeInForce: string; status: string; filled: string; averagePrice: string | null; fees: string; submittedAt: string }[];
  fills: { clientOrderId: string; seq: number; price: string; size: string; liquidity: string; fee: string; filledAt: string }[];
  exitAttempts: { exitNo: number; attemptNo: number; reason: string; urgency: string; orderType: string; limitPrice: string; timeoutMs: number; clientOrderId: string; filled: string; outcome: string; attemptedAt: string }[];
  /** Every finished exit decision with all the conditions that were triggered when it was taken. */
  exits: { exitNo: number; reason: string; urgency: string; requested: string; filled: string; averagePrice: string | null; fees: string; realizedPnl: string; attempts: number; triggered: unknown; finishedAt: string }[];
  /** Strategy and model version, signal: from the entry order (db/provenance.ts, as `kestrel why`). */
  provenance: OrderExplanation | null;
  actions: ConsoleActionRow[];
  timeline: TimelineEntry[];
}

/** Everything recorded about one position, and its timeline; undefined when there is no such position. */
export async function positionDetail(db: Database, positionId: string): Promise<PositionDetail | undefined> {
  const [p] = await db.select().from(positions).where(eq(positions.positionId, positionId));
  if (!p) return undefined;
  const [orderRows, attemptRows, exitRows, actionRows] = await Promise.all([
    db.select().from(orders).where(eq(orders.positionId, positionId)).orderBy(asc(orders.submittedAt)),
    db.select().from(exitAttempts).where(eq(exitAttempts.positionId, positionId)).orderBy(asc(exitAttempts.exitNo), asc(exitAttempts.attemptNo)),
    db.select().from(positionExits).where(eq(positionExits.positionId, positionId)).orderBy(asc(positionExits.exitNo)),
    db.select().from(consoleActions).where(eq(consoleActions.target, positionId)).orderBy(asc(consoleActions.id)),
  ]);
  const fillRows = orderRows.length ? await db.select().from(fills).where(inArray(fills.clientOrderId, orderRows.map((o) => o.clientOrderId))).orderBy(asc(fills.filledAt), asc(fills.seq)) : [];
  const entry = orderRows.find((o) => o.purpose === 'entry') ?? orderRows[0];
  const provenance = entry ? ((await explainOrder(db, entry.clientOrderId)) ?? null) : null;
  const detail: PositionDetail = {
    position: { ...positionRow(p), venue: p.venue, fees: p.fees, signalId: p.signalId, strategyVersionId: p.strategyVersionId, modelVersionId: p.modelVersionId, state: p.state },
    orders: orderRows.map((o) => ({ clientOrderId: o.clientOrderId, purpose: o.purpose, action: o.action, outcome: o.outcome, limitPrice: o.limitPrice, size: o.size, timeInForce: o.timeInForce, status: o.status, filled: o.filledSize, averagePrice: o.averagePrice, fees: o.fees, submittedAt: o.submittedAt.toISOString() })),
    fills: fillRows.map((f) => ({ clientOrderId: f.clientOrderId, seq: f.seq, price: f.price, size: f.size, liquidity: f.liquidity, fee: f.fee, filledAt: f.filledAt.toISOString() })),
    exitAttempts: attemptRows.map((a) => ({ exitNo: a.exitNo, attemptNo: a.attemptNo, reason: a.reason, urgency: a.urgency, orderType: a.orderType, limitPrice: a.limitPrice, timeoutMs: a.timeoutMs, clientOrderId: a.clientOrderId, filled: a.filledSize, outcome: a.outcome, attemptedAt: a.attemptedAt.toISOString() })),
    exits: exitRows.map((e) => ({ exitNo: e.exitNo, reason: e.reason, urgency: e.urgency, requested: e.requestedSize, filled: e.filledSize, averagePrice: e.averagePrice, fees: e.fees, realizedPnl: e.realizedPnl, attempts: e.attempts, triggered: e.triggered, finishedAt: e.finishedAt.toISOString() })),
    provenance,
    actions: actionRows.map((r) => ({ id: r.id, at: r.at.toISOString(), actor: r.actor, action: r.action, target: r.target, outcome: r.outcome, message: r.message })),
    timeline: [],
  };
  detail.timeline = timelineOf(detail);
  return detail;
}

function timelineOf(d: PositionDetail): TimelineEntry[] {
  const t: TimelineEntry[] = [];
  const p = d.position;
  if (p.openedAt) t.push({ at: p.openedAt, kind: 'opened', text: `entered ${p.outcome.toUpperCase()} ${p.size} @ ${p.entryPrice ?? '-'}${d.provenance?.signal ? ` on ${d.provenance.signal.type} signal` : ''}` });
  for (const o of d.orders) t.push({ at: o.submittedAt, kind: 'order', text: `${o.purpose} order ${o.action} ${o.outcome.toUpperCase()} ${o.size} @ ${o.limitPrice} ${o.timeInForce} → ${o.status}, filled ${o.filled} (${o.clientOrderId})` });
  for (const f of d.fills) t.push({ at: f.filledAt, kind: 'fill', text: `fill ${f.size} @ ${f.price} (${f.liquidity}, fee ${f.fee}) on ${f.clientOrderId}` });
  for (const a of d.exitAttempts) t.push({ at: a.attemptedAt, kind: 'exit-attempt', text: `exit #${a.exitNo} attempt ${a.attemptNo} (${a.reason}, ${a.urgency}): ${a.orderType} @ ${a.limitPrice} for ${a.timeoutMs} ms → ${a.outcome}, filled ${a.filled}` });
  for (const e of d.exits) t.push({ at: e.finishedAt, kind: 'exit', text: `exit #${e.exitNo} ${e.reason} (${e.urgency}) done: filled ${e.filled}/${e.requested} @ ${e.averagePrice ?? '-'} in ${e.attempts} attempt(s), P&L ${e.realizedPnl}; triggered ${JSON.stringify(e.triggered)}` });
  for (const a of d.actions) t.push({ at: a.at, kind: 'console', text: `console: ${a.actor} ${a.action} → ${a.outcome}: ${a.message}` });
  if (p.closedAt) t.push({ at: p.closedAt, kind: 'closed', text: `${p.status}: realized P&L ${p.realizedPnl} after ${p.fees} fees` });
  return t.sort((a, b) => a.at.localeCompare(b.at));
}

/** A named series of (time, value) points for a chart. */
export interface TimeSeries {
  name: string;
  points: { atMs: number; value: number }[];
}

/** Cumulative realized P&L (after fees) over closing time, per strategy: the `limit` most recently active strategies. */
export async function pnlByStrategy(db: Database, limit = 8): Promise<TimeSeries[]> {
  const rows = (await db.execute(sql`
    with recent as (
      select strategy_id from positions where status in ('closed', 'settled') and closed_at is not null
      group by 1 order by max(closed_at) desc limit ${limit}
    )
    select p.strategy_id, p.closed_at, p.realized_pnl::text as pnl
    from positions p join recent r using (strategy_id)
    where p.status in ('closed', 'settled') and p.closed_at is not null
    order by p.strategy_id, p.closed_at, p.position_id`)) as unknown as { strategy_id: string; closed_at: Date | string; pnl: string }[];
  const byStrategy = new Map<string, { total: Dec; points: TimeSeries['points'] }>();
  for (const r of rows) {
    const s = byStrategy.get(r.strategy_id) ?? { total: new Dec(0), points: [] };
    s.total = s.total.plus(r.pnl);
    s.points.push({ atMs: new Date(r.closed_at).getTime(), value: s.total.toNumber() });
    byStrategy.set(r.strategy_id, s);
  }
  return [...byStrategy].map(([name, s]) => ({ name, points: s.points }));
}

export interface SignalPerformance {
  type: string;
  trades: number;
  winRate: number;
  pnl: string;
  /** Cumulative P&L and win rate so far, after each closed trade. */
  cumulativePnl: TimeSeries['points'];
  winRateOverTime: TimeSeries['points'];
}

/** P&L and win rate over time per signal type, from the positions each signal type opened (db/attribution.ts, as `kestrel report signals`). */
export async function signalPerformance(db: Database, perType = 500): Promise<SignalPerformance[]> {
  const trades = await recentClosedTradesByType(db, perType);
  const byType = new Map<string, { closedAtMs: number; pnl: string }[]>();
  for (const t of trades) byType.set(t.type, [...(byType.get(t.type) ?? []), t]);
  return [...byType].map(([type, rows]) => {
    rows.sort((a, b) => a.closedAtMs - b.closedAtMs);
    let total = new Dec(0);
    let wins = 0;
    const cumulativePnl: TimeSeries['points'] = [];
    const winRateOverTime: TimeSeries['points'] = [];
    rows.forEach((r, i) => {
      total = total.plus(r.pnl);
      if (new Dec(r.pnl).gt(0)) wins++;
      cumulativePnl.push({ atMs: r.closedAtMs, value: total.toNumber() });
      winRateOverTime.push({ atMs: r.closedAtMs, value: wins / (i + 1) });
    });
    return { type, trades: rows.length, winRate: rows.length ? wins / rows.length : 0, pnl: total.toFixed(4), cumulativePnl, winRateOverTime };
  });
}

export interface BacktestReportFiles {
  name: string;
  dir: string;
  writtenAt: string;
  /** The report's Results section (a Markdown table) and its first paragraph. */
  summary: string;
  equity: string | undefined;
  drawdown: string | undefined;
}

/** The newest backtest report (`kestrel backtest` writes report.md, equity.svg, drawdown.svg into a folder of `dir`). */
export function latestBacktestReport(dir: string): BacktestReportFiles | undefined {
  if (!existsSync(dir)) return undefined;
  const candidates = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'report.md')))
    .map((e) => ({ name: e.name, mtimeMs: statSync(path.join(dir, e.name, 'report.md')).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  const newest = candidates[0];
  if (!newest) return undefined;
  const folder = path.join(dir, newest.name);
  const md = readFileSync(path.join(folder, 'report.md'), 'utf8');
  const lines = md.split('\n');
  const results = lines.indexOf('## Results');
  const tableEnd = results < 0 ? -1 : lines.findIndex((l, i) => i > results + 4 && !l.startsWith('|'));
  const summary = [lines[2] ?? '', '', ...(results < 0 ? [] : lines.slice(results + 1, tableEnd < 0 ? undefined : tableEnd))].join('\n');
  const file = (name: string) => (existsSync(path.join(folder, name)) ? path.join(folder, name) : undefined);
  return { name: newest.name, dir: folder, writtenAt: new Date(newest.mtimeMs).toISOString(), summary, equity: file('equity.svg'), drawdown: file('drawdown.svg') };
}

/** The newest walk-forward run (`kestrel walk-forward` writes walk-forward.json into a folder of `dir`); an unreadable file says why. */
export function latestWalkForward(dir: string): { name: string; summary?: WalkForwardSummary; error?: string } | undefined {
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'walk-forward.json')))
    .map((e) => ({ name: e.name, mtimeMs: statSync(path.join(dir, e.name, 'walk-forward.json')).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  if (!newest) return undefined;
  try {
    const parsed = walkForwardSummarySchema.safeParse(JSON.parse(readFileSync(path.join(dir, newest.name, 'walk-forward.json'), 'utf8')));
    return parsed.success ? { name: newest.name, summary: parsed.data } : { name: newest.name, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  } catch (e) {
    return { name: newest.name, error: (e as Error).message };
  }
}

/** The newest reconciliation run that found differences (reconciliation_events holds differences only; clean runs leave no row). */
export async function lastReconciliation(db: Database): Promise<{ runId: string; venue: string; trigger: string; at: string; differences: number } | undefined> {
  const rows = (await db.execute(sql`
    select run_id, venue, trigger, max(at) as at, count(*)::int as differences
    from reconciliation_events where run_id = (select run_id from reconciliation_events order by at desc, id desc limit 1)
    group by 1, 2, 3`)) as unknown as { run_id: string; venue: string; trigger: string; at: Date | string; differences: number }[];
  const r = rows[0];
  return r && { runId: r.run_id, venue: r.venue, trigger: r.trigger, at: new Date(r.at).toISOString(), differences: r.differences };
}
