import type { BacktestConfig, SignalRule } from '../backtest/backtester';
import { Dec } from '../decimal';
import { ONE_DOLLAR, PRICE_SCALE, priceText } from '../fixed-point';
import type { BinaryOrderBook } from '../market-data/order-book';
import type { PriceRing } from '../market-data/price-history';
import type { EntrySignal } from '../trading/strategy-rules';

/**
 * The momentum rule of the demo strategy: the outcome whose mid rose at least `minMove` over the
 * lookback gets a signal, with a probability of its mid plus half the move. It is a plain rule, not
 * a tuned edge; it is here so paper trading, backtests and the parity test run the same decisions.
 */
export interface MomentumParams {
  lookbackMs: number;
  /** Price units ($0.0001). */
  minMove: number;
  maxSpread: number;
  cooldownMs: number;
  minTimeLeftMs: number;
}

export const DEFAULT_MOMENTUM: MomentumParams = { lookbackMs: 60_000, minMove: 600, maxSpread: 300, cooldownMs: 120_000, minTimeLeftMs: 180_000 };

/** A momentum signal with what it was computed from (price units), for its `signals` row. */
export interface MomentumDetection {
  signal: Omit<EntrySignal, 'closeTimeMs'> & { firedAtMs: number };
  /** YES mid when it fired and its move over the lookback (signed, price units). */
  midAtFire: number;
  move: number;
}

export const MOMENTUM_SIGNAL_TYPE = 'momentum';

/** Evaluates the rule at the book's own time (its newest event); `lastSignalMs` enforces the cooldown. */
export function detectMomentum(
  market: string,
  book: BinaryOrderBook,
  history: Pick<PriceRing, 'midAtOrBefore'>,
  closeTimeMs: number,
  lastSignalMs: number,
  params: MomentumParams = DEFAULT_MOMENTUM,
): MomentumDetection | undefined {
  if (book.stale) return undefined;
  const now = book.lastUpdateMs;
  if (closeTimeMs - now < params.minTimeLeftMs || now - lastSignalMs < params.cooldownMs) return undefined;
  const top = book.top();
  if (!top.yesBid || !top.yesAsk || top.yesAsk.price - top.yesBid.price > params.maxSpread) return undefined;
  const then = history.midAtOrBefore(now - params.lookbackMs);
  if (then === undefined) return undefined;
  const mid = (top.yesBid.price + top.yesAsk.price) / 2;
  const move = mid - then;
  if (Math.abs(move) < params.minMove) return undefined;
  const outcome = move > 0 ? 'yes' : 'no';
  const ask = outcome === 'yes' ? top.yesAsk.price : ONE_DOLLAR - top.yesBid.price;
  const outcomeMid = outcome === 'yes' ? mid : ONE_DOLLAR - mid;
  const probability = Math.min(9700, Math.round(outcomeMid + Math.abs(move) / 2));
  return {
    signal: {
      signalId: `${market}@${now}`,
      market,
      outcome,
      modelProbability: priceText(probability),
      ask: priceText(ask),
      reason: `mid moved ${priceText(Math.abs(move))} in ${params.lookbackMs / 1000}s`,
      type: MOMENTUM_SIGNAL_TYPE,
      firedAtMs: now,
    },
    midAtFire: mid,
    move,
  };
}

/** The entry signal of `detectMomentum`, if any. */
export function momentumSignal(
  market: string,
  book: BinaryOrderBook,
  history: Pick<PriceRing, 'midAtOrBefore'>,
  closeTimeMs: number,
  lastSignalMs: number,
  params: MomentumParams = DEFAULT_MOMENTUM,
): (Omit<EntrySignal, 'closeTimeMs'> & { firedAtMs: number }) | undefined {
  return detectMomentum(market, book, history, closeTimeMs, lastSignalMs, params)?.signal;
}

/** The momentum rule as a backtest signal rule (cooldown per market); `onDetected` sees each detection's inputs. */
export function momentumRule(params: MomentumParams = DEFAULT_MOMENTUM, onDetected?: (detection: MomentumDetection) => void): SignalRule {
  const last = new Map<string, number>();
  return ({ market, store, info }) => {
    const state = store.markets.get(market);
    if (!state) return undefined;
    const found = detectMomentum(market, state.book, state.history, info.closeTimeMs, last.get(market) ?? -Infinity, params);
    if (!found) return undefined;
    last.set(market, found.signal.firedAtMs);
    onDetected?.(found);
    return found.signal;
  };
}

/**
 * The momentum rule is the model that admits momentum entries: it has no trained weights, so its
 * model version holds the rule's parameters and one weight of 1 for every momentum signal (any
 * category), in the shape of the signal-weights model's `weights`.
 */
export const MOMENTUM_MODEL = 'momentum-rule';

export function momentumModelParameters(params: MomentumParams = DEFAULT_MOMENTUM) {
  return {
    rule: MOMENTUM_SIGNAL_TYPE,
    params: { ...params },
    weights: [{ type: MOMENTUM_SIGNAL_TYPE, category: '*', weight: 1, note: 'fixed rule: every momentum signal that passes the rule is admitted' }],
  };
}

/**
 * A momentum detection as a `signals` row: strength is the move as a multiple of `minMove`; the
 * rule has no confidence measure of its own, so confidence is 1 (it admits every signal it fires).
 */
export function momentumSignalRow(detection: MomentumDetection, category: string, params: MomentumParams = DEFAULT_MOMENTUM) {
  const { signal } = detection;
  return {
    key: `${MOMENTUM_SIGNAL_TYPE}:${signal.market}:${signal.firedAtMs}`,
    type: MOMENTUM_SIGNAL_TYPE,
    market: signal.market,
    markets: [signal.market],
    category,
    direction: signal.outcome,
    strength: Math.abs(detection.move) / params.minMove,
    confidence: 1,
    priority: 'MEDIUM' as const,
    firedAtMs: signal.firedAtMs,
    midAtFire: detection.midAtFire,
    // Mids (and so moves) can fall on half a price unit: dollars with 5 places.
    inputs: { reason: signal.reason, move: new Dec(detection.move).div(PRICE_SCALE).toFixed(5), ask: signal.ask, modelProbability: signal.modelProbability, params: { ...params } },
  };
}

/** What the demo strategy reads of the configuration (`KestrelConfig` satisfies it); the fee is the run's (`StrategyRules.takerFeeRate`). */
export interface MomentumSettings {
  risk: { capital: Dec };
}

/**
 * The demo strategy. Timings are in market time; a sped-up paper replay passes `scale` (market ms →
 * wall ms) and a faster polling cadence, the backtester runs it as is.
 */
export function momentumStrategy(
  config: MomentumSettings,
  opts: { scale?: (marketMs: number) => number; cadence?: BacktestConfig['position']['cadence'] } = {},
): Pick<BacktestConfig, 'strategyId' | 'rules' | 'position'> {
  const scale = opts.scale ?? ((ms: number) => ms);
  return {
    strategyId: 'momentum-gold',
    rules: {
      minEdge: '0.02',
      maxConcurrent: 3,
      size: '25',
      entrySlippageTicks: 1,
      tick: '0.01',
      entryTimeoutMs: scale(20_000),
      // Quarter Kelly on the capital the risk manager knows, at most 25 contracts.
      sizing: { kind: 'kelly', kellyFraction: '0.25', capital: config.risk.capital.toString() },
    },
    position: {
      cadence: opts.cadence ?? { normalMs: 1000, urgentMs: 250, pollMs: 100, settleTimeoutMs: 600_000 },
      exitConfig: { urgentBeforeCloseMs: scale(60_000), earlyExitBeforeCloseMs: scale(180_000) },
      planConfig: { timeoutsMs: { CRITICAL: scale(2_000), HIGH: scale(5_000), MEDIUM: scale(10_000), LOW: scale(20_000) } },
    },
  };
}
