import { configuredFees, withConfiguredTakerFee } from '../config/fees';
import type { KestrelConfig } from '../config/schema';
import { Backtester, type BacktestConfig, type BacktestResult, type SignalRule } from '../domain/backtest/backtester';
import { monteCarlo, performance, performanceBy, tradesOf, type PerformanceMetrics, type TradeRecord } from '../domain/backtest/metrics';
import { Dec } from '../domain/decimal';
import type { UnitEvent } from '../domain/market-data/events';
import { seededRandom } from '../domain/random';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { momentumStrategy } from '../domain/strategies/momentum';
import type { MarketInfo } from '../domain/backtest/backtester';

export function backtestConfig(config: KestrelConfig, strategy = momentumStrategy(config)): BacktestConfig {
  return {
    ...strategy,
    // The recordings carry no fee terms: every market trades at the configured rate.
    rules: withConfiguredTakerFee(strategy.rules, config),
    risk: config.risk,
    fees: configuredFees(config),
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
  // Every position's fees, traded out or not; a group's row counts its own trades' fees.
  const fees = result.positions.reduce((n, p) => n.plus(p.fees), new Dec(0));
  const span = result.startMs !== undefined && result.endMs !== undefined ? { startMs: result.startMs, endMs: result.endMs } : undefined;
  return {
    result,
    trades,
    metrics: performance(trades, opts.capital, fees, span),
    bySignalType: performanceBy(trades, (t) => t.signalType, opts.capital, span),
    byCategory: performanceBy(trades, (t) => t.category, opts.capital, span),
    monteCarlo: monteCarlo(trades, opts.capital, opts.monteCarloRuns ?? 1000, seededRandom(42)),
    elapsedMs: performance_now() - started,
  };
}

const performance_now = () => globalThis.performance.now();
