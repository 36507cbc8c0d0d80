import type { UnitEvent } from './events';
import { BinaryOrderBook, type TopOfBook } from './order-book';
import { NO_PRICE, PriceRing, type PricePoint } from './price-history';

export interface MarketState {
  book: BinaryOrderBook;
  history: PriceRing;
  lastTradePrice: number;
  cumulativeVolume: number;
  lastPointTs: number;
  /** Index in the current outcome's `points` of this market's newest point, if any. */
  pointIndex: number;
  /** When (local clock) the newest event for this market was applied: staleness is judged on this. */
  receivedAtMs: number;
}

export interface ApplyOutcome {
  applied: number;
  refused: { market: string; reason: string }[];
  /** Points added to history (sampled), for persistence. */
  points: { market: string; point: PricePoint }[];
  /** Markets whose top of book changed, with the new top. */
  tops: Map<string, TopOfBook>;
}

/**
 * All books and price histories of one ingestion partition. History is sampled: a point is taken
 * at most every `sampleMs` per market (and on every trade) so bursts of deltas do not flood it.
 */
export class BookStore {
  readonly markets = new Map<string, MarketState>();

  constructor(private readonly opts: { historyCapacity: number; sampleMs: number }) {}

  state(market: string): MarketState {
    let s = this.markets.get(market);
    if (!s) {
      s = { book: new BinaryOrderBook(market), history: new PriceRing(this.opts.historyCapacity), lastTradePrice: NO_PRICE, cumulativeVolume: 0, lastPointTs: -Infinity, pointIndex: -1, receivedAtMs: -Infinity };
      this.markets.set(market, s);
    }
    return s;
  }

  applyAll(events: readonly UnitEvent[], receivedAtMs = -Infinity): ApplyOutcome {
    const outcome: ApplyOutcome = { applied: 0, refused: [], points: [], tops: new Map() };
    for (const s of this.markets.values()) s.pointIndex = -1;
    for (const e of events) {
      const s = this.state(e.m);
      if (e.t === 'stale') {
        // Not data: the book stops being trusted until its next snapshot, and its age keeps growing.
        s.book.markStale(e.reason);
        outcome.tops.set(e.m, s.book.top());
        continue;
      }
      s.receivedAtMs = receivedAtMs;
      let sample = false;
      if (e.t === 'snapshot' || e.t === 'delta' || e.t === 'level') {
        // A refused snapshot or delta leaves the book as it was, and stale.
        const result =
          e.t === 'snapshot' ? s.book.applySnapshot(e.yes, e.no, e.ts) : e.t === 'delta' ? s.book.applyDelta(e.side, e.price, e.delta, e.ts) : s.book.setLevel(e.side, e.price, e.size, e.ts);
        if (!result.ok) {
          outcome.refused.push({ market: e.m, reason: result.reason });
          continue;
        }
      } else {
        s.lastTradePrice = e.price;
        s.cumulativeVolume += e.count;
        sample = true;
      }
      outcome.applied++;
      const top = s.book.top();
      outcome.tops.set(e.m, top);
      const point: PricePoint = { ts: e.ts, bid: top.yesBid?.price ?? NO_PRICE, ask: top.yesAsk?.price ?? NO_PRICE, last: s.lastTradePrice, volume: s.cumulativeVolume };
      if (e.ts === s.lastPointTs) {
        // Same millisecond as the newest point: it becomes the state at the end of that millisecond.
        s.history.replaceLatest(point);
        if (s.pointIndex >= 0) outcome.points[s.pointIndex] = { market: e.m, point };
        else {
          s.pointIndex = outcome.points.length;
          outcome.points.push({ market: e.m, point });
        }
      } else if (sample || e.ts - s.lastPointTs >= this.opts.sampleMs) {
        s.history.push(point);
        s.lastPointTs = e.ts;
        s.pointIndex = outcome.points.length;
        outcome.points.push({ market: e.m, point });
      }
    }
    return outcome;
  }

  historyBytes(): number {
    let total = 0;
    for (const s of this.markets.values()) total += s.history.byteLength;
    return total;
  }
}
