import type { KestrelConfig } from '../config/schema';
import { riskLimitsFrom } from '../config/risk-limits';
import { Backtester, type BacktestConfig, type BacktestResult, type SignalRule } from '../domain/backtest/backtester';
import { monteCarlo, performance, performanceBy, tradesOf, type PerformanceMetrics, type TradeRecord } from '../domain/backtest/metrics';
import { Dec } from '../domain/decimal';
import type { UnitEvent } from '../domain/market-data/events';
import { seededRandom } from '../domain/random';
import { riskLimitsSchema } from '../domain/risk/risk-manager';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { DEFAULT_MOMENTUM, momentumSignal, type MomentumParams } from '../domain/strategies/momentum';
import type { MarketInfo } from '../domain/backtest/backtester';

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

/**
 * The demo strategy. Timings are in market time; a sped-up paper replay passes `scale` (market ms →
 * wall ms) and a faster polling cadence, the backtester runs it as is.
 */
export function momentumStrategy(
  config: KestrelConfig,
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
      takerFeeRate: config.fees.kalshiTakerRate.toString(),
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

export function backtestConfig(config: KestrelConfig, strategy = momentumStrategy(config)): BacktestConfig {
  return {
    ...strategy,
    risk: riskLimitsSchema.parse(riskLimitsFrom(config)),
    fees: { takerRate: config.fees.kalshiTakerRate, makerRate: config.fees.kalshiMakerRate, seriesMultiplier: config.paper.seriesFeeMultiplier },
    history: { capacity: config.marketData.historyCapacity, sampleMs: config.marketData.historySampleMs },
    latencyMs: config.paper.latencyMs,
  };
}

export interface BacktestSummary {
  result: BacktestResult;
  trades: TradeRecord[];
  metrics: PerformanceMetrics;
  bySignalType: Record<string, PerformanceMetrics>;
  byCategory: Record<string, PerformanceMetrics>;
  monteCarlo: ReturnType<typeof monteCarlo>;
  elapsedMs: number;
}

export async function runBacktest(opts: { config: BacktestConfig; capital: Dec; events: Iterable<UnitEvent> & { readonly length: number }; info: Map<string, MarketInfo>; rule: SignalRule; onProgress?: (done: number, total: number) => void; monteCarloRuns?: number }): Promise<BacktestSummary> {
  const started = performance_now();
  const bt = new Backtester(opts.config, opts.info, opts.rule);
  const result = await bt.run(opts.events, (n) => opts.onProgress?.(n, opts.events.length));
  opts.onProgress?.(opts.events.length, opts.events.length);
  const trades = tradesOf(result, kalshiCategory);
  const fees = result.positions.reduce((n, p) => n.plus(p.fees), new Dec(0));
  return {
    result,
    trades,
    metrics: performance(trades, opts.capital, fees),
    bySignalType: performanceBy(trades, (t) => t.signalType, opts.capital),
    byCategory: performanceBy(trades, (t) => t.category, opts.capital),
    monteCarlo: monteCarlo(trades, opts.capital, opts.monteCarloRuns ?? 1000, seededRandom(42)),
    elapsedMs: performance_now() - started,
  };
}

const performance_now = () => globalThis.performance.now();
