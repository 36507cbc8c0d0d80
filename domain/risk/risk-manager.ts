import { z } from 'zod';
import { Dec, fractionDecimal, nonNegativeDecimal } from '../decimal';
import { kalshiEvent } from '../market-data/kalshi-tickers';

/** The risk manager's limits and their defaults; config's `risk` section is this schema itself. */
export const riskLimitsSchema = z.object({
  capital: nonNegativeDecimal('capital').prefault('10000'),
  maxPositionFraction: fractionDecimal('maxPositionFraction').prefault('0.10'),
  maxTotalExposureFraction: fractionDecimal('maxTotalExposureFraction').prefault('0.30'),
  maxConcurrentPositions: z.number().int().min(0).prefault(5),
  maxMarketExposureFraction: fractionDecimal('maxMarketExposureFraction').prefault('0.10'),
  maxEventExposureFraction: fractionDecimal('maxEventExposureFraction').prefault('0.20'),
  /** No new exposure this close to settlement. */
  noEntryBeforeCloseMs: z.number().int().nonnegative().prefault(120_000),
  dailyLossLimitFraction: fractionDecimal('dailyLossLimitFraction').prefault('0.05'),
  maxConsecutiveLosses: z.number().int().min(1).prefault(5),
  maxVenueErrorRate: fractionDecimal('maxVenueErrorRate').prefault('0.10'),
  minVenueRequestsForErrorRate: z.number().int().min(1).prefault(20),
  staleDataMs: z.number().int().positive().prefault(15_000),
});
export type RiskLimits = z.output<typeof riskLimitsSchema>;

export type TradingMode = 'ACTIVE' | 'REDUCING' | 'HALTED';
export type BreakerName = 'daily_loss' | 'consecutive_losses' | 'venue_error_rate' | 'stale_market_data';

export interface OpenExposure {
  positionId: string;
  market: string;
  event: string;
  /** Cost basis of what is held (contracts × entry price). */
  exposure: Dec;
}

export interface RiskState {
  /** UTC trading day the daily figures belong to; a new day starts them afresh. */
  tradingDay?: string;
  mode: TradingMode;
  /** Realized P&L since the start of the trading day. */
  dailyPnl: Dec;
  consecutiveLosses: number;
  venueRequests: number;
  venueErrors: number;
  /** Newest market-data timestamp per market. */
  lastMarketDataMs: Record<string, number>;
  tripped: { breaker: BreakerName; reason: string; atMs: number }[];
}

export interface OrderIntent {
  market: string;
  event: string;
  /** Cost of the order if filled: contracts × limit price. */
  cost: Dec;
  closeTimeMs: number;
  /** Exits and reductions are always allowed; only new exposure is checked. */
  reducesExposure: boolean;
}

export type RiskDecision = { allowed: true } | { allowed: false; rule: string; reason: string };

/** A position already held, as the entry check sees it. */
export interface HeldPosition {
  positionId: string;
  market: string;
  remaining: Dec;
  entryPrice?: Dec;
}

/** What a held position counts for against the exposure limits: its cost basis (nothing before its entry filled). */
export function heldExposure(p: HeldPosition): Dec {
  return p.entryPrice ? p.remaining.times(p.entryPrice) : new Dec(0);
}

/**
 * The pre-trade check of a new entry, for the trading activity (state in Postgres) and the
 * backtester (state in memory) alike: note the market's newest data time, value what is already
 * held per market and per Kalshi event, and check the order.
 */
export function checkEntry(
  state: RiskState,
  limits: RiskLimits,
  nowMs: number,
  entry: { positionId: string; market: string; cost: Dec; closeTimeMs: number },
  held: readonly HeldPosition[],
  lastMarketDataMs: number | undefined,
): RiskDecision {
  if (lastMarketDataMs !== undefined && Number.isFinite(lastMarketDataMs)) state.lastMarketDataMs[entry.market] = lastMarketDataMs;
  const exposures: OpenExposure[] = held
    .filter((p) => p.positionId !== entry.positionId)
    .map((p) => ({ positionId: p.positionId, market: p.market, event: kalshiEvent(p.market), exposure: heldExposure(p) }));
  return checkOrder({ market: entry.market, event: kalshiEvent(entry.market), cost: entry.cost, closeTimeMs: entry.closeTimeMs, reducesExposure: false }, exposures, state, limits, nowMs);
}

export function initialRiskState(): RiskState {
  return { mode: 'ACTIVE', dailyPnl: new Dec(0), consecutiveLosses: 0, venueRequests: 0, venueErrors: 0, lastMarketDataMs: {}, tripped: [] };
}

/**
 * Pre-trade checks (pure): every order is judged against the limits and the trading mode. A denial
 * is a decision with its rule and reason, to be recorded, never an exception.
 */
export function checkOrder(intent: OrderIntent, open: readonly OpenExposure[], state: RiskState, limits: RiskLimits, nowMs: number): RiskDecision {
  const deny = (rule: string, reason: string): RiskDecision => ({ allowed: false, rule, reason });
  // Getting out is never blocked, whatever the mode.
  if (intent.reducesExposure) return { allowed: true };
  if (state.mode !== 'ACTIVE') return deny('trading_mode', `trading mode is ${state.mode}: no new exposure`);
  const capital = limits.capital;
  const lastData = state.lastMarketDataMs[intent.market];
  if (lastData === undefined || nowMs - lastData > limits.staleDataMs) return deny('stale_market_data', `market data for ${intent.market} is ${lastData === undefined ? 'missing' : `${nowMs - lastData} ms old`} (limit ${limits.staleDataMs} ms)`);
  if (intent.closeTimeMs - nowMs < limits.noEntryBeforeCloseMs) return deny('near_settlement', `${Math.max(0, intent.closeTimeMs - nowMs)} ms to close (no entries within ${limits.noEntryBeforeCloseMs} ms)`);
  if (open.length >= limits.maxConcurrentPositions) return deny('max_concurrent_positions', `${open.length} positions open (max ${limits.maxConcurrentPositions})`);
  const maxPosition = capital.times(limits.maxPositionFraction);
  if (intent.cost.gt(maxPosition)) return deny('max_position_size', `order cost ${intent.cost.toFixed(2)} > ${maxPosition.toFixed(2)} (${limits.maxPositionFraction.times(100)}% of capital)`);
  const sum = (xs: readonly OpenExposure[]) => xs.reduce((n, x) => n.plus(x.exposure), new Dec(0));
  const total = sum(open).plus(intent.cost);
  const maxTotal = capital.times(limits.maxTotalExposureFraction);
  if (total.gt(maxTotal)) return deny('max_total_exposure', `total exposure ${total.toFixed(2)} > ${maxTotal.toFixed(2)}`);
  const market = sum(open.filter((o) => o.market === intent.market)).plus(intent.cost);
  const maxMarket = capital.times(limits.maxMarketExposureFraction);
  if (market.gt(maxMarket)) return deny('max_market_exposure', `exposure in ${intent.market} ${market.toFixed(2)} > ${maxMarket.toFixed(2)}`);
  const event = sum(open.filter((o) => o.event === intent.event)).plus(intent.cost);
  const maxEvent = capital.times(limits.maxEventExposureFraction);
  if (event.gt(maxEvent)) return deny('max_event_exposure', `exposure in event ${intent.event} ${event.toFixed(2)} > ${maxEvent.toFixed(2)}`);
  return { allowed: true };
}

/** Folds a closed position's P&L into the state and trips breakers; returns breakers newly tripped. */
export function recordClosedPosition(state: RiskState, pnl: Dec, limits: RiskLimits, nowMs: number): BreakerName[] {
  state.dailyPnl = state.dailyPnl.plus(pnl);
  state.consecutiveLosses = pnl.isNegative() ? state.consecutiveLosses + 1 : 0;
  return evaluateBreakers(state, limits, nowMs);
}

export function recordVenueRequest(state: RiskState, failed: boolean, limits: RiskLimits, nowMs: number): BreakerName[] {
  state.venueRequests++;
  if (failed) state.venueErrors++;
  return evaluateBreakers(state, limits, nowMs);
}

/**
 * Circuit breakers: daily loss and consecutive losses halt trading; a venue error rate above the
 * limit or stale market data switch to REDUCING (exits only). Each trip is recorded once.
 */
export function evaluateBreakers(state: RiskState, limits: RiskLimits, nowMs: number, openMarkets: readonly string[] = []): BreakerName[] {
  const newly: BreakerName[] = [];
  const trip = (breaker: BreakerName, reason: string, mode: TradingMode) => {
    if (state.tripped.some((t) => t.breaker === breaker)) return;
    state.tripped.push({ breaker, reason, atMs: nowMs });
    newly.push(breaker);
    if (mode === 'HALTED' || state.mode === 'ACTIVE') state.mode = mode;
  };
  const lossLimit = limits.capital.times(limits.dailyLossLimitFraction).neg();
  if (state.dailyPnl.lte(lossLimit)) trip('daily_loss', `daily P&L ${state.dailyPnl.toFixed(2)} <= ${lossLimit.toFixed(2)}`, 'HALTED');
  if (state.consecutiveLosses >= limits.maxConsecutiveLosses) trip('consecutive_losses', `${state.consecutiveLosses} losses in a row`, 'HALTED');
  if (state.venueRequests >= limits.minVenueRequestsForErrorRate) {
    const rate = new Dec(state.venueErrors).div(state.venueRequests);
    if (rate.gt(limits.maxVenueErrorRate)) trip('venue_error_rate', `venue error rate ${rate.times(100).toFixed(1)}% > ${limits.maxVenueErrorRate.times(100)}%`, 'REDUCING');
  }
  for (const market of openMarkets) {
    const last = state.lastMarketDataMs[market];
    if (last === undefined || nowMs - last > limits.staleDataMs) trip('stale_market_data', `no market data for ${market} for ${last === undefined ? 'ever' : `${nowMs - last} ms`}`, 'REDUCING');
  }
  return newly;
}

/** An operator resets breakers (e.g. at the start of a new trading day). */
export function resetBreakers(state: RiskState): void {
  state.tripped = [];
  state.mode = 'ACTIVE';
  state.dailyPnl = new Dec(0);
  state.consecutiveLosses = 0;
  state.venueRequests = 0;
  state.venueErrors = 0;
}

/** At the first decision of a new UTC day, daily figures and breakers start over. */
export function rollTradingDay(state: RiskState, nowMs: number): boolean {
  const today = new Date(nowMs).toISOString().slice(0, 10);
  if (state.tradingDay === today) return false;
  const first = state.tradingDay === undefined;
  resetBreakers(state);
  state.tradingDay = today;
  return !first;
}
