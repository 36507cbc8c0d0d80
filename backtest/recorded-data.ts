import { closeTimeMs } from '../db/market-data-repo';
import { toUnits, type UnitEvent } from '../domain/market-data/events';
import type { MarketInfo } from '../domain/backtest/backtester';
import { kalshiEvent } from '../domain/market-data/kalshi-tickers';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import { replayKalshiRecording } from '../venues/replay/replay-source';

export interface RecordedWindow {
  markets: string[];
  info: Map<string, MarketInfo>;
  /** Every event of the chosen markets in exchange-time order (receive order kept within a market). */
  events: UnitEvent[];
  malformed: number;
}

/**
 * Loads recorded gold markets for a backtest or a lockstep paper replay: events in units, market
 * close times and recorded results (for settlement). Within a market the receive order is kept (it
 * is the sequence order) and timestamps are clamped never to go backwards, so books rebuild
 * exactly as they were received; markets are then merged by time.
 */
export async function loadRecordedWindow(dataDir: string, opts: { markets?: string[]; limit?: number; fromMs?: number; toMs?: number } = {}): Promise<RecordedWindow> {
  const all = listRecordedMarkets(dataDir);
  const markets = (opts.markets ?? all).slice(0, opts.limit ?? Infinity);
  for (const m of markets) if (!all.includes(m)) throw new Error(`no recording for market ${m} in ${dataDir}`);
  const info = new Map<string, MarketInfo>();
  const perMarket: UnitEvent[][] = [];
  let malformed = 0;
  for (const market of markets) {
    const meta = readGoldMarketMetadata(dataDir, market);
    const close = closeTimeMs(meta?.meta.attributes);
    if (close === undefined) throw new Error(`market ${market} has no close_time in its metadata`);
    const result = meta?.meta.attributes.result;
    info.set(market, { closeTimeMs: close, result: result === 'yes' || result === 'no' ? result : undefined, event: kalshiEvent(market) });
    const events: UnitEvent[] = [];
    let last = 0;
    const stats = await replayKalshiRecording({
      dataDir,
      markets: [market],
      pace: { kind: 'fast' },
      emit: async (e) => {
        const u = toUnits(e);
        last = Math.max(last, u.ts);
        u.ts = last;
        if ((opts.fromMs === undefined || u.ts >= opts.fromMs) && (opts.toMs === undefined || u.ts <= opts.toMs)) events.push(u);
      },
    });
    malformed += stats.malformed;
    perMarket.push(events);
  }
  const events = perMarket.length === 1 ? perMarket[0]! : mergeByTime(perMarket);
  return { markets, info, events, malformed };
}

/** k-way merge by timestamp; ties keep the order of the input lists. */
function mergeByTime(lists: UnitEvent[][]): UnitEvent[] {
  const out: UnitEvent[] = [];
  const idx = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i]![idx[i]!];
      if (e && (best < 0 || e.ts < lists[best]![idx[best]!]!.ts)) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]![idx[best]!++]!);
  }
}

/** UTC days of the recorded markets' closes (cheap: metadata only), to validate a walk-forward before loading events. */
export function recordedDays(dataDir: string, limit?: number): string[] {
  const days = new Set<string>();
  for (const market of listRecordedMarkets(dataDir).slice(0, limit ?? Infinity)) {
    const close = closeTimeMs(readGoldMarketMetadata(dataDir, market)?.meta.attributes);
    if (close !== undefined) days.add(new Date(close).toISOString().slice(0, 10));
  }
  return [...days].sort();
}

/** The window's events for the markets closing on `days` (filtering the time-ordered window keeps time order). */
export function eventsOfDays(window: RecordedWindow, byDay: ReadonlyMap<string, string[]>, days: readonly string[]): UnitEvent[] {
  const markets = new Set(days.flatMap((d) => byDay.get(d) ?? []));
  return window.events.filter((e) => markets.has(e.m));
}
