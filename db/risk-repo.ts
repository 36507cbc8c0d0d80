import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from './client';
import { inTransaction } from './transactions';
import { positions, riskEvents, riskState } from './schema';
import { Dec } from '../domain/decimal';
import { initialRiskState, resetBreakers, rollTradingDay, type HeldPosition, type RiskState } from '../domain/risk/risk-manager';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';

/** Paper and live trading keep separate risk states. */
export const PAPER_SCOPE = 'paper';
type StoredState = Omit<RiskState, 'dailyPnl'> & { dailyPnl: string };
const toStored = (s: RiskState): StoredState => ({ ...s, dailyPnl: s.dailyPnl.toString() });
const fromStored = (s: StoredState): RiskState => ({ ...s, dailyPnl: new Dec(s.dailyPnl) });

export interface RiskEvent {
  kind: string;
  rule: string;
  reason: string;
  positionId?: string;
  market?: string;
  details?: unknown;
}

/**
 * Reads and updates the shared risk state under a row lock, so every worker process sees one state;
 * `fn` changes the state in place (after the trading day rolled) and its result is returned.
 */
export async function withRiskState<T>(db: Database, nowMs: number, fn: (state: RiskState) => T, scope = PAPER_SCOPE): Promise<T> {
  return inTransaction(db, async (tx) => {
    await tx.insert(riskState).values({ scope, state: toStored(initialRiskState()) }).onConflictDoNothing();
    const [row] = await tx.select().from(riskState).where(eq(riskState.scope, scope)).for('update');
    const state = fromStored(row!.state as StoredState);
    rollTradingDay(state, nowMs);
    const result = fn(state);
    await tx.update(riskState).set({ state: sql`${JSON.stringify(toStored(state))}::jsonb`, updatedAt: new Date() }).where(eq(riskState.scope, scope));
    return result;
  });
}

/** A denial, breaker trip, flatten or reset, for the audit trail. */
export async function recordRiskEvent(db: Database, event: RiskEvent, atMs: number): Promise<void> {
  await db.insert(riskEvents).values({ kind: event.kind, rule: event.rule, reason: event.reason, positionId: event.positionId ?? null, market: event.market ?? null, details: event.details ?? null, at: new Date(atMs) });
}

/** Every open position except `exceptPositionId` (the one asking for exposure, if any). */
export async function heldPositions(db: Database, exceptPositionId = ''): Promise<HeldPosition[]> {
  const open = await db
    .select({ positionId: positions.positionId, market: positions.marketTicker, remaining: positions.remainingSize, entry: positions.entryPrice })
    .from(positions)
    .where(and(inArray(positions.status, [...OPEN_STATUSES]), ne(positions.positionId, exceptPositionId)));
  return open.map((o) => ({ positionId: o.positionId, market: o.market, remaining: new Dec(o.remaining), ...(o.entry ? { entryPrice: new Dec(o.entry) } : {}) }));
}

export async function readRiskState(db: Database, nowMs: number): Promise<RiskState> {
  return withRiskState(db, nowMs, (s) => s);
}

/** Clears the breakers (operator action), recorded with its reason. */
export async function resetRiskState(db: Database, reason: string, nowMs: number): Promise<void> {
  await withRiskState(db, nowMs, (s) => resetBreakers(s));
  await recordRiskEvent(db, { kind: 'reset', rule: 'operator', reason }, nowMs);
}
