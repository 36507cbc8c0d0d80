import type { Clock } from '../../domain/clock';
import { ONE_DOLLAR, priceText, priceUnits } from '../../domain/fixed-point';
import { type BookStore } from '../../domain/market-data/book-store';
import { tryToUnits, type MarketEvent, type UnitEvent } from '../../domain/market-data/events';
import type { TopOfBook } from '../../domain/market-data/order-book';
import { onTick, parsePolymarketMessage, type ReportedTop } from './messages';

/** How often a resync is asked again for a book still waiting for its snapshot: doubling from `initialMs` up to `maxMs`. */
export interface ResyncBackoff {
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: ResyncBackoff = { initialMs: 1_000, maxMs: 30_000 };

/** A timestamp batch of one asset whose consistency is not checked yet. */
interface OpenBatch {
  ts: number;
  /** The venue's best bid/ask once the batch is complete (repeated on each of its messages). */
  top?: ReportedTop;
}

interface PendingResync {
  reason: string;
  lastRequestMs: number;
  requests: number;
}

/**
 * Keeps Polymarket books from the market channel. There is no sequence number: consistency is
 * checked against the best bid/ask the venue attaches to each price change. Those are the values at
 * the end of the change's timestamp batch (a match sends a burst of messages with one timestamp, each
 * carrying the burst's final best bid/ask), so the check runs once per batch, when the batch closes:
 * at the asset's next message with another timestamp, at its next `book`, or at `flush()` (the feed
 * calls it when the channel goes quiet, a replay at its end). Inside a batch the book may cross; the
 * book itself undoes a batch that ends crossed (`BinaryOrderBook.settle`).
 *
 * A book that disagrees, misses an update or cannot be read goes stale and one resync is requested
 * for its asset; while it waits, further requests are held back by `backoff` (doubling), however
 * many messages keep arriving. A `book` message (or REST /book snapshot) re-bases it. The stale
 * reason is the first cause, never wrapped again.
 *
 * The tick size lives with the live book: each `book` names it and each `tick_size_change` replaces
 * it; levels off the current tick are refused. Nothing a message carries can throw out of `handle`.
 */
export class PolymarketBookSync {
  readonly counters = { messages: 0, malformed: 0, resyncs: 0, resyncsHeldBack: 0, tickSizeChanges: 0, batchesChecked: 0 };
  private readonly ticks = new Map<string, string>();
  private readonly open = new Map<string, OpenBatch>();
  private readonly pending = new Map<string, PendingResync>();
  private readonly backoff: ResyncBackoff;

  constructor(
    readonly store: BookStore,
    private readonly hooks: {
      requestResync: (assetId: string, reason: string) => void;
      onMalformed?: (raw: unknown, error: string) => void;
      /** Times resync requests for the backoff; without one, a stale book is asked for once until a snapshot re-bases it. */
      clock?: Clock;
      backoff?: ResyncBackoff;
    },
  ) {
    this.backoff = hooks.backoff ?? DEFAULT_BACKOFF;
  }

  /** The asset's current tick size (from its last `book` or `tick_size_change`), if the feed named one. */
  tickSize(assetId: string): string | undefined {
    return this.ticks.get(assetId);
  }

  /** Assets waiting for a snapshot, with why. */
  awaitingResync(): ReadonlyMap<string, string> {
    return new Map([...this.pending].map(([asset, p]) => [asset, p.reason]));
  }

  handle(msg: unknown): void {
    this.counters.messages++;
    try {
      this.apply(msg);
    } catch (err) {
      // A bug triggered by one message must not take the feed down.
      this.malformed(msg, `handling the message failed: ${(err as Error).message}`);
    }
  }

  /** Closes every open batch: each is checked against what the venue reported for it. */
  flush(): void {
    for (const assetId of [...this.open.keys()]) this.closeBatch(assetId);
  }

  private apply(msg: unknown): void {
    const parsed = parsePolymarketMessage(msg);
    if (!parsed.ok) {
      this.malformed(msg, parsed.error);
      // The books the message was about missed an update: each waits for a fresh one.
      for (const assetId of assetsNamed(msg)) if (this.store.markets.has(assetId)) this.needsResync(assetId, `refused message: ${parsed.error}`.slice(0, 500));
      return;
    }
    const value = parsed.value;
    if (value.kind === 'ignored') return;
    if (value.kind === 'tick_size') {
      this.counters.tickSizeChanges++;
      this.ticks.set(value.assetId, value.tickSize);
      return;
    }
    const snapshot = value.events.find((e) => e.t === 'snapshot');
    if (snapshot) this.open.delete(snapshot.m); // replaced whole: nothing of its batch is left to check
    const batchTs = value.events.find((e) => e.t === 'level')?.ts;
    if (batchTs !== undefined) for (const assetId of new Set(value.events.map((e) => e.m))) if (this.open.get(assetId)?.ts !== batchTs) this.closeBatch(assetId);
    if (value.tick) this.ticks.set(value.tick.assetId, value.tick.tickSize);

    const units: UnitEvent[] = [];
    for (const event of value.events) {
      const unit = tryToUnits(event);
      const offTick = unit.ok ? this.offTick(event, unit.value) : undefined;
      if (unit.ok && offTick === undefined) {
        units.push(unit.value);
        continue;
      }
      const error = unit.ok ? offTick! : unit.error;
      this.malformed(msg, error);
      if (event.t !== 'trade') this.needsResync(event.m, `refused ${event.t}: ${error}`);
    }
    const outcome = this.store.applyAll(units);
    const refused = new Set<string>();
    for (const r of outcome.refused) {
      refused.add(r.market);
      this.needsResync(r.market, r.reason);
    }
    if (snapshot && !refused.has(snapshot.m) && !this.store.state(snapshot.m).book.stale) this.pending.delete(snapshot.m);
    if (batchTs === undefined) return;
    const tops = new Map(value.expectedTops.map((t) => [t.assetId, t]));
    for (const unit of units) {
      if (unit.t !== 'level' || refused.has(unit.m)) continue;
      const batch = this.open.get(unit.m) ?? { ts: batchTs };
      // Every message of the batch repeats its final best bid/ask: the latest one stands.
      batch.top = tops.get(unit.m) ?? batch.top;
      this.open.set(unit.m, batch);
    }
  }

  /** The batch is complete: a book it left crossed is undone, and its top must be what the venue reported. */
  private closeBatch(assetId: string): void {
    const batch = this.open.get(assetId);
    if (!batch) return;
    this.open.delete(assetId);
    this.counters.batchesChecked++;
    const book = this.store.state(assetId).book;
    const settled = book.settle();
    if (!settled.ok) return this.needsResync(assetId, settled.reason);
    const problem = batch.top && topDisagreement(book.top(), batch.top);
    if (problem) this.needsResync(assetId, `at the end of the batch at ${batch.ts}, ${problem}`);
  }

  /** Why a book event's price is off its asset's current tick, or undefined. */
  private offTick(event: MarketEvent, unit: UnitEvent): string | undefined {
    const tickText = this.ticks.get(event.m);
    if (tickText === undefined) return undefined;
    const tick = priceUnits(tickText);
    if (unit.t === 'snapshot') {
      for (const l of unit.yes) if (!onTick(l.price, tick)) return `bid price off the tick ${tickText}`;
      // NO prices are complements of asks: 1 − a is on the tick exactly when a is.
      for (const l of unit.no) if (!onTick(l.price, tick)) return `ask price off the tick ${tickText}`;
    }
    if ((unit.t === 'level' || unit.t === 'delta') && !onTick(unit.price, tick)) return `price off the tick ${tickText}`;
    return undefined;
  }

  private malformed(raw: unknown, error: string): void {
    this.counters.malformed++;
    try {
      this.hooks.onMalformed?.(raw, error);
    } catch {
      // A reporting hook's failure must not stop the book update.
    }
  }

  /**
   * Marks the book stale (keeping the first cause) and asks for its snapshot: at once the first
   * time, then again only once the backoff since the last request has passed.
   */
  private needsResync(assetId: string, reason: string): void {
    const book = this.store.state(assetId).book;
    if (!book.stale) book.markStale(reason);
    const cause = book.staleBecause ?? reason;
    this.open.delete(assetId);
    const now = this.hooks.clock?.nowMs() ?? 0;
    const pending = this.pending.get(assetId);
    if (pending && now - pending.lastRequestMs < Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (pending.requests - 1))) {
      this.counters.resyncsHeldBack++;
      return;
    }
    this.pending.set(assetId, { reason: cause, lastRequestMs: now, requests: (pending?.requests ?? 0) + 1 });
    this.counters.resyncs++;
    try {
      this.hooks.requestResync(assetId, cause);
    } catch {
      // The book is stale already; the backoff asks again, or a `book` message re-bases it.
    }
  }
}

/** How a book's top differs from the venue's reported best bid/ask (0 or "" for no bid, 0 or 1 for no ask), or undefined. */
function topDisagreement(top: TopOfBook, reported: ReportedTop): string | undefined {
  const bid = top.yesBid?.price ?? 0;
  const ask = top.yesAsk?.price;
  const bidOk = reported.bestBid === undefined || priceUnits(reported.bestBid) === bid;
  const reportedAsk = reported.bestAsk === undefined ? undefined : priceUnits(reported.bestAsk);
  const askOk = reportedAsk === undefined || (ask === undefined ? reportedAsk === 0 || reportedAsk === ONE_DOLLAR : reportedAsk === ask);
  if (bidOk && askOk) return undefined;
  return `the venue reports best bid/ask ${reported.bestBid ?? '-'}/${reported.bestAsk ?? '-'} but the book has ${top.yesBid ? priceText(top.yesBid.price) : 'none'}/${ask !== undefined ? priceText(ask) : 'none'}`;
}

/** The asset ids a (possibly malformed) message names: its own, and those of its price changes. */
function assetsNamed(msg: unknown): Set<string> {
  const named = new Set<string>();
  if (typeof msg !== 'object' || msg === null) return named;
  const { asset_id: own, price_changes: changes } = msg as { asset_id?: unknown; price_changes?: unknown };
  if (typeof own === 'string') named.add(own);
  if (Array.isArray(changes))
    for (const c of changes as unknown[]) {
      const id = typeof c === 'object' && c !== null ? (c as { asset_id?: unknown }).asset_id : undefined;
      if (typeof id === 'string') named.add(id);
    }
  return named;
}
