import { BookStore } from '../../domain/market-data/book-store';
import { toUnits } from '../../domain/market-data/events';
import type { BinaryOrderBook, TopOfBook } from '../../domain/market-data/order-book';
import { SequenceTracker } from '../../domain/market-data/sequence';
import { priceText, priceUnits } from '../../domain/fixed-point';
import { kalshiToMarketEvent } from '../kalshi/market-events';
import { parseKalshiTrade } from '../kalshi/ws-messages';
import { bookMarketOf, type MalformedLine, type RecordedMessage } from './gold-feed';

export interface TradeCheckCounts {
  /** Trade at exactly the best opposite price the book showed before the sweep. */
  atTop: number;
  /** Trade deeper in the book (a sweep through several levels). */
  deeper: number;
  /** Trade at a price the book did not offer: a book/feed disagreement. */
  outside: number;
  /** Trade with no opposite side in the book. */
  noQuote: number;
}

export interface BookReplayStats {
  messages: number;
  snapshots: number;
  deltas: number;
  trades: number;
  other: number;
  malformed: number;
  refusedDeltas: number;
  /** Snapshots refused (invalid level or crossed): the book stays stale until a valid one. */
  refusedSnapshots: number;
  reconnects: number;
  tradeChecks: TradeCheckCounts;
  seq: SequenceTracker['counts'];
}

const RECENT_WINDOWS = 256;

/** Best prices the book showed during one exchange millisecond (before and after each delta). */
interface MsWindow {
  ms: number;
  /** Lowest YES ask and highest YES bid seen in the window, in price units. */
  bestAsk?: number;
  bestBid?: number;
}

/**
 * Rebuilds L2 books from recorded Kalshi messages and checks every trade against the book. The
 * books are the pipeline's own (`BookStore`, fed the same parsed events), so what this checks is
 * what the workers build.
 *
 * Kalshi sends the deltas a trade causes before the trade itself, stamped with the same exchange
 * millisecond; an order can even rest and be taken within that millisecond. So a trade is compared
 * with the best quotes the book showed at any point of its millisecond up to the trade.
 */
export class KalshiBookReplayer {
  /** The one book builder the pipeline, the backtester and this replayer share. */
  readonly store = new BookStore({ historyCapacity: 16, sampleMs: 60_000 });
  readonly sequence: SequenceTracker;
  readonly tradeChecks: TradeCheckCounts = { atTop: 0, deeper: 0, outside: 0, noQuote: 0 };
  readonly disagreements: string[] = [];
  private readonly counts = { messages: 0, snapshots: 0, deltas: 0, trades: 0, other: 0, malformed: 0, refusedDeltas: 0, refusedSnapshots: 0, reconnects: 0 };
  /** Per market, the recent exchange-ms windows: trades can arrive after deltas of later ms. */
  private readonly windows = new Map<string, Map<number, MsWindow>>();

  constructor(
    opts: { expectFilteredGaps: boolean },
    private readonly onMalformed: (bad: MalformedLine) => void = () => {},
  ) {
    this.sequence = new SequenceTracker({ ...opts, restartScope: 'connection' });
  }

  book(marketTicker: string): BinaryOrderBook {
    return this.store.state(marketTicker).book;
  }

  private malformed(rec: RecordedMessage, error: string): void {
    this.refusedLine({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error, bookMarket: bookMarketOf(rec.event) });
  }

  /** A line refused (here or by the reader): a book whose message it was missed an update and is stale until its next snapshot. */
  refusedLine(bad: MalformedLine): void {
    this.counts.malformed++;
    if (bad.bookMarket !== undefined) this.book(bad.bookMarket).markStale(`refused book message (line ${bad.lineNo}): ${bad.error}`);
    this.onMalformed(bad);
  }

  /**
   * A new recorded stream (one market's capture; its files split by UTC date are one stream):
   * sequence numbering and books start over, and its first snapshot re-bases the books.
   */
  beginStream(): void {
    this.sequence.resetAll();
    for (const { book } of this.store.markets.values()) book.markStale('new stream, waiting for its snapshot');
  }

  apply(rec: RecordedMessage): void {
    this.counts.messages++;
    const { type, sid, seq, msg } = rec.event;
    if ((type === 'orderbook_snapshot' || type === 'orderbook_delta') && (sid === undefined || seq === undefined)) return this.malformed(rec, 'book message without sid/seq');
    if (sid !== undefined && seq !== undefined) {
      // A snapshot numbered at or below what its sid reached means the recorder reconnected and
      // resubscribed: the tracker restarts numbering on every sid (restartScope 'connection').
      const verdict = this.sequence.observe(sid, seq, type === 'orderbook_snapshot');
      if (verdict === 'restart') this.counts.reconnects++;
      if (verdict === 'gap') for (const { book } of this.store.markets.values()) book.markStale(`seq gap on sid ${sid}`);
      // A message numbered at or below what its sid reached was delivered already (or is out of
      // order): it is counted by the tracker and dropped, never applied twice.
      if (verdict === 'duplicate' || verdict === 'regression') return;
    }
    if (type === 'orderbook_snapshot' || type === 'orderbook_delta') {
      const parsed = kalshiToMarketEvent(type, msg, rec.recvMs);
      if (!parsed?.ok) return this.malformed(rec, parsed?.error ?? `not a book message: ${type}`);
      const ev = parsed.value;
      const book = this.book(ev.m);
      if (ev.t === 'snapshot') {
        this.counts.snapshots++;
        if (this.store.applyAll([toUnits(ev)], rec.recvMs).refused.length > 0) this.counts.refusedSnapshots++;
        return;
      }
      this.counts.deltas++;
      const tsMs = ev.ts;
      let recent = this.windows.get(ev.m);
      if (!recent) this.windows.set(ev.m, (recent = new Map()));
      let window = recent.get(tsMs);
      if (!window) {
        window = widen({ ms: tsMs }, book.top());
        recent.set(tsMs, window);
        if (recent.size > RECENT_WINDOWS) recent.delete(recent.keys().next().value!);
      }
      if (this.store.applyAll([toUnits(ev)], rec.recvMs).refused.length > 0) this.counts.refusedDeltas++;
      widen(window, book.top());
      return;
    }
    if (type === 'trade') {
      const parsed = parseKalshiTrade(msg);
      if (!parsed.ok) return this.malformed(rec, parsed.error);
      this.counts.trades++;
      const trade = parsed.value;
      const book = this.book(trade.marketTicker);
      if (book.stale) return;
      const seen = this.windows.get(trade.marketTicker)?.get(trade.exchangeTsMs) ?? widen({ ms: trade.exchangeTsMs }, book.top());
      const price = priceUnits(trade.yesPrice);
      // A YES taker lifts YES asks (price >= best ask); a NO taker hits YES bids (price <= best bid).
      const quote = trade.takerSide === 'yes' ? seen.bestAsk : seen.bestBid;
      if (quote === undefined) this.tradeChecks.noQuote++;
      else if (price === quote) this.tradeChecks.atTop++;
      else if (trade.takerSide === 'yes' ? price > quote : price < quote) this.tradeChecks.deeper++;
      else {
        this.tradeChecks.outside++;
        if (this.disagreements.length < 20) this.disagreements.push(`${trade.marketTicker} trade ${trade.tradeId} ${trade.takerSide}@${trade.yesPrice} vs book ${priceText(quote)} (line ${rec.lineNo})`);
      }
      return;
    }
    this.counts.other++;
  }

  stats(): BookReplayStats {
    return { ...this.counts, tradeChecks: { ...this.tradeChecks }, seq: { ...this.sequence.counts } };
  }
}

function widen(window: MsWindow, top: TopOfBook): MsWindow {
  if (top.yesAsk && (window.bestAsk === undefined || top.yesAsk.price < window.bestAsk)) window.bestAsk = top.yesAsk.price;
  if (top.yesBid && (window.bestBid === undefined || top.yesBid.price > window.bestBid)) window.bestBid = top.yesBid.price;
  return window;
}
