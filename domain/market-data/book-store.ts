import type { UnitEvent } from './events';
import { BinaryOrderBook, type TopOfBook } from './order-book';
import { NO_PRICE, PriceRing, type PricePoint } from './price-history';
import { isMarketId, MAX_MARKET_ID_LENGTH, unitEventProblem } from './validation';

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
  /**
   * Position of the newest event applied (or refused) from a numbered stream of batches: a batch
   * delivered again (a retry) skips the events at or before it, so no event is applied twice.
   */
  appliedStream: string | undefined;
  appliedBatch: number;
  appliedIndex: number;
}

/** Where a batch sits in its stream (e.g. `source:partition` and the batch number). */
export interface StreamPosition {
  stream: string;
  batchSeq: number;
}

export interface ApplyOutcome {
  applied: number;
  /** Refused events with their index in the batch (so the caller can report the raw payload). */
  refused: { market: string; reason: string; index: number }[];
  /** Events skipped because their market had applied them already (a batch delivered again). */
  alreadyApplied: number;
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
      s = { book: new BinaryOrderBook(market), history: new PriceRing(this.opts.historyCapacity), lastTradePrice: NO_PRICE, cumulativeVolume: 0, lastPointTs: -Infinity, pointIndex: -1, receivedAtMs: -Infinity, appliedStream: undefined, appliedBatch: -1, appliedIndex: -1 };
      this.markets.set(market, s);
    }
    return s;
  }

  /**
   * Applies events in order. Each is validated first (`unitEventProblem`): a refused one is
   * reported and marks only its own market stale (a trade print is refused without touching the
   * book). With a `position`, events a market already took from that stream are skipped.
   */
  applyAll(events: readonly UnitEvent[], receivedAtMs = -Infinity, position?: StreamPosition): ApplyOutcome {
    const outcome: ApplyOutcome = { applied: 0, refused: [], alreadyApplied: 0, points: [], tops: new Map() };
    for (const s of this.markets.values()) s.pointIndex = -1;
    for (let index = 0; index < events.length; index++) {
      const e = events[index]!;
      const problem = unitEventProblem(e);
      if (problem !== undefined) {
        this.refuse(e, problem, index, outcome);
        continue;
      }
      const s = this.state(e.m);
      if (position !== undefined) {
        if (s.appliedStream === position.stream && (position.batchSeq < s.appliedBatch || (position.batchSeq === s.appliedBatch && index <= s.appliedIndex))) {
          outcome.alreadyApplied++;
          continue;
        }
        s.appliedStream = position.stream;
        s.appliedBatch = position.batchSeq;
        s.appliedIndex = index;
      }
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
          outcome.refused.push({ market: e.m, reason: result.reason, index });
          outcome.tops.set(e.m, s.book.top());
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

  private refuse(e: UnitEvent, reason: string, index: number, outcome: ApplyOutcome): void {
    const m: unknown = e.m;
    if (!isMarketId(m)) {
      outcome.refused.push({ market: typeof m === 'string' ? `${m.slice(0, MAX_MARKET_ID_LENGTH)}…` : `(${typeof m})`, reason, index });
      return;
    }
    if (e.t !== 'trade') {
      // The book missed an update it cannot make sense of: it waits for a snapshot.
      const s = this.state(m);
      s.book.markStale(`refused ${String(e.t)}: ${reason}`);
      outcome.tops.set(m, s.book.top());
    }
    outcome.refused.push({ market: m, reason, index });
  }

  historyBytes(): number {
    let total = 0;
    for (const s of this.markets.values()) total += s.history.byteLength;
    return total;
  }
}
