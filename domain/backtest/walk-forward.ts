import { z } from 'zod';
import type { UnitEvent } from '../market-data/events';
import type { BacktestResult, MarketInfo } from './backtester';

/** Folds over days: train on `trainDays`, test on the next `testDays`, then roll forward by `testDays`. */
export function walkForwardFolds(days: readonly string[], trainDays: number, testDays: number): { train: string[]; test: string[] }[] {
  if (trainDays < 1 || testDays < 1) throw new Error('train and test windows need at least one day each');
  const folds: { train: string[]; test: string[] }[] = [];
  for (let start = 0; start + trainDays + testDays <= days.length; start += testDays) {
    folds.push({ train: days.slice(start, start + trainDays), test: days.slice(start + trainDays, start + trainDays + testDays) });
  }
  return folds;
}

/** UTC day of each market's close: markets are assigned whole to one day. */
export function marketsByDay(info: ReadonlyMap<string, MarketInfo>): Map<string, string[]> {
  const byDay = new Map<string, string[]>();
  for (const [market, i] of info) {
    const day = new Date(i.closeTimeMs).toISOString().slice(0, 10);
    byDay.set(day, [...(byDay.get(day) ?? []), market]);
  }
  return new Map([...byDay].sort(([a], [b]) => a.localeCompare(b)));
}

export interface FoldResult<P> {
  train: string[];
  test: string[];
  /** Every candidate's in-sample score; the best is chosen on these alone. */
  candidates: { params: P; score: number }[];
  chosen: P;
  inSample: number;
  outOfSample: number;
}

/**
 * Walk-forward optimisation: per fold, every parameter set is scored on the training days, the
 * best is run on the unseen test days. The out-of-sample scores, chained, are the honest result;
 * in-sample scores show how much of the fit was noise.
 */
export async function walkForward<P>(opts: {
  days: readonly string[];
  trainDays: number;
  testDays: number;
  grid: readonly P[];
  evaluate: (params: P, days: readonly string[]) => Promise<number>;
  onFold?: (done: number, total: number) => void;
}): Promise<{ folds: FoldResult<P>[]; inSampleTotal: number; outOfSampleTotal: number; efficiency: number | null }> {
  const folds = walkForwardFolds(opts.days, opts.trainDays, opts.testDays);
  if (folds.length === 0) throw new Error(`${opts.days.length} days cannot hold a ${opts.trainDays}-day training window and a ${opts.testDays}-day test window`);
  if (opts.grid.length === 0) throw new Error('the parameter grid is empty');
  const results: FoldResult<P>[] = [];
  for (const [k, fold] of folds.entries()) {
    const candidates: { params: P; score: number }[] = [];
    for (const params of opts.grid) candidates.push({ params, score: await opts.evaluate(params, fold.train) });
    const best = candidates.reduce((a, b) => (b.score > a.score ? b : a));
    const outOfSample = await opts.evaluate(best.params, fold.test);
    // In-sample per test-day length, so the two are comparable.
    results.push({ ...fold, candidates, chosen: best.params, inSample: (best.score * opts.testDays) / opts.trainDays, outOfSample });
    opts.onFold?.(k + 1, folds.length);
  }
  const inSampleTotal = results.reduce((a, f) => a + f.inSample, 0);
  const outOfSampleTotal = results.reduce((a, f) => a + f.outOfSample, 0);
  return { folds: results, inSampleTotal, outOfSampleTotal, efficiency: inSampleTotal !== 0 ? outOfSampleTotal / inSampleTotal : null };
}

/**
 * Look-ahead check: a decision at time t may only depend on data timestamped up to t. The run is
 * repeated on the events truncated at several cut times; every decision (signal, entry order)
 * made before a cut must be identical with and without the data after it.
 */
export async function lookAheadCheck(run: (events: readonly UnitEvent[]) => Promise<BacktestResult>, events: readonly UnitEvent[], cuts: readonly number[]): Promise<{ ok: boolean; checked: number; mismatches: { cutMs: number; what: string }[] }> {
  const full = await run(events);
  const mismatches: { cutMs: number; what: string }[] = [];
  let checked = 0;
  const before = (r: BacktestResult, cut: number) => ({
    decisions: r.strategy.decisions.filter((d) => signalTime(d.signalId) < cut).map((d) => `${d.signalId} ${d.decision} ${d.why}`),
    entries: r.orders.filter((o) => o.purpose === 'entry' && o.submittedAtMs < cut).map((o) => `${o.clientOrderId} ${o.limitPrice} ${o.size}`),
  });
  for (const cut of cuts) {
    const truncated = await run(events.filter((e) => e.ts <= cut));
    const a = before(full, cut);
    const b = before(truncated, cut);
    checked += a.decisions.length + a.entries.length;
    if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push({ cutMs: cut, what: `with all data: ${JSON.stringify(a)}; truncated at the cut: ${JSON.stringify(b)}` });
  }
  return { ok: mismatches.length === 0, checked, mismatches };
}

/** Signal ids end in `@<exchange ms>` (see the signal rules). */
function signalTime(signalId: string): number {
  const at = Number(signalId.slice(signalId.lastIndexOf('@') + 1));
  return Number.isFinite(at) ? at : Infinity;
}

/**
 * A walk-forward run as stored next to the backtest reports (`walk-forward.json`): each fold's days,
 * what training chose, and its in- and out-of-sample result; the console shows the newest.
 */
export const walkForwardSummarySchema = z.object({
  strategy: z.string().min(1),
  writtenAt: z.string().min(1),
  folds: z.array(z.object({ train: z.array(z.string()), test: z.array(z.string()), chosen: z.string(), inSample: z.number(), outOfSample: z.number() })),
  inSampleTotal: z.number(),
  outOfSampleTotal: z.number(),
  efficiency: z.number().nullable(),
});
export type WalkForwardSummary = z.infer<typeof walkForwardSummarySchema>;
