import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { inTransaction } from '../db/transactions';
import { positions, riskEvents, riskState } from '../db/schema';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import { Dec } from '../domain/decimal';
import { checkEntry, evaluateBreakers, initialRiskState, recordClosedPosition, recordVenueRequest, resetBreakers, rollTradingDay, type RiskDecision, type RiskLimits, type RiskState } from '../domain/risk/risk-manager';

export interface RiskDeps {
  db: Database;
  limits: RiskLimits;
  clock: Clock;
  /** When market data for a market last arrived (local clock), for the staleness rule. */
  lastMarketDataMs: (market: string) => number | undefined;
  alert?: AlertSink;
  /** A closed position losing at least this much raises an alert. */
  largeLossDollars?: Dec;
  /** Drives every open position to a CRITICAL exit (flatten-all) when a breaker halts trading. */
  flatten?: (reason: string) => Promise<string[]>;
}

/** Paper and live trading keep separate risk states. */
export const PAPER_SCOPE = 'paper';
type StoredState = Omit<RiskState, 'dailyPnl'> & { dailyPnl: string };
const toStored = (s: RiskState): StoredState => ({ ...s, dailyPnl: s.dailyPnl.toString() });
const fromStored = (s: StoredState): RiskState => ({ ...s, dailyPnl: new Dec(s.dailyPnl) });

/** Reads and updates the shared risk state under a row lock, so every worker process sees one state. */
async function withRiskState<T>(db: Database, nowMs: number, fn: (state: RiskState) => T, scope = PAPER_SCOPE): Promise<T> {
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

export function createRiskActivities(deps: RiskDeps) {
  const record = (kind: string, rule: string, reason: string, extra: { positionId?: string; market?: string; details?: unknown } = {}) =>
    deps.db.insert(riskEvents).values({ kind, rule, reason, positionId: extra.positionId ?? null, market: extra.market ?? null, details: extra.details ?? null, at: new Date(deps.clock.nowMs()) });

  /** Records and alerts each newly tripped breaker; a breaker that halts trading flattens every open position. */
  const afterTrips = async ({ tripped, state }: { tripped: string[]; state: RiskState }, positionId?: string): Promise<string[]> => {
    for (const breaker of tripped) {
      const reason = state.tripped.find((t) => t.breaker === breaker)?.reason ?? breaker;
      await record('breaker_trip', breaker, reason, { positionId, details: { mode: state.mode } });
      deps.alert?.({ kind: breaker === 'stale_market_data' ? 'stale_data' : 'breaker', severity: state.mode === 'HALTED' ? 'critical' : 'warning', title: `circuit breaker ${breaker} tripped`, detail: `${reason}; trading mode ${state.mode}${positionId ? ` (after ${positionId})` : ''}`, key: breaker });
    }
    if (tripped.length > 0 && state.mode === 'HALTED' && deps.flatten) {
      const flattened = await deps.flatten(`circuit breaker ${tripped.join(', ')}`);
      await record('flatten_all', tripped.join(','), `trading HALTED: ${flattened.length} positions driven to CRITICAL exit`, { details: { positions: flattened } });
    }
    return tripped;
  };

  return {
    /** Pre-trade check for new exposure; a denial is recorded with its rule and reason and returned, never thrown. */
    async checkEntryRisk(input: { positionId: string; market: string; cost: string; closeTimeMs: number }): Promise<RiskDecision> {
      const now = deps.clock.nowMs();
      const open = await deps.db
        .select({ positionId: positions.positionId, market: positions.marketTicker, remaining: positions.remainingSize, entry: positions.entryPrice })
        .from(positions)
        .where(and(inArray(positions.status, ['entering', 'open', 'exiting']), ne(positions.positionId, input.positionId)));
      const held = open.map((o) => ({ positionId: o.positionId, market: o.market, remaining: new Dec(o.remaining), entryPrice: o.entry ? new Dec(o.entry) : undefined }));
      const decision = await withRiskState(deps.db, now, (state) => checkEntry(state, deps.limits, now, { ...input, cost: new Dec(input.cost) }, held, deps.lastMarketDataMs(input.market)));
      if (!decision.allowed) await record('denial', decision.rule, decision.reason, { positionId: input.positionId, market: input.market, details: { cost: input.cost } });
      return decision;
    },

    /** Counts a venue request outcome for the error-rate breaker (REDUCING above the limit). */
    async recordVenueRequest(failed: boolean): Promise<string[]> {
      const now = deps.clock.nowMs();
      return withRiskState(deps.db, now, (state) => ({ tripped: recordVenueRequest(state, failed, deps.limits, now), state })).then(afterTrips);
    },

    /**
     * Markets whose data went quiet with positions open (the stale-data watch): their last data
     * times go into the state, and the stale-data breaker trips (recorded and alerted) once.
     */
    async recordStaleMarketData(input: { markets: { market: string; lastDataMs: number }[] }): Promise<string[]> {
      const now = deps.clock.nowMs();
      const outcome = await withRiskState(deps.db, now, (state) => {
        for (const { market, lastDataMs } of input.markets) state.lastMarketDataMs[market] = lastDataMs;
        return { tripped: evaluateBreakers(state, deps.limits, now, input.markets.map((m) => m.market)), state };
      });
      return afterTrips(outcome);
    },

    /** Folds a finished position into daily P&L and the loss streak; trips and records breakers. */
    async recordPositionClosed(input: { positionId: string; realizedPnl: string }): Promise<string[]> {
      const now = deps.clock.nowMs();
      const pnl = new Dec(input.realizedPnl);
      if (deps.largeLossDollars && pnl.lte(deps.largeLossDollars.negated()) && !pnl.isZero()) {
        deps.alert?.({ kind: 'large_loss', severity: 'warning', title: `large loss on ${input.positionId}`, detail: `realized P&L ${pnl.toFixed(4)} (alert threshold -${deps.largeLossDollars.toFixed(2)})`, key: input.positionId });
      }
      const outcome = await withRiskState(deps.db, now, (state) => ({ tripped: recordClosedPosition(state, pnl, deps.limits, now), state }));
      return afterTrips(outcome, input.positionId);
    },
  };
}

export async function readRiskState(db: Database, nowMs: number): Promise<RiskState> {
  return withRiskState(db, nowMs, (s) => s);
}

export async function resetRiskState(db: Database, reason: string, nowMs: number): Promise<void> {
  await withRiskState(db, nowMs, (s) => resetBreakers(s));
  await db.insert(riskEvents).values({ kind: 'reset', rule: 'operator', reason, at: new Date(nowMs) });
}
