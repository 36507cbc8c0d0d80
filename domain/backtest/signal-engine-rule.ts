import { ONE_DOLLAR, priceText } from '../fixed-point';
import { BookStore } from '../market-data/book-store';
import type { UnitEvent } from '../market-data/events';
import { actionableEntry, type ActionableRules } from '../signals/actionable';
import type { SignalEngine } from '../signals/engine';
import { fitSignalModel, type SignalModelFitSettings } from '../signals/model';
import type { OutcomeRow, SignalWeight } from '../signals/performance';
import { signalOutcome } from '../signals/performance';
import { tickAt, tickTrades } from '../signals/tick';
import type { DetectedSignal } from '../signals/types';
import type { MarketInfo, SignalRule } from './backtester';

/**
 * The signal engine as a backtest signal rule: every instant's tick goes through the same detectors
 * as the BullMQ signal worker, and the most confident actionable signal (under the given model
 * weights) becomes the entry proposal. `detected` keeps every signal for the report.
 */
export function signalEngineRule(engine: SignalEngine, weights: readonly SignalWeight[], rules: ActionableRules): SignalRule & { detected: DetectedSignal[] } {
  const detected: DetectedSignal[] = [];
  const rule: SignalRule = ({ market, nowMs, store, events }) => {
    const tick = tickAt(store, market, nowMs, tickTrades(events, market));
    if (!tick) return undefined;
    const fired = engine.onTicks([tick]);
    detected.push(...fired);
    let best: { signal: DetectedSignal; entry: Exclude<ReturnType<typeof actionableEntry>, { rejected: string }> } | undefined;
    for (const signal of fired) {
      const entry = actionableEntry(signal, tick, weights, rules);
      if (!('rejected' in entry) && (!best || signal.confidence > best.signal.confidence)) best = { signal, entry };
    }
    if (!best) return undefined;
    const { signal, entry } = best;
    return {
      signalId: `${signal.type}:${market}@${signal.firedAtMs}`,
      market,
      outcome: entry.outcome,
      modelProbability: priceText(entry.modelProbability),
      ask: priceText(entry.ask),
      reason: `${signal.type} ${signal.priority} (confidence ${signal.confidence.toFixed(2)})`,
      type: signal.type,
      category: signal.category,
    };
  };
  return Object.assign(rule, { detected });
}

/**
 * The signal outcomes of a stretch of recorded data, as the signal worker and the outcome job would
 * record them live: run the detectors, measure each signal's move at `horizonMs` on the market's
 * clock (the recorded mid at or before the due time once the data has passed it, or the settlement
 * when the market closed by then), with what the model fit needs (direction, mid and spread at fire,
 * confidence, priority, how it was resolved).
 */
export function signalOutcomesOnEvents(opts: {
  engine: SignalEngine;
  events: readonly UnitEvent[];
  info: ReadonlyMap<string, MarketInfo>;
  horizonMs: number;
  history: { capacity: number; sampleMs: number };
  /** Each market's two-sided top of book after each instant that touched it (a replay persisting price history). */
  onBook?: (market: string, ts: number, top: { bid: number; ask: number }) => void;
}): { signals: DetectedSignal[]; outcomes: OutcomeRow[] } {
  const store = new BookStore({ historyCapacity: opts.history.capacity, sampleMs: opts.history.sampleMs });
  const detected: DetectedSignal[] = [];
  const mids = new Map<string, { ts: number; mid: number }[]>();
  let i = 0;
  while (i < opts.events.length) {
    const now = opts.events[i]!.ts;
    const group: UnitEvent[] = [];
    while (i < opts.events.length && opts.events[i]!.ts === now) group.push(opts.events[i++]!);
    store.applyAll(group, now);
    for (const market of new Set(group.map((e) => e.m))) {
      const tick = tickAt(store, market, now, tickTrades(group, market));
      if (!tick) continue;
      detected.push(...opts.engine.onTicks([tick]));
      const top = store.markets.get(market)!.book.top();
      if (top.yesBid && top.yesAsk) {
        opts.onBook?.(market, now, { bid: top.yesBid.price, ask: top.yesAsk.price });
        const list = mids.get(market) ?? [];
        list.push({ ts: now, mid: (top.yesBid.price + top.yesAsk.price) / 2 });
        mids.set(market, list);
      }
    }
  }
  const outcomes: OutcomeRow[] = [];
  for (const s of detected) {
    if (s.midAtFire === undefined) continue;
    const due = s.firedAtMs + opts.horizonMs;
    const info = opts.info.get(s.market);
    const series = mids.get(s.market) ?? [];
    let after: number | undefined;
    let resolvedBy: 'price' | 'settlement' | undefined;
    if (info && due >= info.closeTimeMs) {
      after = info.result === undefined ? undefined : info.result === 'yes' ? ONE_DOLLAR : 0;
      resolvedBy = 'settlement';
    } else if (series.length && series[series.length - 1]!.ts >= due) {
      after = midAtOrBefore(series, due);
      resolvedBy = 'price';
    }
    if (after === undefined) continue;
    const o = signalOutcome(s.direction, s.midAtFire, after);
    outcomes.push({ type: s.type, category: s.category, firedAtMs: s.firedAtMs, horizonMs: opts.horizonMs, move: o.move, correct: o.correct, direction: s.direction, midAtFire: s.midAtFire, spreadAtFire: s.spreadAtFire, confidence: s.confidence, priority: s.priority, resolvedBy });
  }
  return { signals: detected, outcomes };
}

/** Fits the signal model (thresholds and weights, domain/signals/model.ts) on the outcomes of a stretch of recorded data. */
export function fitModelOnEvents(opts: { engine: SignalEngine; events: readonly UnitEvent[]; info: ReadonlyMap<string, MarketInfo>; fit: SignalModelFitSettings; history: { capacity: number; sampleMs: number } }): { weights: SignalWeight[]; signals: number; outcomes: OutcomeRow[] } {
  const { signals, outcomes } = signalOutcomesOnEvents({ ...opts, horizonMs: opts.fit.horizonMs });
  return { weights: fitSignalModel(outcomes, opts.fit), signals: signals.length, outcomes };
}

function midAtOrBefore(series: readonly { ts: number; mid: number }[], ts: number): number | undefined {
  let lo = 0;
  let hi = series.length - 1;
  let found: number | undefined;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (series[m]!.ts <= ts) {
      found = series[m]!.mid;
      lo = m + 1;
    } else hi = m - 1;
  }
  return found;
}
