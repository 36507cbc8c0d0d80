import assert from 'node:assert/strict';
import path from 'node:path';
import { loadRecordedWindow, type RecordedWindow } from '../../backtest/recorded-data';
import { runSignalBacktest, signalStrategyConfig, tradeSignalModel } from '../../backtest/signal-strategy';
import { resolveConfig } from '../../config/load';
import { signalFitSettings } from '../../config/signal-model';
import { Backtester } from '../../domain/backtest/backtester';
import { performanceBy, tradesOf } from '../../domain/backtest/metrics';
import { fitModelOnEvents, signalEngineRule } from '../../domain/backtest/signal-engine-rule';
import { lookAheadCheck, marketsByDay } from '../../domain/backtest/walk-forward';
import { kalshiCategory } from '../../domain/market-data/kalshi-tickers';
import type { SignalWeight } from '../../domain/signals/performance';
import { actionableRules, createSignalEngine } from '../../domain/signals/settings';
import { SHARED_DATA_DIR } from '../support/harness';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const { config } = resolveConfig({});
const rules = actionableRules(config.signals);

describe('the signal engine in backtests (same detectors as the BullMQ signal worker)', function () {
  this.timeout(120_000);
  let window: RecordedWindow;
  before(async () => {
    window = await loadRecordedWindow(GOLD, { markets: ['KXGOLD15M-26AUG050000-00', 'KXGOLD15M-26AUG060000-00', 'KXGOLD15M-26AUG070000-00'] });
  });

  it('fits thresholds and weights from the outcomes of signals detected in the training data only', () => {
    const fit = fitModelOnEvents({ engine: createSignalEngine(config.signals), events: window.events, info: window.info, fit: { ...signalFitSettings(config), horizonMs: 600_000, priorCount: 20 }, history: { capacity: 1000, sampleMs: 1000 } });
    assert.ok(fit.signals > 0, 'the detectors fire on the recorded books');
    assert.ok(fit.outcomes.length > 0 && fit.outcomes.length <= fit.signals);
    const first = window.events[0]!.ts;
    const last = window.events[window.events.length - 1]!.ts;
    assert.ok(fit.outcomes.every((o) => o.firedAtMs >= first && o.firedAtMs <= last));
    for (const w of fit.weights) assert.ok(w.weight >= 0 && w.weight <= 1 && w.count > 0 && w.minConfidence !== undefined && w.minConfidence >= config.signals.actionableMinConfidence);
  });

  it('trades actionable engine signals, reports metrics per signal type, and passes the look-ahead check', async () => {
    // A test model (not a trained one) that trusts every signal type with a +$0.05 expected move.
    const weights: SignalWeight[] = config.signals.actionableTypes.map((type) => ({ type, category: 'kxgold15m', winRate: 0.7, expectedMove: 500, weight: 0.4, count: 100 }));
    const run = (events: readonly (typeof window.events)[number][]) => new Backtester(signalStrategyConfig(config), window.info, signalEngineRule(createSignalEngine(config.signals), weights, rules)).run(events);
    const result = await run(window.events);
    const trades = tradesOf(result, kalshiCategory);
    assert.ok(trades.length > 0, 'engine signals became positions');
    const byType = performanceBy(trades, (t) => t.signalType, config.risk.capital);
    assert.ok(Object.keys(byType).every((t) => (config.signals.actionableTypes as readonly string[]).includes(t)), Object.keys(byType).join());
    assert.ok(result.strategy.decisions.every((d) => /^[a-z_]+:KXGOLD15M-[^@]+@\d+$/.test(d.signalId)));
    const times = window.events.map((e) => e.ts);
    const check = await lookAheadCheck(run, window.events, [0.4, 0.8].map((q) => times[Math.floor(q * times.length)]!));
    assert.ok(check.ok, JSON.stringify(check.mismatches).slice(0, 400));
  });

  it('records on every position the model version it traded under', async () => {
    // A test model (not a trained one) that trusts every signal type, with a threshold per cell.
    const weights: SignalWeight[] = config.signals.actionableTypes.map((type) => ({ type, category: 'kxgold15m', winRate: 0.7, expectedMove: 500, weight: 0.4, count: 100, minConfidence: 0.6 }));
    const under = await tradeSignalModel(config, window, window.events, weights, 42);
    assert.ok(under.result.positions.length > 0, 'the model trades');
    assert.deepEqual([...new Set(under.result.positions.map((p) => p.provenance?.modelVersionId))], [42]);
    const unversioned = await tradeSignalModel(config, window, window.events, weights);
    assert.ok(unversioned.result.positions.every((p) => p.provenance?.modelVersionId === undefined));
    // The model's thresholds apply: raised to 0.95, fewer signals get through.
    const strict = await tradeSignalModel(config, window, window.events, weights.map((w) => ({ ...w, minConfidence: 0.95 })), 42);
    assert.ok(strict.result.strategy.decisions.length < under.result.strategy.decisions.length, `${strict.result.strategy.decisions.length} vs ${under.result.strategy.decisions.length}`);
  });

  it('a signal backtest trains on the first days and trades only the days after', async () => {
    const summary = await runSignalBacktest({ config, window, trainDays: 1 });
    assert.deepEqual(summary.trainDays, ['2026-08-05']);
    assert.deepEqual(summary.testDays, ['2026-08-06', '2026-08-07']);
    const testMarkets = new Set(summary.testDays.flatMap((d) => marketsByDay(window.info).get(d)!));
    assert.ok(summary.result.positions.every((p) => testMarkets.has(p.market)));
    await assert.rejects(runSignalBacktest({ config, window, trainDays: 3 }), /leaves none to trade/);
  });
});
