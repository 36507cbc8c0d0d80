import { Dec } from '../../domain/decimal';
import { priceUnits } from '../../domain/fixed-point';
import { type BookStore } from '../../domain/market-data/book-store';
import { toUnits } from '../../domain/market-data/events';
import { parsePolymarketMessage } from './messages';

/**
 * Keeps Polymarket books from the market channel. There is no sequence number, so consistency is
 * checked against the best bid/ask the venue attaches to every price change; a mismatch marks the
 * book stale and asks for a resync (a REST /book snapshot or a new `book` message re-bases it).
 */
export class PolymarketBookSync {
  readonly counters = { messages: 0, malformed: 0, resyncs: 0, tickSizeChanges: 0 };
  readonly tickSizes = new Map<string, string>();

  constructor(
    readonly store: BookStore,
    private readonly hooks: { requestResync: (assetId: string, reason: string) => void; onMalformed?: (raw: unknown, error: string) => void },
  ) {}

  handle(msg: unknown): void {
    this.counters.messages++;
    const parsed = parsePolymarketMessage(msg);
    if (!parsed.ok) {
      this.counters.malformed++;
      this.hooks.onMalformed?.(msg, parsed.error);
      return;
    }
    const value = parsed.value;
    if (value.kind === 'tick_size') {
      this.counters.tickSizeChanges++;
      this.tickSizes.set(value.assetId, value.tickSize);
      return;
    }
    if (value.kind === 'ignored') return;
    let units;
    try {
      units = value.events.map(toUnits);
    } catch (err) {
      this.counters.malformed++;
      this.hooks.onMalformed?.(msg, (err as Error).message);
      return;
    }
    const outcome = this.store.applyAll(units);
    for (const refused of outcome.refused) this.resync(refused.market, refused.reason);
    for (const expected of value.expectedTops) {
      const book = this.store.state(expected.assetId).book;
      if (book.stale) continue;
      const top = book.top();
      const bidOk = expected.bestBid === undefined || (top.yesBid ? top.yesBid.price === priceUnits(expected.bestBid) : new Dec(expected.bestBid).isZero());
      const askOk = expected.bestAsk === undefined || (top.yesAsk ? top.yesAsk.price === priceUnits(expected.bestAsk) : new Dec(expected.bestAsk).isZero() || new Dec(expected.bestAsk).eq(1));
      if (!bidOk || !askOk) this.resync(expected.assetId, `book disagrees with venue best bid/ask ${expected.bestBid}/${expected.bestAsk}`);
    }
  }

  private resync(assetId: string, reason: string): void {
    this.counters.resyncs++;
    this.store.state(assetId).book.markStale(reason);
    this.hooks.requestResync(assetId, reason);
  }
}
