import { closeTimeMs } from '../db/market-data-repo';
import { toUnits, type UnitEvent } from '../domain/market-data/events';
import type { MarketInfo } from '../domain/backtest/backtester';
import { kalshiEvent } from '../domain/market-data/kalshi-tickers';
import { EventColumnsBuilder, mergeColumnsByTime, type EventColumns } from '../domain/market-data/event-columns';
import { cacheKey, defaultEventCacheDir, readEventCache, writeEventCache } from './event-cache';
import { listRecordedMarkets, recordedFiles } from '../venues/replay/gold-feed';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import { replayKalshiRecording } from '../venues/replay/replay-source';

export interface RecordedWindow {
  markets: string[];
  info: Map<string, MarketInfo>;
  /** Every event of the chosen markets in exchange-time order (receive order kept within a market), as columns. */
  columns: EventColumns;
  /** The same events as objects, built on first use: a whole feed is ~10× the memory of `columns`. */
  readonly events: UnitEvent[];
  malformed: number;
  /** Whether the events were read from the binary cache or parsed from the recording (and then cached). */
  loadedFrom: 'cache' | 'recording';
}

export interface LoadOptions {
  markets?: string[];
  limit?: number;
  fromMs?: number;
  toMs?: number;
  /** Where parsed recordings are cached (default: defaultEventCacheDir()); `null` parses without caching. */
  cacheDir?: string | null;
}

/**
 * Loads recorded gold markets for a backtest or a lockstep paper replay: events in units, market
 * close times and recorded results (for settlement). Within a market the receive order is kept (it
 * is the sequence order) and timestamps are clamped never to go backwards, so books rebuild
 * exactly as they were received; markets are then merged by time. The parsed, merged events of a
 * set of markets are cached as one binary file keyed by the recordings' sizes and mtimes; the time
 * window is cut from them afterwards (they are in time order).
 */
export async function loadRecordedWindow(dataDir: string, opts: LoadOptions = {}): Promise<RecordedWindow> {
  const all = listRecordedMarkets(dataDir);
  const markets = (opts.markets ?? all).slice(0, opts.limit ?? Infinity);
  for (const m of markets) if (!all.includes(m)) throw new Error(`no recording for market ${m} in ${dataDir}`);
  const info = new Map<string, MarketInfo>();
  for (const market of markets) {
    const meta = readGoldMarketMetadata(dataDir, market);
    const close = closeTimeMs(meta?.meta.attributes);
    if (close === undefined) throw new Error(`market ${market} has no close_time in its metadata`);
    const result = meta?.meta.attributes.result;
    info.set(market, { closeTimeMs: close, result: result === 'yes' || result === 'no' ? result : undefined, event: kalshiEvent(market) });
  }
  const loaded = await cachedOrParsed(dataDir, markets, opts.cacheDir === undefined ? defaultEventCacheDir() : opts.cacheDir);
  const from = opts.fromMs === undefined ? 0 : loaded.events.lowerBound(opts.fromMs);
  const to = opts.toMs === undefined ? loaded.events.length : loaded.events.lowerBound(opts.toMs + 1);
  // A cut is copied into wide columns: compacted like the whole, so a run reads one kind of column.
  const columns = loaded.events.slice(from, Math.max(from, to)).compact();
  let events: UnitEvent[] | undefined;
  return {
    markets,
    info,
    columns,
    get events() {
      return (events ??= columns.toArray());
    },
    malformed: loaded.malformed,
    loadedFrom: loaded.from,
  };
}

async function cachedOrParsed(dataDir: string, markets: string[], cacheDir: string | null): Promise<{ events: EventColumns; malformed: number; from: 'cache' | 'recording' }> {
  if (cacheDir === null) return { ...(await parseRecordings(dataDir, markets)), from: 'recording' };
  const key = cacheKey({ loader: 'gold-window', markets }, markets.flatMap((m) => recordedFiles(dataDir, m)));
  const cached = readEventCache(cacheDir, key);
  if (cached.status === 'hit') return { events: cached.events, malformed: cached.malformed, from: 'cache' };
  // A corrupt file is not trusted: it is parsed again from the recording and overwritten.
  const parsed = await parseRecordings(dataDir, markets);
  writeEventCache(cacheDir, key, parsed.events, parsed.malformed);
  return { ...parsed, from: 'recording' };
}

/** Parses each market's recording straight into columns (no array of event objects), then merges them by time. */
async function parseRecordings(dataDir: string, markets: string[]): Promise<{ events: EventColumns; malformed: number }> {
  const perMarket: EventColumns[] = [];
  let malformed = 0;
  for (const market of markets) {
    const builder = new EventColumnsBuilder([market]);
    let last = 0;
    const stats = await replayKalshiRecording({
      dataDir,
      markets: [market],
      pace: { kind: 'fast' },
      emit: async (e) => {
        const u = toUnits(e);
        last = Math.max(last, u.ts);
        u.ts = last;
        builder.push(u);
      },
    });
    malformed += stats.malformed;
    perMarket.push(builder.build());
  }
  // Compacted as the cache stores them: half the memory, and a parsed run reads the same columns as a cached one.
  return { events: (perMarket.length === 1 ? perMarket[0]! : mergeColumnsByTime(perMarket, markets)).compact(), malformed };
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
  return window.columns.ofMarkets(markets).toArray();
}
