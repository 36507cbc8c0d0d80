import type { KestrelConfig } from '../config/schema';
import { Backtester } from '../domain/backtest/backtester';
import { performance, performanceBy, tradesOf, type TradeRecord } from '../domain/backtest/metrics';
import { fitWeightsOnEvents, signalEngineRule } from '../domain/backtest/signal-engine-rule';
import { marketsByDay, walkForwardFolds } from '../domain/backtest/walk-forward';
import { Dec } from '../domain/decimal';
import type { UnitEvent } from '../domain/market-data/events';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import type { SignalWeight } from '../domain/signals/performance';
import { actionableRules, createSignalEngine } from '../domain/signals/settings';
import { momentumStrategy } from '../domain/strategies/momentum';
import { backtestConfig, runBacktest, type BacktestSummary } from './gold-backtest';
import { eventsOfDays, type RecordedWindow } from './recorded-data';

/** The signal-engine strategy: the demo strategy's sizing and exits, entries from actionable engine signals. */
export function signalStrategyConfig(config: KestrelConfig) {
  return backtestConfig(config, { ...momentumStrategy(config), strategyId: 'signals-gold' });
}

function fit(config: KestrelConfig, window: RecordedWindow, events: readonly UnitEvent[]) {
  return fitWeightsOnEvents({ engine: createSignalEngine(config.signals), events, info: window.info, horizonMs: config.retraining.horizonMs, priorCount: config.signals.weightPriorCount, history: { capacity: config.marketData.historyCapacity, sampleMs: config.marketData.historySampleMs } });
}

async function trade(config: KestrelConfig, window: RecordedWindow, events: UnitEvent[], weights: readonly SignalWeight[]) {
  const rule = signalEngineRule(createSignalEngine(config.signals), weights, actionableRules(config.signals));
  const result = await new Backtester(signalStrategyConfig(config), window.info, rule).run(events);
  return { result, trades: tradesOf(result, kalshiCategory), detected: rule.detected.length };
}

/**
 * A backtest of the signal engine's strategy that cannot see its own future: weights are fitted on
 * the first `trainDays` recorded days (signal outcomes measured on that data alone) and traded on
 * the days after.
 */
export async function runSignalBacktest(opts: { config: KestrelConfig; window: RecordedWindow; trainDays: number; onProgress?: (done: number, total: number) => void }): Promise<BacktestSummary & { weights: SignalWeight[]; trainDays: string[]; testDays: string[]; trainSignals: number }> {
  const byDay = marketsByDay(opts.window.info);
  const days = [...byDay.keys()];
  if (opts.trainDays >= days.length) throw new Error(`the recording has ${days.length} days: training on ${opts.trainDays} leaves none to trade`);
  const trainDays = days.slice(0, opts.trainDays);
  const testDays = days.slice(opts.trainDays);
  const fitted = fit(opts.config, opts.window, eventsOfDays(opts.window, byDay, trainDays));
  const testEvents = eventsOfDays(opts.window, byDay, testDays);
  const rule = signalEngineRule(createSignalEngine(opts.config.signals), fitted.weights, actionableRules(opts.config.signals));
  const summary = await runBacktest({ config: signalStrategyConfig(opts.config), capital: opts.config.risk.capital, events: testEvents, info: opts.window.info, rule, onProgress: opts.onProgress });
  return { ...summary, weights: fitted.weights, trainDays, testDays, trainSignals: fitted.signals };
}

/** Walk-forward of the signal strategy: per fold, fit weights on the training days, trade them in and out of sample. */
export async function signalWalkForward(opts: { config: KestrelConfig; window: RecordedWindow; trainDays: number; testDays: number; onFold?: (done: number, total: number) => void }) {
  const byDay = marketsByDay(opts.window.info);
  const folds = walkForwardFolds([...byDay.keys()], opts.trainDays, opts.testDays);
  if (folds.length === 0) throw new Error(`${byDay.size} days cannot hold a ${opts.trainDays}-day training window and a ${opts.testDays}-day test window`);
  const capital = opts.config.risk.capital;
  const out = [];
  const outOfSampleTrades: TradeRecord[] = [];
  for (const [k, fold] of folds.entries()) {
    const trainEvents = eventsOfDays(opts.window, byDay, fold.train);
    const fitted = fit(opts.config, opts.window, trainEvents);
    const inSample = await trade(opts.config, opts.window, trainEvents, fitted.weights);
    const outOfSample = await trade(opts.config, opts.window, eventsOfDays(opts.window, byDay, fold.test), fitted.weights);
    outOfSampleTrades.push(...outOfSample.trades);
    const pnl = (t: TradeRecord[]) => t.reduce((n, x) => n.plus(x.pnl), new Dec(0)).toNumber();
    out.push({ ...fold, weights: fitted.weights, inSample: (pnl(inSample.trades) * opts.testDays) / opts.trainDays, outOfSample: pnl(outOfSample.trades), trades: { inSample: inSample.trades.length, outOfSample: outOfSample.trades.length } });
    opts.onFold?.(k + 1, folds.length);
  }
  const inSampleTotal = out.reduce((a, f) => a + f.inSample, 0);
  const outOfSampleTotal = out.reduce((a, f) => a + f.outOfSample, 0);
  return { folds: out, inSampleTotal, outOfSampleTotal, efficiency: inSampleTotal !== 0 ? outOfSampleTotal / inSampleTotal : null, outOfSample: performance(outOfSampleTrades, capital), outOfSampleBySignalType: performanceBy(outOfSampleTrades, (t) => t.signalType, capital) };
}
