import type { BacktestConfig, SignalRule } from '../backtest/backtester';
import type { Dec } from '../decimal';
import { ONE_DOLLAR, priceText } from '../fixed-point';
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

/** Evaluates the rule at the book's own time (its newest event); `lastSignalMs` enforces the cooldown. */
export function momentumSignal(
  market: string,
  book: BinaryOrderBook,
  history: Pick<PriceRing, 'midAtOrBefore'>,
  closeTimeMs: number,
  lastSignalMs: number,
  params: MomentumParams = DEFAULT_MOMENTUM,
): (Omit<EntrySignal, 'closeTimeMs'> & { firedAtMs: number }) | undefined {
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
    signalId: `${market}@${now}`,
    market,
    outcome,
    modelProbability: priceText(probability),
    ask: priceText(ask),
    reason: `mid moved ${priceText(Math.abs(move))} in ${params.lookbackMs / 1000}s`,
    type: 'momentum',
    firedAtMs: now,
  };
}

/** The momentum rule as a backtest signal rule (cooldown per market). */
export function momentumRule(params: MomentumParams = DEFAULT_MOMENTUM): SignalRule {
  const last = new Map<string, number>();
  return ({ market, store, info }) => {
    const state = store.markets.get(market);
    if (!state) return undefined;
    const found = momentumSignal(market, state.book, state.history, info.closeTimeMs, last.get(market) ?? -Infinity, params);
    if (found) last.set(market, found.firedAtMs);
    return found;
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
