import type { KestrelConfig } from '../config/schema';
import { signalFitSettings } from '../config/signal-model';
import { Backtester, type BacktestConfig } from '../domain/backtest/backtester';
import { performance, performanceBy, tradesOf, type TradeRecord } from '../domain/backtest/metrics';
import { fitModelOnEvents, signalEngineRule, signalOutcomesOnEvents } from '../domain/backtest/signal-engine-rule';
import { marketsByDay, walkForwardFolds } from '../domain/backtest/walk-forward';
import { Dec } from '../domain/decimal';
import type { UnitEvent } from '../domain/market-data/events';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { fitAndScore, type SignalModelFitSettings } from '../domain/signals/model';
import type { OutcomeRow, SignalWeight } from '../domain/signals/performance';
import { actionableRules, createSignalEngine } from '../domain/signals/settings';
import { momentumStrategy } from '../domain/strategies/momentum';
import { backtestConfig, runBacktest, type BacktestSummary } from './gold-backtest';
import { eventsOfDays, type RecordedWindow } from './recorded-data';

/** The signal-engine strategy: the demo strategy's sizing and exits, entries from actionable engine signals. */
export function signalStrategyConfig(config: KestrelConfig, provenance?: BacktestConfig['provenance']): BacktestConfig {
  return { ...backtestConfig(config, { ...momentumStrategy(config), strategyId: 'signals-gold' }), ...(provenance ? { provenance } : {}) };
}

const historyOf = (config: KestrelConfig) => ({ capacity: config.marketData.historyCapacity, sampleMs: config.marketData.historySampleMs });

function fit(config: KestrelConfig, window: RecordedWindow, events: readonly UnitEvent[]) {
  return fitModelOnEvents({ engine: createSignalEngine(config.signals), events, info: window.info, fit: signalFitSettings(config), history: historyOf(config) });
}

/** Trades the signal strategy over `events` under a model's weights and thresholds; every position records `modelVersionId` when given. */
export async function tradeSignalModel(config: KestrelConfig, window: RecordedWindow, events: UnitEvent[], weights: readonly SignalWeight[], modelVersionId?: number) {
  const rule = signalEngineRule(createSignalEngine(config.signals), weights, actionableRules(config.signals));
  const result = await new Backtester(signalStrategyConfig(config, modelVersionId === undefined ? undefined : { modelVersionId }), window.info, rule).run(events);
  return { result, trades: tradesOf(result, kalshiCategory), detected: rule.detected.length };
}

/**
 * A backtest of the signal engine's strategy that cannot see its own future: thresholds and weights
 * are fitted on the first `trainDays` recorded days (signal outcomes measured on that data alone)
 * and traded on the days after.
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

/**
 * Signal outcomes per recorded day, each measured on that day's markets alone (a market trades and
 * settles within the day it closes; no detector state spans two markets), so a fold's training
 * outcomes are exactly those of its training days.
 */
export function outcomesByDay(config: KestrelConfig, window: RecordedWindow, horizonMs: number): Map<string, { signals: number; outcomes: OutcomeRow[] }> {
  const byDay = marketsByDay(window.info);
  const out = new Map<string, { signals: number; outcomes: OutcomeRow[] }>();
  for (const day of byDay.keys()) {
    const r = signalOutcomesOnEvents({ engine: createSignalEngine(config.signals), events: eventsOfDays(window, byDay, [day]), info: window.info, horizonMs, history: historyOf(config) });
    out.set(day, { signals: r.signals.length, outcomes: r.outcomes });
  }
  return out;
}

export interface SignalFold {
  train: string[];
  test: string[];
  /** Thresholds and weights per signal type × category, fitted on the training days only. */
  weights: SignalWeight[];
  /** Objective (mean P&L after fees per acted-on signal, price units per contract) on the training and test outcomes. */
  edge: { inSample: number; outOfSample: number };
  /** Signals the model acted on, and resolved outcomes, in each window. */
  signals: { inSample: number; outOfSample: number };
  outcomes: { inSample: number; outOfSample: number };
  /** Backtest P&L in dollars (in-sample scaled to the test window's length) and trades of the strategy under the fold's model. */
  inSample: number;
  outOfSample: number;
  trades: { inSample: number; outOfSample: number };
}

/**
 * Walk-forward of the signal model and strategy: per fold, fit thresholds and weights on the training
 * days' outcomes (never the test days'), score the objective in and out of sample, and backtest the
 * strategy under the fold's model on both windows. `onFoldModel` may give the fold's model a version
 * id before its test days are traded, so their positions record it.
 */
export async function signalWalkForward(opts: {
  config: KestrelConfig;
  window: RecordedWindow;
  trainDays: number;
  testDays: number;
  fitSettings?: SignalModelFitSettings;
  onFold?: (done: number, total: number) => void;
  onFoldModel?: (fold: Omit<SignalFold, 'inSample' | 'outOfSample' | 'trades'>) => Promise<number | undefined>;
}) {
  const byDay = marketsByDay(opts.window.info);
  const folds = walkForwardFolds([...byDay.keys()], opts.trainDays, opts.testDays);
  if (folds.length === 0) throw new Error(`${byDay.size} days cannot hold a ${opts.trainDays}-day training window and a ${opts.testDays}-day test window`);
  const settings = opts.fitSettings ?? signalFitSettings(opts.config);
  const perDay = outcomesByDay(opts.config, opts.window, settings.horizonMs);
  const rowsOf = (days: readonly string[]) => days.flatMap((d) => perDay.get(d)?.outcomes ?? []);
  const capital = opts.config.risk.capital;
  const out: (SignalFold & { modelVersionId?: number; positionsWithoutModelVersion: number })[] = [];
  const outOfSampleTrades: TradeRecord[] = [];
  const pnl = (t: TradeRecord[]) => t.reduce((n, x) => n.plus(x.pnl), new Dec(0)).toNumber();
  for (const [k, fold] of folds.entries()) {
    const train = rowsOf(fold.train);
    const test = rowsOf(fold.test);
    const { weights, inSample: is, outOfSample: oos } = fitAndScore(train, test, settings);
    const model = { ...fold, weights, edge: { inSample: is.edge, outOfSample: oos.edge }, signals: { inSample: is.acted, outOfSample: oos.acted }, outcomes: { inSample: train.length, outOfSample: test.length } };
    const modelVersionId = await opts.onFoldModel?.(model);
    const inSample = await tradeSignalModel(opts.config, opts.window, eventsOfDays(opts.window, byDay, fold.train), weights, modelVersionId);
    const outOfSample = await tradeSignalModel(opts.config, opts.window, eventsOfDays(opts.window, byDay, fold.test), weights, modelVersionId);
    outOfSampleTrades.push(...outOfSample.trades);
    out.push({
      ...model,
      inSample: (pnl(inSample.trades) * opts.testDays) / opts.trainDays,
      outOfSample: pnl(outOfSample.trades),
      trades: { inSample: inSample.trades.length, outOfSample: outOfSample.trades.length },
      ...(modelVersionId === undefined ? {} : { modelVersionId }),
      positionsWithoutModelVersion: [...inSample.result.positions, ...outOfSample.result.positions].filter((p) => p.provenance?.modelVersionId === undefined).length,
    });
    opts.onFold?.(k + 1, folds.length);
  }
  const inSampleTotal = out.reduce((a, f) => a + f.inSample, 0);
  const outOfSampleTotal = out.reduce((a, f) => a + f.outOfSample, 0);
  return {
    settings,
    folds: out,
    inSampleTotal,
    outOfSampleTotal,
    efficiency: inSampleTotal !== 0 ? outOfSampleTotal / inSampleTotal : null,
    outOfSample: performance(outOfSampleTrades, capital),
    outOfSampleBySignalType: performanceBy(outOfSampleTrades, (t) => t.signalType, capital),
  };
}
