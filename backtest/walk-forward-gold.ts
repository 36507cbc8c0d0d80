import type { KestrelConfig } from '../config/schema';
import { Backtester } from '../domain/backtest/backtester';
import { performance, tradesOf } from '../domain/backtest/metrics';
import { marketsByDay, walkForward } from '../domain/backtest/walk-forward';
import type { UnitEvent } from '../domain/market-data/events';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { DEFAULT_MOMENTUM, type MomentumParams } from '../domain/strategies/momentum';
import { backtestConfig, momentumRule } from './gold-backtest';
import type { RecordedWindow } from './recorded-data';

/** The momentum parameters searched: move threshold × lookback (the rest stays at its default). */
export function momentumGrid(minMoves: readonly number[] = [400, 600, 900], lookbacksMs: readonly number[] = [30_000, 60_000, 120_000]): MomentumParams[] {
  return minMoves.flatMap((minMove) => lookbacksMs.map((lookbackMs) => ({ ...DEFAULT_MOMENTUM, minMove, lookbackMs })));
}

/**
 * Walk-forward of the momentum strategy over recorded gold days: each fold picks the parameters
 * with the best training-day P&L and trades them on the following unseen day(s).
 */
export async function goldWalkForward(opts: { config: KestrelConfig; window: RecordedWindow; trainDays: number; testDays: number; grid: readonly MomentumParams[]; onFold?: (done: number, total: number) => void }) {
  const byDay = marketsByDay(opts.window.info);
  const eventsByMarket = new Map<string, UnitEvent[]>();
  for (const e of opts.window.events) {
    let list = eventsByMarket.get(e.m);
    if (!list) eventsByMarket.set(e.m, (list = []));
    list.push(e);
  }
  const cfg = backtestConfig(opts.config);
  let runs = 0;
  const evaluate = async (params: MomentumParams, days: readonly string[]) => {
    const markets = new Set(days.flatMap((d) => byDay.get(d) ?? []));
    // Filtering the time-ordered window keeps time order.
    const events = opts.window.events.filter((e) => markets.has(e.m));
    const result = await new Backtester(cfg, opts.window.info, momentumRule(params)).run(events);
    runs++;
    return performance(tradesOf(result, kalshiCategory), opts.config.risk.capital).totalPnl;
  };
  const wf = await walkForward({ days: [...byDay.keys()], trainDays: opts.trainDays, testDays: opts.testDays, grid: opts.grid, evaluate: async (p, d) => Number(await evaluate(p, d)), onFold: opts.onFold });
  return { ...wf, days: [...byDay.keys()], backtests: runs };
}
