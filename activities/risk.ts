import type { Database } from '../db/client';
import { heldPositions, recordRiskEvent, withRiskState } from '../db/risk-repo';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import { Dec } from '../domain/decimal';
import { checkEntry, evaluateBreakers, recordClosedPosition, recordVenueRequest, type RiskDecision, type RiskLimits, type RiskState } from '../domain/risk/risk-manager';

export interface RiskDeps {
  db: Database;
  limits: RiskLimits;
  clock: Clock;
  /** When market data for a market last arrived (local clock), for the staleness rule: this process's books, or the owner's published top when another process holds them. */
  lastMarketDataMs: (market: string) => number | undefined | Promise<number | undefined>;
  alert?: AlertSink;
  /** A closed position losing at least this much raises an alert. */
  largeLossDollars?: Dec;
  /** Drives every open position to a CRITICAL exit (flatten-all) when a breaker halts trading. */
  flatten?: (reason: string) => Promise<string[]>;
}

export function createRiskActivities(deps: RiskDeps) {
  const record = (kind: string, rule: string, reason: string, extra: { positionId?: string; market?: string; details?: unknown } = {}) =>
    recordRiskEvent(deps.db, { kind, rule, reason, ...extra }, deps.clock.nowMs());

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
      const held = await heldPositions(deps.db, input.positionId);
      const lastDataMs = await deps.lastMarketDataMs(input.market);
      const decision = await withRiskState(deps.db, now, (state) => checkEntry(state, deps.limits, now, { ...input, cost: new Dec(input.cost) }, held, lastDataMs));
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
