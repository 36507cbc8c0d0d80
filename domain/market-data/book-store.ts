import * as fixedPoint from '../fixed-point';
import * as eventColumns from './event-columns';
import type { EventColumns } from './event-columns';
import type { UnitEvent } from './events';
import { BinaryOrderBook, type TopOfBook } from './order-book';
import * as priceHistory from './price-history';
import { PriceRing, type PricePoint } from './price-history';
import * as validation from './validation';
import { MAX_MARKET_ID_LENGTH, unitEventProblem } from './validation';

// Module constants, not imports, on the per-event path: a compiled import is a property read
// through a getter on every use, which the replay of a whole feed pays millions of times.
const { ONE_DOLLAR } = fixedPoint;
const { NO_PRICE } = priceHistory;
const { isBookPrice, isMarketId, isTradeId } = validation;
const { SIDES } = eventColumns;
const { delta: DELTA, level: LEVEL, trade: TRADE } = eventColumns.EVENT_KIND;
const NO_POINT = 0;
const POINT_REPLACED = 1;
const POINT_ADDED = 2;

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
  /** The `applyAll` call that last touched this market (its top is reported once, at the end). */
  touchedIn: number;
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
  /** The states of the last event columns applied, by market index. */
  private columnStates: { events: EventColumns; states: (MarketState | undefined)[] } | undefined;
  /** Numbers `applyAll` calls; with `touched`, the markets of the current one, each once. */
  private applyGeneration = 0;
  private readonly touched: MarketState[] = [];

  constructor(private readonly opts: { historyCapacity: number; sampleMs: number }) {}

  state(market: string): MarketState {
    let s = this.markets.get(market);
    if (!s) {
      s = { book: new BinaryOrderBook(market), history: new PriceRing(this.opts.historyCapacity), lastTradePrice: NO_PRICE, cumulativeVolume: 0, lastPointTs: -Infinity, pointIndex: -1, receivedAtMs: -Infinity, appliedStream: undefined, appliedBatch: -1, appliedIndex: -1, touchedIn: 0 };
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
    this.beginApply();
    for (let index = 0; index < events.length; index++) this.applyEvent(events[index]!, index, receivedAtMs, position, outcome);
    return this.endApply(outcome);
  }

  private beginApply(): void {
    this.applyGeneration++;
    this.touched.length = 0;
  }

  /** A touched market's top is its book's top after the whole batch: built once per market, not per event. */
  private endApply(outcome: ApplyOutcome): ApplyOutcome {
    for (const s of this.touched) {
      s.pointIndex = -1;
      outcome.tops.set(s.book.marketTicker, s.book.top());
    }
    this.touched.length = 0;
    return outcome;
  }

  /** Notes that the current `applyAll` changed (or refused an event of) this market. */
  private touch(s: MarketState): void {
    if (s.touchedIn === this.applyGeneration) return;
    s.touchedIn = this.applyGeneration;
    s.pointIndex = -1;
    this.touched.push(s);
  }

  /**
   * Applies events [from, to) of `events` in order, exactly as `applyAll` applies them as objects,
   * but reports nothing: for a replay that reads the books afterwards (the backtester). Deltas,
   * levels and trades that pass `unitEventProblem`'s checks are read straight from the columns
   * (no event object, no top-of-book object); anything else (snapshots, stale marks, an event to
   * refuse) takes the object path.
   */
  applyColumns(events: EventColumns, from: number, to: number, receivedAtMs = -Infinity): void {
    this.applyColumnRange(events, from, to, receivedAtMs, undefined, undefined);
  }

  /**
   * `applyAll` of a whole batch held as columns (what the book worker applies): the same outcome,
   * without an event object per delta, level or trade.
   */
  applyAllColumns(events: EventColumns, receivedAtMs = -Infinity, position?: StreamPosition): ApplyOutcome {
    const outcome: ApplyOutcome = { applied: 0, refused: [], alreadyApplied: 0, points: [], tops: new Map() };
    this.beginApply();
    this.applyColumnRange(events, 0, events.length, receivedAtMs, position, outcome);
    return this.endApply(outcome);
  }

  private applyColumnRange(events: EventColumns, from: number, to: number, receivedAtMs: number, position: StreamPosition | undefined, outcome: ApplyOutcome | undefined): void {
    const c = events.columns;
    // Narrow columns (EventColumns.compact) read through their scales; wide ones have base −0 and unit 1.
    const { tsBase, sizeUnit } = events;
    const states = this.columnStatesOf(events);
    for (let i = from; i < to; i++) {
      const kind = c.kind[i]!;
      const ts = c.ts[i]! + tsBase;
      const side = c.side[i]!;
      const price = c.price[i]!;
      const size = c.size[i]! * sizeUnit;
      const plain =
        ts >= 0 &&
        Number.isSafeInteger(ts) &&
        side <= 1 &&
        (kind === DELTA ? Number.isSafeInteger(size) : kind === LEVEL || (kind === TRADE && isBookPrice(price) && Number.isSafeInteger(size) && size > 0 && isTradeId(events.textOf(i))));
      // A market's id is checked once, when its state is first looked up for these columns.
      const s = plain ? (states[c.market[i]!] ?? this.stateOfColumn(events, c.market[i]!)) : undefined;
      if (s === undefined) {
        this.applyEvent(events.at(i), i - from, receivedAtMs, position, outcome);
        continue;
      }
      if (position !== undefined && !this.takesFrom(s, position, i - from, outcome)) continue;
      s.receivedAtMs = receivedAtMs;
      if (kind === TRADE) {
        s.lastTradePrice = price;
        s.cumulativeVolume += size;
      } else {
        const result = kind === DELTA ? s.book.applyDelta(SIDES[side]!, price, size, ts) : s.book.setLevel(SIDES[side]!, price, size, ts);
        if (!result.ok) {
          if (outcome) {
            outcome.refused.push({ market: s.book.marketTicker, reason: result.reason, index: i - from });
            this.touch(s);
          }
          continue;
        }
      }
      const taken = this.takePoint(s, ts, kind === TRADE);
      if (outcome) this.report(s, ts, taken, outcome);
    }
  }

  /** The market states of `events` by market index, looked up as events need them (a replay would otherwise hash a market id per event). */
  private columnStatesOf(events: EventColumns): (MarketState | undefined)[] {
    if (this.columnStates?.events !== events) this.columnStates = { events, states: [] };
    return this.columnStates.states;
  }

  /** `state()` of market index `index`, when its id may name a market (else the event takes the object path and is refused there). */
  private stateOfColumn(events: EventColumns, index: number): MarketState | undefined {
    const m = events.markets[index];
    if (!isMarketId(m)) return undefined;
    return (this.columnStatesOf(events)[index] = this.state(m));
  }

  /** One event of `applyAll` (with an outcome to report to) or of `applyColumns` (without). */
  private applyEvent(e: UnitEvent, index: number, receivedAtMs: number, position: StreamPosition | undefined, outcome: ApplyOutcome | undefined): void {
    const problem = unitEventProblem(e);
    if (problem !== undefined) return this.refuse(e, problem, index, outcome);
    const s = this.state(e.m);
    if (position !== undefined && !this.takesFrom(s, position, index, outcome)) return;
    if (e.t === 'stale') {
      // Not data: the book stops being trusted until its next snapshot, and its age keeps growing.
      s.book.markStale(e.reason);
      if (outcome) this.touch(s);
      return;
    }
    s.receivedAtMs = receivedAtMs;
    let sample = false;
    if (e.t === 'snapshot' || e.t === 'delta' || e.t === 'level') {
      // A refused snapshot or delta leaves the book as it was, and stale.
      const result =
        e.t === 'snapshot' ? s.book.applySnapshot(e.yes, e.no, e.ts) : e.t === 'delta' ? s.book.applyDelta(e.side, e.price, e.delta, e.ts) : s.book.setLevel(e.side, e.price, e.size, e.ts);
      if (!result.ok) {
        if (outcome) {
          outcome.refused.push({ market: e.m, reason: result.reason, index });
          this.touch(s);
        }
        return;
      }
    } else {
      s.lastTradePrice = e.price;
      s.cumulativeVolume += e.count;
      sample = true;
    }
    const taken = this.takePoint(s, e.ts, sample);
    if (outcome) this.report(s, e.ts, taken, outcome);
  }

  /**
   * Whether event `index` of the batch at `position` is new to this market (it then becomes the
   * market's newest); a batch delivered again skips what the market took from it already.
   */
  private takesFrom(s: MarketState, position: StreamPosition, index: number, outcome: ApplyOutcome | undefined): boolean {
    if (s.appliedStream === position.stream && (position.batchSeq < s.appliedBatch || (position.batchSeq === s.appliedBatch && index <= s.appliedIndex))) {
      if (outcome) outcome.alreadyApplied++;
      return false;
    }
    s.appliedStream = position.stream;
    s.appliedBatch = position.batchSeq;
    s.appliedIndex = index;
    return true;
  }

  /** Reports an applied event: its market's top (at the end), and the history point it took, if any. */
  private report(s: MarketState, ts: number, taken: number, outcome: ApplyOutcome): void {
    outcome.applied++;
    this.touch(s);
    if (taken === NO_POINT) return;
    const noBid = s.book.bestBid('no');
    const point: PricePoint = { ts, bid: s.book.bestBid('yes') ?? NO_PRICE, ask: noBid === undefined ? NO_PRICE : ONE_DOLLAR - noBid, last: s.lastTradePrice, volume: s.cumulativeVolume };
    const market = s.book.marketTicker;
    // Several events in one millisecond report one point: the state at the end of that millisecond.
    if (taken === POINT_REPLACED && s.pointIndex >= 0) outcome.points[s.pointIndex] = { market, point };
    else {
      s.pointIndex = outcome.points.length;
      outcome.points.push({ market, point });
    }
  }

  /**
   * What an applied event at `ts` does to its market's sampled history: replaces the newest point
   * (same millisecond), adds one (a trade, or `sampleMs` after the newest), or nothing.
   */
  private pointTaken(s: MarketState, ts: number, sample: boolean): number {
    if (ts === s.lastPointTs) return POINT_REPLACED;
    return sample || ts - s.lastPointTs >= this.opts.sampleMs ? POINT_ADDED : NO_POINT;
  }

  /** An applied event's history point, read from the book's best prices (no top-of-book object); says what it did. */
  private takePoint(s: MarketState, ts: number, sample: boolean): number {
    const taken = this.pointTaken(s, ts, sample);
    if (taken === NO_POINT) return taken;
    const bid = s.book.bestBid('yes') ?? NO_PRICE;
    const noBid = s.book.bestBid('no');
    const ask = noBid === undefined ? NO_PRICE : ONE_DOLLAR - noBid;
    if (taken === POINT_REPLACED) s.history.replaceLatestValues(ts, bid, ask, s.lastTradePrice, s.cumulativeVolume);
    else {
      s.history.pushValues(ts, bid, ask, s.lastTradePrice, s.cumulativeVolume);
      s.lastPointTs = ts;
    }
    return taken;
  }

  private refuse(e: UnitEvent, reason: string, index: number, outcome: ApplyOutcome | undefined): void {
    const m: unknown = e.m;
    if (!isMarketId(m)) {
      outcome?.refused.push({ market: typeof m === 'string' ? `${m.slice(0, MAX_MARKET_ID_LENGTH)}…` : `(${typeof m})`, reason, index });
      return;
    }
    if (e.t !== 'trade') {
      // The book missed an update it cannot make sense of: it waits for a snapshot.
      const s = this.state(m);
      s.book.markStale(`refused ${String(e.t)}: ${reason}`);
      if (outcome) this.touch(s);
    }
    outcome?.refused.push({ market: m, reason, index });
  }

  historyBytes(): number {
    let total = 0;
    for (const s of this.markets.values()) total += s.history.byteLength;
    return total;
  }
}
