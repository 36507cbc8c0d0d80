import * as fixedPoint from '../fixed-point';
import { priceText, sizeText } from '../fixed-point';

// A module constant, not the import: a compiled import is a property read through a getter, on every delta.
const { ONE_DOLLAR } = fixedPoint;

/** Kalshi books are two bid ladders: YES bids and NO bids. A NO bid at q is a YES ask at 1 − q. */
export type BookSide = 'yes' | 'no';

export interface Level {
  /** Price in 1e-4 dollars. */
  price: number;
  /** Size in 1e-6 contracts. */
  size: number;
}

export interface TopOfBook {
  yesBid?: Level;
  /** Derived from the best NO bid: price = $1 − NO bid. */
  yesAsk?: Level;
}

/** One cent in price units: Kalshi books are priced in whole cents, with finer ticks only in some ranges. */
const CENT = 100;
const CENTS = ONE_DOLLAR / CENT;

/**
 * One side's bids. Levels at whole-cent prices sit in a dense array indexed by cent (a read or a
 * write is an index, not a hash-map lookup: the book's per-delta cost); any other price in a map.
 */
class BidLadder {
  private readonly cents = new Float64Array(CENTS);
  private readonly offGrid = new Map<number, number>();
  private count = 0;
  private best: number | undefined;
  /** The size at `best` (kept with it: the top of book is read after nearly every change). */
  private bestSize = 0;
  private bestDirty = false;

  set(price: number, size: number): void {
    const cent = price / CENT;
    if (cent > 0 && cent < CENTS && Number.isInteger(cent)) {
      const had = this.cents[cent] !== 0;
      this.cents[cent] = size;
      if (had !== (size !== 0)) this.count += had ? -1 : 1;
    } else if (size === 0) {
      if (this.offGrid.delete(price)) this.count--;
    } else {
      const before = this.offGrid.size;
      this.offGrid.set(price, size);
      this.count += this.offGrid.size - before;
    }
    if (size === 0) {
      if (price === this.best) this.bestDirty = true;
      return;
    }
    if (!this.bestDirty && (this.best === undefined || price >= this.best)) {
      this.best = price;
      this.bestSize = size;
    }
  }

  get(price: number): number {
    const cent = price / CENT;
    if (cent > 0 && cent < CENTS && Number.isInteger(cent)) return this.cents[cent]!;
    return this.offGrid.get(price) ?? 0;
  }

  /** The best price, or undefined when the ladder is empty (allocates nothing). */
  bestPrice(): number | undefined {
    if (this.bestDirty) {
      let best: number | undefined;
      for (let cent = CENTS - 1; cent > 0; cent--) {
        if (this.cents[cent] !== 0) {
          best = cent * CENT;
          break;
        }
      }
      for (const price of this.offGrid.keys()) if (best === undefined || price > best) best = price;
      this.best = best;
      this.bestSize = best === undefined ? 0 : this.get(best);
      this.bestDirty = false;
    }
    return this.best;
  }

  bestLevel(): Level | undefined {
    const best = this.bestPrice();
    return best === undefined ? undefined : { price: best, size: this.bestSize };
  }

  /** The best `n` levels, best first: the cents walked down from the top, merged with the other prices. */
  top(n: number): Level[] {
    const others = this.offGrid.size === 0 ? [] : [...this.offGrid.keys()].sort((a, b) => b - a);
    const best: Level[] = [];
    let o = 0;
    for (let cent = CENTS - 1; cent > 0 && best.length < n; cent--) {
      if (this.cents[cent] === 0) continue;
      const price = cent * CENT;
      for (; o < others.length && others[o]! > price && best.length < n; o++) best.push({ price: others[o]!, size: this.offGrid.get(others[o]!)! });
      if (best.length < n) best.push({ price, size: this.cents[cent]! });
    }
    for (; o < others.length && best.length < n; o++) best.push({ price: others[o]!, size: this.offGrid.get(others[o]!)! });
    return best;
  }

  /** Levels best first. */
  levels(): Level[] {
    return this.top(this.count);
  }

  get depth(): number {
    return this.count;
  }
}

/** A book-changing operation: applied, or refused with the reason (the book is then stale). */
export type DeltaResult = { ok: true } | { ok: false; reason: string };

const STALE_PREFIX = 'book is stale: ';

const validPrice = (price: number) => Number.isSafeInteger(price) && price > 0 && price < ONE_DOLLAR;

/** Why a book with these best bids is crossed (YES bid ≥ YES ask, i.e. YES bid + NO bid ≥ $1), or undefined. */
function crossing(yes: BidLadder, no: BidLadder): string | undefined {
  const yesBid = yes.bestPrice();
  const noBid = no.bestPrice();
  if (yesBid === undefined || noBid === undefined || yesBid + noBid < ONE_DOLLAR) return undefined;
  return `crossed: best YES bid ${priceText(yesBid)} >= best YES ask ${priceText(ONE_DOLLAR - noBid)} (NO bid ${priceText(noBid)})`;
}

/** The one accepted result (shared: nothing is allocated per applied change). */
const OK: DeltaResult = Object.freeze({ ok: true });

/**
 * L2 book of one binary market, in exact integer units. A snapshot is built and checked aside and
 * only then replaces the book; a delta that would make a level negative is refused. Either refusal
 * leaves the book as it was and marks it stale until a snapshot re-bases it.
 *
 * Crossing is judged per exchange millisecond, not per delta: Kalshi can send a delta that crosses
 * the book just before the delta that uncrosses it, stamped with the same millisecond. The deltas
 * of the open millisecond are kept in an undo log; when the next millisecond begins (or `settle()`
 * is called) a book left crossed is rolled back to its state before that millisecond and marked
 * stale.
 */
export class BinaryOrderBook {
  private ladders: Record<BookSide, BidLadder> = { yes: new BidLadder(), no: new BidLadder() };
  private staleReason: string | undefined = 'no snapshot yet';
  /** Whether changes are pending a check (`open`), and their exchange millisecond (a number field, never undefined: no boxing per millisecond). */
  private open = false;
  private openMs = 0;
  /** Sizes the levels changed in the open millisecond had before it, oldest first: the first `undoLength` entries. */
  private readonly undoSide: BookSide[] = [];
  private readonly undoPrice: number[] = [];
  private readonly undoSize: number[] = [];
  private undoLength = 0;
  lastUpdateMs = 0;
  private lastUpdateBeforeOpenMs = 0;

  constructor(readonly marketTicker: string) {}

  /** Replaces the book, unless a level is invalid or the result would be crossed. */
  applySnapshot(yes: readonly Level[], no: readonly Level[], tsMs: number): DeltaResult {
    const built = { yes: new BidLadder(), no: new BidLadder() };
    for (const side of ['yes', 'no'] as const) {
      const ladder = built[side];
      for (const level of side === 'yes' ? yes : no) {
        if (!validPrice(level.price)) return this.markStale(`snapshot ${side} level price ${priceText(level.price)} is outside (0, 1) or off the price grid`);
        if (!Number.isSafeInteger(level.size) || level.size < 0) return this.markStale(`snapshot has a negative or invalid ${side} size ${sizeText(level.size)} at ${priceText(level.price)}`);
        ladder.set(level.price, ladder.get(level.price) + level.size);
      }
    }
    const crossed = crossing(built.yes, built.no);
    if (crossed) return this.markStale(`snapshot ${crossed}`);
    this.ladders = built;
    this.closeMs();
    this.staleReason = undefined;
    this.lastUpdateMs = tsMs;
    return OK;
  }

  applyDelta(side: BookSide, price: number, delta: number, tsMs: number): DeltaResult {
    const ready = this.beginChange(tsMs);
    if (!ready.ok) return ready;
    if (!validPrice(price)) return this.markStale(`delta price ${priceText(price)} outside (0, 1)`);
    const before = this.ladder(side).get(price);
    const next = before + delta;
    if (!Number.isSafeInteger(next) || next < 0) return this.markStale(`delta ${sizeText(delta)} at ${side} ${priceText(price)} would leave ${sizeText(next)}`);
    this.change(side, price, next, tsMs, before);
    return OK;
  }

  /** Sets a level's absolute size (0 removes it). */
  setLevel(side: BookSide, price: number, size: number, tsMs: number): DeltaResult {
    const ready = this.beginChange(tsMs);
    if (!ready.ok) return ready;
    if (!validPrice(price)) return this.markStale(`level price ${priceText(price)} outside (0, 1)`);
    if (!Number.isSafeInteger(size) || size < 0) return this.markStale(`negative level size ${sizeText(size)} at ${side} ${priceText(price)}`);
    this.change(side, price, size, tsMs);
    return OK;
  }

  /**
   * Closes the open exchange millisecond: if it left the book crossed, its changes are undone and
   * the book is marked stale. Callers that know a millisecond is complete may call it; otherwise
   * the next change of a later millisecond does.
   */
  settle(): DeltaResult {
    if (!this.open) return this.staleReason === undefined ? OK : this.staleRefusal();
    const crossed = crossing(this.ladders.yes, this.ladders.no);
    if (!crossed) {
      this.closeMs();
      return OK;
    }
    const ms = this.openMs;
    for (let i = this.undoLength - 1; i >= 0; i--) this.ladder(this.undoSide[i]!).set(this.undoPrice[i]!, this.undoSize[i]!);
    this.lastUpdateMs = this.lastUpdateBeforeOpenMs;
    return this.markStale(`${crossed} at the end of exchange ms ${ms}; its changes were undone`);
  }

  /** Marks the book stale; a reason that is itself a stale refusal is not wrapped again. */
  markStale(reason: string): DeltaResult {
    const flat = reason.startsWith(STALE_PREFIX) ? reason.slice(STALE_PREFIX.length) : reason;
    this.closeMs();
    this.staleReason = flat;
    return { ok: false, reason: flat };
  }

  get stale(): boolean {
    return this.staleReason !== undefined;
  }

  get staleBecause(): string | undefined {
    return this.staleReason;
  }

  private staleRefusal(): DeltaResult {
    return { ok: false, reason: `${STALE_PREFIX}${this.staleReason}` };
  }

  /** A change at `tsMs` may go ahead: the book is fresh and an earlier millisecond, if open, passed its check. */
  private beginChange(tsMs: number): DeltaResult {
    if (this.staleReason !== undefined) return this.staleRefusal();
    if (this.open && this.openMs === tsMs) return OK;
    const settled = this.settle();
    if (!settled.ok) return settled;
    this.open = true;
    this.openMs = tsMs;
    this.lastUpdateBeforeOpenMs = this.lastUpdateMs;
    return OK;
  }

  /** Sets a level, keeping its size before (`before`, if the caller read it already) in the undo log. */
  private change(side: BookSide, price: number, size: number, tsMs: number, before = this.ladder(side).get(price)): void {
    const ladder = this.ladder(side);
    const n = this.undoLength++;
    this.undoSide[n] = side;
    this.undoPrice[n] = price;
    this.undoSize[n] = before;
    ladder.set(price, size);
    this.lastUpdateMs = tsMs;
  }

  private ladder(side: BookSide): BidLadder {
    return side === 'yes' ? this.ladders.yes : this.ladders.no;
  }

  private closeMs(): void {
    this.open = false;
    this.undoLength = 0;
  }

  top(): TopOfBook {
    const yesBid = this.ladders.yes.bestLevel();
    const noBid = this.ladders.no.bestLevel();
    return { yesBid, yesAsk: noBid && { price: ONE_DOLLAR - noBid.price, size: noBid.size } };
  }

  /** The best bid price of one side (YES ask = $1 − best NO bid), without building levels. */
  bestBid(side: BookSide): number | undefined {
    return this.ladder(side).bestPrice();
  }

  sizeAt(side: BookSide, price: number): number {
    return this.ladder(side).get(price);
  }

  levels(side: BookSide): Level[] {
    return this.ladder(side).levels();
  }

  /** The best `n` levels of one side, best first. */
  topLevels(side: BookSide, n: number): Level[] {
    return this.ladder(side).top(n);
  }

  depth(side: BookSide): number {
    return this.ladder(side).depth;
  }

  /** Everything the book holds, including the open millisecond's undo log (book-snapshot.ts encodes it). */
  exportState(): BookState {
    const flat = (side: BookSide) => this.ladder(side).levels().flatMap((l) => [l.price, l.size]);
    const undo: NonNullable<BookState['open']>['undo'] = [];
    for (let i = 0; i < this.undoLength; i++) undo.push([this.undoSide[i] === 'yes' ? 0 : 1, this.undoPrice[i]!, this.undoSize[i]!]);
    return { yes: flat('yes'), no: flat('no'), stale: this.staleReason, lastUpdateMs: this.lastUpdateMs, open: this.open ? { ms: this.openMs, lastUpdateBeforeMs: this.lastUpdateBeforeOpenMs, undo } : undefined };
  }

  /** A book exactly as `exportState` saw it (levels taken as they are: a stale book may hold a crossed state). */
  static fromState(marketTicker: string, state: BookState): BinaryOrderBook {
    const book = new BinaryOrderBook(marketTicker);
    for (const side of ['yes', 'no'] as const) {
      const flat = state[side];
      for (let i = 0; i + 1 < flat.length; i += 2) book.ladder(side).set(flat[i]!, flat[i + 1]!);
    }
    book.staleReason = state.stale;
    book.lastUpdateMs = state.lastUpdateMs;
    if (state.open) {
      book.open = true;
      book.openMs = state.open.ms;
      book.lastUpdateBeforeOpenMs = state.open.lastUpdateBeforeMs;
      for (const [side, price, size] of state.open.undo) {
        const n = book.undoLength++;
        book.undoSide[n] = side === 0 ? 'yes' : 'no';
        book.undoPrice[n] = price;
        book.undoSize[n] = size;
      }
    }
    return book;
  }
}

/** A book's full state in integer units: levels as flat [price, size, …] best first, and the open millisecond if any. */
export interface BookState {
  yes: number[];
  no: number[];
  stale: string | undefined;
  lastUpdateMs: number;
  /** Changes of the open exchange millisecond, not yet checked for crossing: [side (0 yes, 1 no), price, size before]. */
  open: { ms: number; lastUpdateBeforeMs: number; undo: [number, number, number][] } | undefined;
}
