import { Dec } from '../../domain/decimal';
import { priceUnits } from '../../domain/fixed-point';
import { type BookStore } from '../../domain/market-data/book-store';
import { tryToUnits, type MarketEvent, type UnitEvent } from '../../domain/market-data/events';
import { onTick, parsePolymarketMessage } from './messages';

/**
 * Keeps Polymarket books from the market channel. There is no sequence number, so consistency is
 * checked against the best bid/ask the venue attaches to every price change; a mismatch marks the
 * book stale and asks for a resync (a REST /book snapshot or a new `book` message re-bases it).
 *
 * Every message is validated before it touches a book (the parser checks the grid and ranges;
 * here, each level must also sit on its asset's known tick). A refused message marks only its own
 * asset stale and is reported with its raw payload; nothing a message carries can throw out of
 * `handle`. Each message is one complete update, so its books are checked for crossing after it.
 */
export class PolymarketBookSync {
  readonly counters = { messages: 0, malformed: 0, resyncs: 0, tickSizeChanges: 0 };
  /** Tick size per asset (from `book` and `tick_size_change` messages). */
  readonly tickSizes = new Map<string, string>();

  constructor(
    readonly store: BookStore,
    private readonly hooks: { requestResync: (assetId: string, reason: string) => void; onMalformed?: (raw: unknown, error: string) => void },
  ) {}

  handle(msg: unknown): void {
    this.counters.messages++;
    try {
      this.apply(msg);
    } catch (err) {
      // A bug triggered by one message must not take the feed down.
      this.malformed(msg, `handling the message failed: ${(err as Error).message}`);
    }
  }

  private apply(msg: unknown): void {
    const parsed = parsePolymarketMessage(msg);
    if (!parsed.ok) {
      this.malformed(msg, parsed.error);
      // The books the message was about missed an update: each waits for a fresh one.
      for (const assetId of assetsNamed(msg)) if (this.store.markets.has(assetId)) this.resync(assetId, `refused message: ${parsed.error}`.slice(0, 500));
      return;
    }
    const value = parsed.value;
    if (value.kind === 'tick_size') {
      this.counters.tickSizeChanges++;
      this.tickSizes.set(value.assetId, value.tickSize);
      return;
    }
    if (value.kind === 'ignored') return;
    if (value.tick) this.tickSizes.set(value.tick.assetId, value.tick.tickSize);
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
      if (event.t !== 'trade') this.resync(event.m, `refused ${event.t}: ${error}`);
    }
    const outcome = this.store.applyAll(units);
    for (const refused of outcome.refused) this.resync(refused.market, refused.reason);
    for (const market of new Set(units.map((u) => u.m))) {
      const book = this.store.state(market).book;
      const settled = book.settle();
      if (!settled.ok && !outcome.refused.some((r) => r.market === market)) this.resync(market, settled.reason);
    }
    for (const expected of value.expectedTops) {
      const book = this.store.state(expected.assetId).book;
      if (book.stale) continue;
      const top = book.top();
      const bidOk = expected.bestBid === undefined || (top.yesBid ? top.yesBid.price === priceUnits(expected.bestBid) : new Dec(expected.bestBid).isZero());
      const askOk = expected.bestAsk === undefined || (top.yesAsk ? top.yesAsk.price === priceUnits(expected.bestAsk) : new Dec(expected.bestAsk).isZero() || new Dec(expected.bestAsk).eq(1));
      if (!bidOk || !askOk) this.resync(expected.assetId, `book disagrees with venue best bid/ask ${expected.bestBid}/${expected.bestAsk}`);
    }
  }

  /** Why a book event's price is off its asset's tick (a `book` message names its tick), or undefined. */
  private offTick(event: MarketEvent, unit: UnitEvent): string | undefined {
    const tickText = this.tickSizes.get(event.m);
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

  private resync(assetId: string, reason: string): void {
    this.counters.resyncs++;
    this.store.state(assetId).book.markStale(reason);
    try {
      this.hooks.requestResync(assetId, reason);
    } catch {
      // The book is stale already; the next resync request or `book` message re-bases it.
    }
  }
}

/** The asset ids a (possibly malformed) message names: its own, and those of its price changes. */
function assetsNamed(msg: unknown): Set<string> {
  const named = new Set<string>();
  if (typeof msg !== 'object' || msg === null) return named;
  const { asset_id: own, price_changes: changes } = msg as { asset_id?: unknown; price_changes?: unknown };
  if (typeof own === 'string') named.add(own);
  if (Array.isArray(changes)) for (const c of changes as unknown[]) {
    const id = typeof c === 'object' && c !== null ? (c as { asset_id?: unknown }).asset_id : undefined;
    if (typeof id === 'string') named.add(id);
  }
  return named;
}
