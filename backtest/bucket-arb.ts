import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { walkForward } from '../domain/backtest/walk-forward';
import { Dec } from '../domain/decimal';
import {
  basketEconomics,
  bucketArbParamsWire,
  findBucketArbitrage,
  settleBasket,
  type BucketArbParams,
  type BucketBasket,
  type BucketEventSnapshot,
  type BucketQuote,
  strikesPartition,
  type BucketStrike,
  type PartitionEvidence,
} from '../domain/strategies/bucket-arb';

/*
 * Bucket-arbitrage backtest over the legacy Kalshi REST snapshots (kalshi-2024-rest-snapshots):
 *   event_data.json      events with `_mutually_exclusive`;
 *   market_data.json     one quote per market (cents, no depth, time not recorded), `_status`, `_result`;
 *   market_history.json  per-market change logs {_ts (s), yes/no bid/ask cents}, capped at 100 points;
 *   orderbook_data.json  one book per market (`_yes`/`_no` bids as [cents, qty]; time not recorded).
 * Every event with two or more buckets is examined, on each source separately.
 */

export type SnapshotSource = 'market_data' | 'market_history' | 'orderbook';

/** One event as seen at one time by one source; `atMs` null when the source does not record when. */
export interface SourcedSnapshot {
  source: SnapshotSource;
  atMs: number | null;
  /** Depth shown per leg: from the book (orderbook) or unknown (a quote shows at least one contract). */
  depthKnown: boolean;
  /** Buckets that were finalized or closed when quoted: the quote is not tradeable. */
  settledBuckets: number;
  /** Buckets listed for the event with no quote at this time (no history yet, or past a capped history). */
  unknownBuckets: number;
  event: BucketEventSnapshot;
}

export interface LoadedSnapshots {
  dir: string;
  eventsListed: number;
  /** Every distinct event across the files, with its bucket count and flag. */
  events: Map<string, { buckets: string[]; mutuallyExclusive: boolean | null; partition: PartitionEvidence | null; sources: Set<SnapshotSource> }>;
  results: Map<string, 'yes' | 'no'>;
  snapshots: SourcedSnapshot[];
}

type Json = Record<string, unknown>;

function readJsonArray(dir: string, file: string): Json[] {
  const full = path.join(dir, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    throw new Error(`${full}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); --snapshots must be the kalshi-2024-rest-snapshots directory`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${full}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${full}: expected a JSON array`);
  return parsed as Json[];
}

/** The legacy files wrap each record as `[{ "<key>": value }, …]`. */
function unwrap<T>(rows: Json[], file: string): [string, T][] {
  return rows.flatMap((row) => {
    if (typeof row !== 'object' || row === null) throw new Error(`${file}: expected objects keyed by ticker`);
    return Object.entries(row) as [string, T][];
  });
}

const cents = (c: number) => new Dec(c).div(100);
function centsField(m: Json, key: string, where: string): number {
  const v = m[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw new Error(`${where}: ${key} must be integer cents in [0, 100], got ${JSON.stringify(v)}`);
  return v;
}

/** Legacy quotes: a YES bid of 0 means no bid, a YES ask of 100 means no ask (no NO bids). Depth unknown: a quote shows at least one contract. */
function legacyQuote(market: string, yesBidCents: number, yesAskCents: number, atMs: number, result?: 'yes' | 'no' | null): BucketQuote {
  const one = new Dec(1);
  return {
    market,
    yesBid: yesBidCents > 0 ? { price: cents(yesBidCents), size: one } : null,
    yesAsk: yesAskCents < 100 ? { price: cents(yesAskCents), size: one } : null,
    quotedAtMs: atMs,
    result: result ?? null,
  };
}

/** The event of a legacy market ticker: everything before its last dash. */
export function eventOfTicker(ticker: string): string {
  const i = ticker.lastIndexOf('-');
  if (i <= 0) throw new Error(`market ticker ${JSON.stringify(ticker)} has no event part`);
  return ticker.slice(0, i);
}

/**
 * Kalshi's range-bucket tickers (`-T<x>` tails, `-B<x>` ranges): exactly two tails bracketing a run of
 * equally spaced ranges, each tail within one step of its neighbour, read as a partition of the outcome
 * (e.g. HIGHNY: T88 = below 88, B88.5 … B94.5, T95 = above 95). An inference from names, labelled as such.
 */
export function tickerPatternPartition(tickers: readonly string[]): boolean {
  const parsed = tickers.map((t) => /-(T|B)(-?\d+(?:\.\d+)?)$/.exec(t));
  if (parsed.some((m) => m === null)) return false;
  const tails = parsed.filter((m) => m![1] === 'T').map((m) => new Dec(m![2]!));
  const ranges = parsed
    .filter((m) => m![1] === 'B')
    .map((m) => new Dec(m![2]!))
    .sort((a, b) => a.comparedTo(b));
  if (tails.length !== 2 || ranges.length < 1) return false;
  const [low, high] = tails.sort((a, b) => a.comparedTo(b)) as [Dec, Dec];
  const steps = ranges.slice(1).map((r, i) => r.minus(ranges[i]!));
  if (steps.some((s) => !s.eq(steps[0]!) || s.lte(0))) return false;
  const step = steps[0] ?? new Dec(Infinity);
  const first = ranges[0]!;
  const last = ranges[ranges.length - 1]!;
  return low.lt(first) && first.minus(low).lt(step) && high.gt(last) && high.minus(last).lt(step);
}

function strikeOf(m: Json): BucketStrike {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? new Dec(String(v)) : null);
  return { market: String(m._ticker), type: typeof m._strike_type === 'string' ? m._strike_type : null, floor: num(m._floor_strike), cap: num(m._cap_strike) };
}

/** The grid the outcome is reported on, read from the strikes' decimals (1.9 → 0.1, 88 → 1): an inference from the data. */
export function strikeResolution(strikes: readonly BucketStrike[]): Dec {
  const places = Math.max(0, ...strikes.flatMap((s) => [s.floor, s.cap]).flatMap((d) => (d ? [d.decimalPlaces()] : [])));
  return new Dec(10).pow(-places);
}

/** Reads the four files; throws a clear error on a missing file or a malformed record. */
export function loadKalshiRestSnapshots(dir: string): LoadedSnapshots {
  const eventRows = readJsonArray(dir, 'event_data.json');
  const flags = new Map<string, boolean>();
  for (const e of eventRows) {
    if (typeof e._event_ticker !== 'string' || typeof e._mutually_exclusive !== 'boolean') throw new Error(`event_data.json: each event needs _event_ticker and boolean _mutually_exclusive, got ${JSON.stringify(e).slice(0, 120)}`);
    flags.set(e._event_ticker, e._mutually_exclusive);
  }
  const events: LoadedSnapshots['events'] = new Map();
  const results = new Map<string, 'yes' | 'no'>();
  const snapshots: SourcedSnapshot[] = [];
  const noteEvent = (ticker: string, buckets: string[], source: SnapshotSource) => {
    const known = events.get(ticker);
    if (known) {
      known.sources.add(source);
      for (const b of buckets) if (!known.buckets.includes(b)) known.buckets.push(b);
      return;
    }
    events.set(ticker, { buckets: [...buckets], mutuallyExclusive: flags.get(ticker) ?? null, partition: null, sources: new Set([source]) });
  };
  const eventSnapshot = (ticker: string, atMs: number, buckets: BucketQuote[]): BucketEventSnapshot => {
    const e = events.get(ticker)!;
    return { eventTicker: ticker, observedAtMs: atMs, mutuallyExclusive: e.mutuallyExclusive, partition: e.partition, buckets };
  };

  // market_data: one quote per market, time not recorded (0 stands for "the snapshot").
  const marketData = unwrap<Json[]>(readJsonArray(dir, 'market_data.json'), 'market_data.json');
  for (const [eventTicker, markets] of marketData) {
    if (!Array.isArray(markets)) throw new Error(`market_data.json: ${eventTicker} must list its markets`);
    noteEvent(
      eventTicker,
      markets.map((m) => String(m._ticker)),
      'market_data',
    );
    for (const m of markets) if (m._result === 'yes' || m._result === 'no') results.set(String(m._ticker), m._result);
  }

  // market_history: change logs; the state at t is each market's last point at or before t.
  const history = unwrap<Json[]>(readJsonArray(dir, 'market_history.json'), 'market_history.json');
  const historyByEvent = new Map<string, { ticker: string; points: { ts: number; bid: number; ask: number }[] }[]>();
  for (const [ticker, points] of history) {
    if (!Array.isArray(points)) throw new Error(`market_history.json: ${ticker} must hold a list of points`);
    const parsed = points.map((p) => {
      if (typeof p._ts !== 'number') throw new Error(`market_history.json: ${ticker}: a point without a numeric _ts`);
      return { ts: p._ts * 1000, bid: centsField(p, '_yes_bid', ticker), ask: centsField(p, '_yes_ask', ticker) };
    });
    const ev = eventOfTicker(ticker);
    historyByEvent.set(ev, [...(historyByEvent.get(ev) ?? []), { ticker, points: parsed }]);
  }
  for (const [eventTicker, markets] of historyByEvent) {
    noteEvent(
      eventTicker,
      markets.map((m) => m.ticker),
      'market_history',
    );
  }
  const orderbookRows = unwrap<Json>(readJsonArray(dir, 'orderbook_data.json'), 'orderbook_data.json');
  const orderbookByEvent = new Map<string, [string, Json][]>();
  for (const [ticker, book] of orderbookRows) {
    const ev = eventOfTicker(ticker);
    orderbookByEvent.set(ev, [...(orderbookByEvent.get(ev) ?? []), [ticker, book]]);
    noteEvent(ev, [ticker], 'orderbook');
  }
  // The partition inference needs every listed bucket of the event, from every file; strikes (market_data) come first.
  for (const e of events.values()) e.partition = tickerPatternPartition(e.buckets) ? 'ticker-pattern' : null;
  for (const [eventTicker, markets] of marketData) {
    const strikes = markets.map(strikeOf);
    if (markets.length >= 2 && strikesPartition(strikes, strikeResolution(strikes)).partition) events.get(eventTicker)!.partition = 'strikes';
  }

  for (const [eventTicker, markets] of marketData) {
    if (markets.length < 2) continue;
    const quotes = markets.map((m) => {
      const ticker = String(m._ticker);
      return legacyQuote(ticker, centsField(m, '_yes_bid', ticker), centsField(m, '_yes_ask', ticker), 0, results.get(ticker) ?? null);
    });
    const settledBuckets = markets.filter((m) => m._status !== 'active').length;
    snapshots.push({ source: 'market_data', atMs: null, depthKnown: false, settledBuckets, unknownBuckets: 0, event: eventSnapshot(eventTicker, 0, quotes) });
  }

  for (const [eventTicker, markets] of historyByEvent) {
    if (markets.length < 2) continue;
    // A history with the cap's 100 points is cut: past its last point the market's state is unknown.
    const lastKnownMs = new Map(markets.map((m) => [m.ticker, m.points.length >= HISTORY_CAP ? (m.points.at(-1)?.ts ?? -Infinity) : Infinity]));
    const times = [...new Set(markets.flatMap((m) => m.points.map((p) => p.ts)))].sort((a, b) => a - b);
    const cursor = new Map(markets.map((m) => [m.ticker, -1]));
    for (const t of times) {
      let unknown = 0;
      const quotes = markets.map((m) => {
        let i = cursor.get(m.ticker)!;
        while (i + 1 < m.points.length && m.points[i + 1]!.ts <= t) i++;
        cursor.set(m.ticker, i);
        if (i < 0 || t > lastKnownMs.get(m.ticker)!) {
          unknown++;
          return { market: m.ticker, yesBid: null, yesAsk: null, quotedAtMs: t, result: null };
        }
        const p = m.points[i]!;
        return legacyQuote(m.ticker, p.bid, p.ask, t);
      });
      snapshots.push({ source: 'market_history', atMs: t, depthKnown: false, settledBuckets: 0, unknownBuckets: unknown, event: eventSnapshot(eventTicker, t, quotes) });
    }
  }

  // orderbook: bids only; the best YES ask is 100 − the best NO bid, with that level's size.
  for (const [eventTicker, books] of orderbookByEvent) {
    if (books.length < 2) continue;
    const quotes = books.map(([ticker, book]): BucketQuote => {
      const best = (side: unknown): [number, number] | null => {
        if (side === null || side === undefined) return null;
        if (!Array.isArray(side)) throw new Error(`orderbook_data.json: ${ticker}: a side must be a list of [price_cents, qty]`);
        let top: [number, number] | null = null;
        for (const level of side as unknown[]) {
          if (!Array.isArray(level) || level.length !== 2 || !level.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) throw new Error(`orderbook_data.json: ${ticker}: bad level ${JSON.stringify(level)}`);
          const [price, qty] = level as [number, number];
          if (qty > 0 && (!top || price > top[0])) top = [price, qty];
        }
        return top;
      };
      const yes = best(book._yes);
      const no = best(book._no);
      return { market: ticker, yesBid: yes ? { price: cents(yes[0]), size: new Dec(yes[1]) } : null, yesAsk: no ? { price: cents(100 - no[0]), size: new Dec(no[1]) } : null, quotedAtMs: 0, result: results.get(ticker) ?? null };
    });
    const empty = quotes.filter((q) => !q.yesBid && !q.yesAsk).length;
    snapshots.push({ source: 'orderbook', atMs: null, depthKnown: true, settledBuckets: 0, unknownBuckets: empty, event: eventSnapshot(eventTicker, 0, quotes) });
  }
  return { dir, eventsListed: eventRows.length, events, results, snapshots };
}

const HISTORY_CAP = 100;

/** Σ YES asks when every bucket has one, Σ YES bids when every bucket has one (the raw sums, before fees). */
export function bucketSums(event: BucketEventSnapshot): { askSum: Dec | null; bidSum: Dec | null } {
  const asks = event.buckets.map((b) => b.yesAsk?.price);
  const bids = event.buckets.map((b) => b.yesBid?.price);
  const sum = (xs: (Dec | undefined)[]) => (xs.every((x) => x !== undefined) ? xs.reduce((s: Dec, x) => s.plus(x!), new Dec(0)) : null);
  return { askSum: sum(asks), bidSum: sum(bids) };
}

/** An opportunity that stood on consecutive snapshots of one event and source. */
export interface OpportunityRun {
  source: SnapshotSource;
  eventTicker: string;
  basket: 'yes' | 'no';
  startMs: number | null;
  /** When it was first seen gone (the next snapshot without it), or null if it lasted to the end of the data. */
  endMs: number | null;
  snapshots: number;
  /** The basket at its first snapshot: taking it once, at the shown depth. */
  first: BucketBasket;
  settled: { payout: string; profit: string } | null;
}

export interface BucketArbAnalysis {
  examined: { eventsListed: number; eventsSeen: number; multiBucket: number; multiBucketFlaggedExclusive: number; multiBucketPartitionByTickers: number; multiBucketPartitionByStrikes: number };
  perEvent: {
    source: SnapshotSource;
    eventTicker: string;
    buckets: number;
    mutuallyExclusive: boolean | null;
    partition: PartitionEvidence | null;
    snapshots: number;
    tradeable: number;
    askSum: { complete: number; min: string | null; median: string | null; max: string | null };
    bidSum: { complete: number; min: string | null; median: string | null; max: string | null };
    /** Σ over the buckets quoted on that side when some are not (lower bound of Σ asks; Σ bids is what a NO basket on those buckets gets). */
    askSumShown: { snapshots: number; buckets: string; min: string | null; max: string | null };
    bidSumShown: { snapshots: number; buckets: string; min: string | null; max: string | null };
    /** Snapshots with Σ asks < 1 / Σ bids > 1 before any fee. */
    beforeFees: { yes: number; no: number };
    /** Snapshots where the strategy takes a basket (fees, depth, exclusivity and minEdge applied). */
    afterFees: { yes: number; no: number };
    refusals: Record<string, number>;
  }[];
  histogram: { bucket: string; askSums: number; bidSums: number }[];
  runs: OpportunityRun[];
  pnl: { baskets: number; guaranteedProfit: string; fees: string; settledProfit: string | null };
  /** The same count with mutual exclusivity/exhaustiveness inferred from ticker names accepted (a what-if, not the strategy). */
  withTickerPartitions: { yes: number; no: number; runs: number; guaranteedProfit: string };
}

/** Refusal lines without their figures, so they count by kind. */
function refusalKind(reason: string): string {
  return reason
    .replace(/[A-Z0-9][A-Z0-9.-]*-[A-Z0-9.]+/g, '<market>')
    .replace(/-?\d+(\.\d+)?/g, '#')
    .replace(/(<market>, )+<market>/g, '<markets>');
}

function quantiles(xs: Dec[]): { min: string | null; median: string | null; max: string | null } {
  if (xs.length === 0) return { min: null, median: null, max: null };
  const s = [...xs].sort((a, b) => a.comparedTo(b));
  return { min: s[0]!.toFixed(2), median: s[Math.floor(s.length / 2)]!.toFixed(2), max: s[s.length - 1]!.toFixed(2) };
}

function shownSums(sums: Dec[], legs: ReadonlySet<number>) {
  const q = quantiles(sums);
  const counts = [...legs].sort((a, b) => a - b);
  return { snapshots: sums.length, buckets: counts.length === 0 ? '-' : counts.length === 1 ? String(counts[0]) : `${counts[0]}-${counts.at(-1)}`, min: q.min, max: q.max };
}

/** Is this snapshot's quote tradeable at all (no finalized bucket)? */
const tradeable = (s: SourcedSnapshot) => s.settledBuckets === 0;

/** Runs of consecutive snapshots (per source and event) on which `decide` takes a basket. */
export function opportunityRuns(snapshots: readonly SourcedSnapshot[], decide: (s: SourcedSnapshot) => BucketBasket | null, results: ReadonlyMap<string, 'yes' | 'no'>): OpportunityRun[] {
  const runs: OpportunityRun[] = [];
  const open = new Map<string, OpportunityRun>();
  for (const s of snapshots) {
    const key = `${s.source}|${s.event.eventTicker}`;
    const basket = tradeable(s) ? decide(s) : null;
    const current = open.get(key);
    if (current && (!basket || basket.basket !== current.basket)) {
      current.endMs = s.atMs;
      open.delete(key);
    }
    if (!basket) continue;
    const running = open.get(key);
    if (running) {
      running.snapshots++;
      continue;
    }
    const settled = basket.legs.every((l) => results.has(l.market)) ? settleBasket(basket, results) : null;
    const run: OpportunityRun = { source: s.source, eventTicker: s.event.eventTicker, basket: basket.basket, startMs: s.atMs, endMs: null, snapshots: 1, first: basket, settled: settled && { payout: settled.payout.toFixed(4), profit: settled.profit.toFixed(4) } };
    runs.push(run);
    open.set(key, run);
  }
  return runs;
}

const HISTOGRAM_STEP = new Dec('0.05');

export function analyseBucketArbitrage(data: LoadedSnapshots, params: BucketArbParams, context: { strategyVersion?: string } = {}): BucketArbAnalysis {
  const multi = [...data.events.entries()].filter(([, e]) => e.buckets.length >= 2);
  const decide = (p: BucketArbParams) => (s: SourcedSnapshot) => {
    const d = findBucketArbitrage(s.event, p, context);
    return d.kind === 'basket' ? d : null;
  };
  const perEvent: BucketArbAnalysis['perEvent'] = [];
  const histogram = new Map<string, { askSums: number; bidSums: number }>();
  const bin = (x: Dec) => x.div(HISTOGRAM_STEP).floor().times(HISTOGRAM_STEP).toFixed(2);
  const groups = new Map<string, SourcedSnapshot[]>();
  for (const s of data.snapshots) {
    const key = `${s.source}|${s.event.eventTicker}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, snaps] of groups) {
    const [source, eventTicker] = key.split('|') as [SnapshotSource, string];
    const meta = data.events.get(eventTicker)!;
    const asks: Dec[] = [];
    const bids: Dec[] = [];
    const shown = { ask: [] as Dec[], bid: [] as Dec[], askLegs: new Set<number>(), bidLegs: new Set<number>() };
    const beforeFees = { yes: 0, no: 0 };
    const afterFees = { yes: 0, no: 0 };
    const refusals: Record<string, number> = {};
    let tradeableCount = 0;
    for (const s of snaps) {
      const sums = bucketSums(s.event);
      if (sums.askSum) {
        asks.push(sums.askSum);
        const h = histogram.get(bin(sums.askSum)) ?? { askSums: 0, bidSums: 0 };
        h.askSums++;
        histogram.set(bin(sums.askSum), h);
      }
      if (sums.bidSum) {
        bids.push(sums.bidSum);
        const h = histogram.get(bin(sums.bidSum)) ?? { askSums: 0, bidSums: 0 };
        h.bidSums++;
        histogram.set(bin(sums.bidSum), h);
      }
      const askLegs = s.event.buckets.filter((b) => b.yesAsk);
      const bidLegs = s.event.buckets.filter((b) => b.yesBid);
      if (!sums.askSum && askLegs.length > 0) {
        shown.ask.push(askLegs.reduce((acc, b) => acc.plus(b.yesAsk!.price), new Dec(0)));
        shown.askLegs.add(askLegs.length);
      }
      if (!sums.bidSum && bidLegs.length > 0) {
        shown.bid.push(bidLegs.reduce((acc, b) => acc.plus(b.yesBid!.price), new Dec(0)));
        shown.bidLegs.add(bidLegs.length);
      }
      if (!tradeable(s)) {
        refusals['bucket(s) finalized: quote not tradeable'] = (refusals['bucket(s) finalized: quote not tradeable'] ?? 0) + 1;
        continue;
      }
      tradeableCount++;
      if (sums.askSum?.lt(1)) beforeFees.yes++;
      // The NO basket may leave out buckets without a bid: its raw condition is Σ of the bids shown > 1.
      const shownBids = s.event.buckets.reduce((acc, b) => (b.yesBid ? acc.plus(b.yesBid.price) : acc), new Dec(0));
      if (shownBids.gt(1)) beforeFees.no++;
      const d = findBucketArbitrage(s.event, params, context);
      if (d.kind === 'basket') afterFees[d.basket]++;
      else for (const r of d.reasons) refusals[refusalKind(r)] = (refusals[refusalKind(r)] ?? 0) + 1;
    }
    perEvent.push({
      source,
      eventTicker,
      buckets: meta.buckets.length,
      mutuallyExclusive: meta.mutuallyExclusive,
      partition: meta.partition,
      snapshots: snaps.length,
      tradeable: tradeableCount,
      askSum: { complete: asks.length, ...quantiles(asks) },
      bidSum: { complete: bids.length, ...quantiles(bids) },
      askSumShown: shownSums(shown.ask, shown.askLegs),
      bidSumShown: shownSums(shown.bid, shown.bidLegs),
      beforeFees,
      afterFees,
      refusals,
    });
  }
  const runs = opportunityRuns(data.snapshots, decide(params), data.results);
  const whatIfParams: BucketArbParams = { ...params, partitionEvidence: ['strikes', 'ticker-pattern'] };
  const whatIfRuns = opportunityRuns(data.snapshots, decide(whatIfParams), data.results);
  const whatIfCounts = { yes: 0, no: 0 };
  for (const s of data.snapshots) {
    if (!tradeable(s)) continue;
    const b = decide(whatIfParams)(s);
    if (b) whatIfCounts[b.basket]++;
  }
  const settled = runs.filter((r) => r.settled);
  return {
    examined: {
      eventsListed: data.eventsListed,
      eventsSeen: data.events.size,
      multiBucket: multi.length,
      multiBucketFlaggedExclusive: multi.filter(([, e]) => e.mutuallyExclusive === true).length,
      multiBucketPartitionByTickers: multi.filter(([, e]) => e.partition === 'ticker-pattern').length,
      multiBucketPartitionByStrikes: multi.filter(([, e]) => e.partition === 'strikes').length,
    },
    perEvent,
    histogram: [...histogram.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([bucket, h]) => ({ bucket, ...h })),
    runs,
    pnl: {
      baskets: runs.length,
      guaranteedProfit: runs.reduce((s, r) => s.plus(r.first.guaranteedProfit), new Dec(0)).toFixed(4),
      fees: runs.reduce((s, r) => s.plus(r.first.fees), new Dec(0)).toFixed(4),
      settledProfit: settled.length === 0 ? null : settled.reduce((s, r) => s.plus(r.settled!.profit), new Dec(0)).toFixed(4),
    },
    withTickerPartitions: { ...whatIfCounts, runs: whatIfRuns.length, guaranteedProfit: whatIfRuns.reduce((s, r) => s.plus(r.first.guaranteedProfit), new Dec(0)).toFixed(4) },
  };
}

/** Best per-contract edge after fees on each timed snapshot (either basket, before any eligibility rule but exclusivity), for the fee-sensitivity table. */
export function edgeAtSizes(s: SourcedSnapshot, params: BucketArbParams, sizes: readonly Dec[]): { size: string; yes: string | null; no: string | null }[] {
  return sizes.map((size) => {
    const asks = s.event.buckets.map((b) => b.yesAsk?.price);
    const bidLegs = s.event.buckets.filter((b) => b.yesBid).map((b) => new Dec(1).minus(b.yesBid!.price));
    const yes = asks.every((a) => a !== undefined) ? basketEconomics('yes', asks as Dec[], size, params.fees).edgePerContract.toFixed(4) : null;
    const no = bidLegs.length >= 2 ? basketEconomics('no', bidLegs, size, params.fees).edgePerContract.toFixed(4) : null;
    return { size: size.toString(), yes, no };
  });
}

/** Time folds over the timed snapshots: `folds` equal slices of the covered span. */
export function timeSlices(snapshots: readonly SourcedSnapshot[], folds: number): { label: string; fromMs: number; toMs: number }[] {
  const times = snapshots.flatMap((s) => (s.atMs === null ? [] : [s.atMs]));
  if (times.length === 0) return [];
  const from = Math.min(...times);
  const to = Math.max(...times) + 1;
  const width = (to - from) / folds;
  return Array.from({ length: folds }, (_, i) => {
    const fromMs = Math.round(from + i * width);
    const toMs = i === folds - 1 ? to : Math.round(from + (i + 1) * width);
    return { label: `${new Date(fromMs).toISOString().slice(0, 16)}Z`, fromMs, toMs };
  });
}

export const MIN_EDGE_GRID = ['0.05', '0.03', '0.02', '0.01', '0.005', '0'] as const;

/**
 * Walk-forward on the timed (history) snapshots: the span is cut into `folds` slices; each fold chooses
 * minEdge on `trainSlices` slices by guaranteed profit (each run taken once, at its first snapshot) and
 * is scored on the next slice. The grid is ordered most conservative first, so ties keep the larger minEdge.
 */
export async function bucketArbWalkForward(data: LoadedSnapshots, params: BucketArbParams, opts: { folds: number; trainSlices: number }) {
  const timed = data.snapshots.filter((s) => s.atMs !== null);
  const slices = timeSlices(timed, opts.folds);
  if (slices.length === 0) return null;
  const bySlice = new Map(slices.map((sl) => [sl.label, timed.filter((s) => s.atMs! >= sl.fromMs && s.atMs! < sl.toMs)]));
  const grid = MIN_EDGE_GRID.map((m) => ({ ...params, minEdge: new Dec(m) }));
  const score = (p: BucketArbParams, labels: readonly string[]) => {
    const snaps = labels.flatMap((l) => bySlice.get(l) ?? []);
    const runs = opportunityRuns(snaps, (s) => {
      const d = findBucketArbitrage(s.event, p);
      return d.kind === 'basket' ? d : null;
    }, data.results);
    return Promise.resolve(runs.reduce((acc, r) => acc + r.first.guaranteedProfit.toNumber(), 0));
  };
  const result = await walkForward({ days: slices.map((s) => s.label), trainDays: opts.trainSlices, testDays: 1, grid, evaluate: score });
  return {
    slices: slices.map((s) => ({ ...s, snapshots: bySlice.get(s.label)!.length })),
    folds: result.folds.map((f) => ({ train: f.train, test: f.test, chosenMinEdge: f.chosen.minEdge.toString(), inSample: f.inSample, outOfSample: f.outOfSample, candidates: f.candidates.map((c) => ({ minEdge: c.params.minEdge.toString(), score: c.score })) })),
    inSampleTotal: result.inSampleTotal,
    outOfSampleTotal: result.outOfSampleTotal,
  };
}

export type BucketArbWalkForward = NonNullable<Awaited<ReturnType<typeof bucketArbWalkForward>>>;

const shownText = (x: { snapshots: number; buckets: string; min: string | null; max: string | null }) => (x.snapshots === 0 ? '-' : `${x.snapshots}, ${x.buckets}: ${x.min}..${x.max}`);
const iso = (ms: number | null) => (ms === null ? 'time not recorded' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const flag = (x: boolean | null) => (x === null ? 'not recorded' : String(x));

/** Writes report.md and report.json into `dir`; returns their paths. */
export function writeBucketArbReport(dir: string, ctx: { analysis: BucketArbAnalysis; walkForward: BucketArbWalkForward | null; params: BucketArbParams; snapshotsDir: string; feeSensitivity: { eventTicker: string; source: SnapshotSource; atMs: number | null; edges: ReturnType<typeof edgeAtSizes> }[] }): { report: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const a = ctx.analysis;
  const runRows = a.runs.map((r) => `| ${r.source} | ${r.eventTicker} | ${r.basket} | ${iso(r.startMs)} | ${r.snapshots} | ${r.endMs !== null && r.startMs !== null ? `${((r.endMs - r.startMs) / 1000).toFixed(0)} s` : 'to end of data'} | ${r.first.size.toString()} | ${r.first.priceSum.toFixed(2)} | ${r.first.fees.toFixed(4)} | ${r.first.guaranteedProfit.toFixed(4)} | ${r.settled?.profit ?? 'no results'} |`);
  const lines = [
    '# Backtest: bucket arbitrage on Kalshi multi-bucket events',
    '',
    `Data: \`${ctx.snapshotsDir}\` (legacy Kalshi REST snapshots, 2024-07). ${a.examined.eventsListed} events listed in event_data.json, ${a.examined.eventsSeen} events seen across the files, ${a.examined.multiBucket} with two or more buckets: ${a.examined.multiBucketFlaggedExclusive} flagged \`mutually_exclusive\`, ${a.examined.multiBucketPartitionByStrikes} whose strikes (less/between/greater) cover every value on the grid their decimals imply, ${a.examined.multiBucketPartitionByTickers} whose tickers form a range-bucket partition (T tails around equally spaced B ranges; their exclusivity is not recorded).`,
    '',
    'Sources: market_data (one quote per market, no depth, time not recorded), market_history (change logs, timed, no depth; a history with the 100-point cap is unknown after its last point), orderbook (one book per market with depth, time not recorded). Without depth a quote counts as one contract, the least it can show, so the fee is that of a 1-contract order.',
    '',
    'YES basket: buy YES on every bucket; pays $1 per contract if exactly one bucket wins (needs exclusive and exhaustive). NO basket: buy NO on every bucket with a bid (= sell YES at the bids); pays at least k − 1 on k legs (needs exclusivity only). Profit after fees: YES q(1 − Σasks) − fees; NO q(Σbids − 1) − fees; fees are Kalshi taker fees per leg order, rounded as one order.',
    '',
    '## Bucket sums per event and source',
    '',
    '| source | event | buckets | ME flag | partition | snapshots | tradeable | Σ asks (complete: min / median / max) | Σ bids (complete: min / median / max) | Σ asks of the quoted buckets when not all (snapshots, buckets: min..max) | Σ bids of the quoted buckets when not all | Σ asks < 1 | Σ bids > 1 | taken YES | taken NO | why not (count) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...a.perEvent.map(
      (e) =>
        `| ${e.source} | ${e.eventTicker} | ${e.buckets} | ${flag(e.mutuallyExclusive)} | ${e.partition ?? '-'} | ${e.snapshots} | ${e.tradeable} | ${e.askSum.complete}: ${e.askSum.min ?? '-'} / ${e.askSum.median ?? '-'} / ${e.askSum.max ?? '-'} | ${e.bidSum.complete}: ${e.bidSum.min ?? '-'} / ${e.bidSum.median ?? '-'} / ${e.bidSum.max ?? '-'} | ${shownText(e.askSumShown)} | ${shownText(e.bidSumShown)} | ${e.beforeFees.yes} | ${e.beforeFees.no} | ${e.afterFees.yes} | ${e.afterFees.no} | ${Object.entries(e.refusals)
          .sort(([, x], [, y]) => y - x)
          .slice(0, 3)
          .map(([k, n]) => `${k.replace(/\|/g, '/')} (${n})`)
          .join('; ')} |`,
    ),
    '',
    '## Distribution of bucket sums (snapshots where every bucket had that side)',
    '',
    '| sum from $ | Σ YES asks | Σ YES bids |',
    '|---|---|---|',
    ...a.histogram.map((h) => `| ${h.bucket} | ${h.askSums} | ${h.bidSums} |`),
    '',
    '## Opportunities taken by the strategy (after fees, depth, exclusivity and minEdge)',
    '',
    `${a.runs.length} run(s); guaranteed profit if each run is taken once at its first snapshot, at the shown depth: $${a.pnl.guaranteedProfit} (fees $${a.pnl.fees}); settled with recorded results: ${a.pnl.settledProfit === null ? 'no run has results for all its legs' : `$${a.pnl.settledProfit}`}.`,
    '',
    ...(runRows.length ? ['| source | event | basket | from | snapshots | lasted | size | Σ prices | fees $ | guaranteed $ | settled $ |', '|---|---|---|---|---|---|---|---|---|---|---|', ...runRows, ''] : []),
    `What-if (not the strategy): accepting ticker-pattern partitions as proof of exclusivity and exhaustiveness gives ${a.withTickerPartitions.yes} YES and ${a.withTickerPartitions.no} NO snapshot(s) taken, ${a.withTickerPartitions.runs} run(s), guaranteed profit $${a.withTickerPartitions.guaranteedProfit}.`,
    '',
    '## Fee sensitivity: best edge per contract after fees by order size (orderbook snapshots, exclusivity assumed)',
    '',
    '| source | event | time | size | YES basket edge $ | NO basket edge $ |',
    '|---|---|---|---|---|---|',
    ...ctx.feeSensitivity.flatMap((f) => f.edges.map((e) => `| ${f.source} | ${f.eventTicker} | ${iso(f.atMs)} | ${e.size} | ${e.yes ?? '-'} | ${e.no ?? '-'} |`)),
    '',
    '## Walk-forward (market_history, time slices)',
    '',
    ...(ctx.walkForward
      ? [
          `Slices: ${ctx.walkForward.slices.map((s) => `${s.label} (${s.snapshots} snapshots)`).join(', ')}. minEdge chosen on the training slices by guaranteed profit from grid ${MIN_EDGE_GRID.join(', ')} (ties keep the larger), scored on the next slice.`,
          '',
          '| train | test | chosen minEdge | in-sample $ (per test slice) | out-of-sample $ |',
          '|---|---|---|---|---|',
          ...ctx.walkForward.folds.map((f) => `| ${f.train.join(', ')} | ${f.test.join(', ')} | ${f.chosenMinEdge} | ${f.inSample.toFixed(4)} | ${f.outOfSample.toFixed(4)} |`),
          '',
          `Total in-sample $${ctx.walkForward.inSampleTotal.toFixed(4)}, out-of-sample $${ctx.walkForward.outOfSampleTotal.toFixed(4)}.`,
        ]
      : ['No timed snapshots: no walk-forward.']),
    '',
    '## Parameters',
    '',
    '```json',
    JSON.stringify(bucketArbParamsWire(ctx.params), null, 2),
    '```',
    '',
  ];
  const report = path.join(dir, 'report.md');
  const json = path.join(dir, 'report.json');
  writeFileSync(report, lines.join('\n'));
  const wire = { ...a, runs: a.runs.map((r) => ({ ...r, first: basketWire(r.first) })) };
  writeFileSync(json, JSON.stringify({ parameters: bucketArbParamsWire(ctx.params), analysis: wire, walkForward: ctx.walkForward, feeSensitivity: ctx.feeSensitivity }, null, 2));
  return { report, json };
}

/** A basket with its decimals as strings (Decimal's JSON form is a string too; this fixes the places). */
export function basketWire(b: BucketBasket) {
  return {
    ...b,
    legs: b.legs.map((l) => ({ ...l, limitPrice: l.limitPrice.toFixed(4), size: l.size.toString() })),
    size: b.size.toString(),
    priceSum: b.priceSum.toFixed(4),
    cost: b.cost.toFixed(4),
    fees: b.fees.toFixed(4),
    guaranteedPayout: b.guaranteedPayout.toFixed(4),
    guaranteedProfit: b.guaranteedProfit.toFixed(4),
    edgePerContract: b.edgePerContract.toFixed(4),
  };
}

/** The whole run: load, analyse, walk forward, fee sensitivity on the depth snapshots. */
export async function runBucketArbBacktest(opts: { snapshotsDir: string; params: BucketArbParams; folds: number; trainSlices: number; strategyVersion?: string }) {
  const data = loadKalshiRestSnapshots(opts.snapshotsDir);
  const analysis = analyseBucketArbitrage(data, opts.params, { strategyVersion: opts.strategyVersion });
  const walk = await bucketArbWalkForward(data, opts.params, { folds: opts.folds, trainSlices: opts.trainSlices });
  const sizes = [new Dec(1), new Dec(10), new Dec(100)];
  const feeSensitivity = data.snapshots.filter((s) => s.depthKnown).map((s) => ({ eventTicker: s.event.eventTicker, source: s.source, atMs: s.atMs, edges: edgeAtSizes(s, opts.params, sizes) }));
  return { data, analysis, walkForward: walk, feeSensitivity };
}
