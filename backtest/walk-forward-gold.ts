import type { KestrelConfig } from '../config/schema';
import { Backtester } from '../domain/backtest/backtester';
import { performance, tradesOf } from '../domain/backtest/metrics';
import { marketsByDay, walkForward } from '../domain/backtest/walk-forward';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { DEFAULT_MOMENTUM, type MomentumParams } from '../domain/strategies/momentum';
import { momentumRule } from '../domain/strategies/momentum';
import { backtestConfig } from './gold-backtest';
import { eventsOfDays, type RecordedWindow } from './recorded-data';

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
  const cfg = backtestConfig(opts.config);
  let runs = 0;
  const evaluate = async (params: MomentumParams, days: readonly string[]) => {
    const result = await new Backtester(cfg, opts.window.info, momentumRule(params)).run(eventsOfDays(opts.window, byDay, days));
    runs++;
    return performance(tradesOf(result, kalshiCategory), opts.config.risk.capital).totalPnl;
  };
  const wf = await walkForward({ days: [...byDay.keys()], trainDays: opts.trainDays, testDays: opts.testDays, grid: opts.grid, evaluate: async (p, d) => Number(await evaluate(p, d)), onFold: opts.onFold });
  return { ...wf, days: [...byDay.keys()], backtests: runs };
}
