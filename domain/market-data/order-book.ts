import { ONE_DOLLAR, priceText, sizeText } from '../fixed-point';

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

class BidLadder {
  private readonly sizes = new Map<number, number>();
  private best: number | undefined;
  private bestDirty = false;

  set(price: number, size: number): void {
    if (size === 0) {
      this.sizes.delete(price);
      if (price === this.best) this.bestDirty = true;
      return;
    }
    this.sizes.set(price, size);
    if (!this.bestDirty && (this.best === undefined || price > this.best)) this.best = price;
  }

  get(price: number): number {
    return this.sizes.get(price) ?? 0;
  }

  bestLevel(): Level | undefined {
    if (this.bestDirty) {
      this.best = undefined;
      for (const price of this.sizes.keys()) if (this.best === undefined || price > this.best) this.best = price;
      this.bestDirty = false;
    }
    return this.best === undefined ? undefined : { price: this.best, size: this.sizes.get(this.best)! };
  }

  /** The best `n` levels, best first, without sorting the whole ladder. */
  top(n: number): Level[] {
    const best: Level[] = [];
    for (const [price, size] of this.sizes) {
      if (best.length === n && price <= best[n - 1]!.price) continue;
      let i = best.length;
      while (i > 0 && best[i - 1]!.price < price) i--;
      best.splice(i, 0, { price, size });
      if (best.length > n) best.pop();
    }
    return best;
  }

  /** Levels best first. */
  levels(): Level[] {
    return [...this.sizes.entries()].map(([price, size]) => ({ price, size })).sort((a, b) => b.price - a.price);
  }

  get depth(): number {
    return this.sizes.size;
  }
}

/** A book-changing operation: applied, or refused with the reason (the book is then stale). */
export type DeltaResult = { ok: true } | { ok: false; reason: string };

const STALE_PREFIX = 'book is stale: ';

const validPrice = (price: number) => Number.isSafeInteger(price) && price > 0 && price < ONE_DOLLAR;

/** Why a book with these best bids is crossed (YES bid ≥ YES ask, i.e. YES bid + NO bid ≥ $1), or undefined. */
function crossing(yes: BidLadder, no: BidLadder): string | undefined {
  const yesBid = yes.bestLevel();
  const noBid = no.bestLevel();
  if (!yesBid || !noBid || yesBid.price + noBid.price < ONE_DOLLAR) return undefined;
  return `crossed: best YES bid ${priceText(yesBid.price)} >= best YES ask ${priceText(ONE_DOLLAR - noBid.price)} (NO bid ${priceText(noBid.price)})`;
}

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
  /** Exchange millisecond of the changes in `undo`; undefined when nothing is pending a check. */
  private openMs: number | undefined;
  /** Sizes the levels changed in the open millisecond had before it, oldest first. */
  private readonly undo: { side: BookSide; price: number; size: number }[] = [];
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
    return { ok: true };
  }

  applyDelta(side: BookSide, price: number, delta: number, tsMs: number): DeltaResult {
    const ready = this.beginChange(tsMs);
    if (!ready.ok) return ready;
    if (!validPrice(price)) return this.markStale(`delta price ${priceText(price)} outside (0, 1)`);
    const next = this.ladders[side].get(price) + delta;
    if (!Number.isSafeInteger(next) || next < 0) return this.markStale(`delta ${sizeText(delta)} at ${side} ${priceText(price)} would leave ${sizeText(next)}`);
    this.change(side, price, next, tsMs);
    return { ok: true };
  }

  /** Sets a level's absolute size (0 removes it). */
  setLevel(side: BookSide, price: number, size: number, tsMs: number): DeltaResult {
    const ready = this.beginChange(tsMs);
    if (!ready.ok) return ready;
    if (!validPrice(price)) return this.markStale(`level price ${priceText(price)} outside (0, 1)`);
    if (!Number.isSafeInteger(size) || size < 0) return this.markStale(`negative level size ${sizeText(size)} at ${side} ${priceText(price)}`);
    this.change(side, price, size, tsMs);
    return { ok: true };
  }

  /**
   * Closes the open exchange millisecond: if it left the book crossed, its changes are undone and
   * the book is marked stale. Callers that know a millisecond is complete may call it; otherwise
   * the next change of a later millisecond does.
   */
  settle(): DeltaResult {
    if (this.openMs === undefined) return this.staleReason === undefined ? { ok: true } : this.staleRefusal();
    const crossed = crossing(this.ladders.yes, this.ladders.no);
    if (!crossed) {
      this.closeMs();
      return { ok: true };
    }
    const ms = this.openMs;
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const { side, price, size } = this.undo[i]!;
      this.ladders[side].set(price, size);
    }
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
    if (this.openMs === tsMs) return { ok: true };
    const settled = this.settle();
    if (!settled.ok) return settled;
    this.openMs = tsMs;
    this.lastUpdateBeforeOpenMs = this.lastUpdateMs;
    return { ok: true };
  }

  private change(side: BookSide, price: number, size: number, tsMs: number): void {
    const ladder = this.ladders[side];
    this.undo.push({ side, price, size: ladder.get(price) });
    ladder.set(price, size);
    this.lastUpdateMs = tsMs;
  }

  private closeMs(): void {
    this.openMs = undefined;
    this.undo.length = 0;
  }

  top(): TopOfBook {
    const yesBid = this.ladders.yes.bestLevel();
    const noBid = this.ladders.no.bestLevel();
    return { yesBid, yesAsk: noBid && { price: ONE_DOLLAR - noBid.price, size: noBid.size } };
  }

  sizeAt(side: BookSide, price: number): number {
    return this.ladders[side].get(price);
  }

  levels(side: BookSide): Level[] {
    return this.ladders[side].levels();
  }

  /** The best `n` levels of one side, best first. */
  topLevels(side: BookSide, n: number): Level[] {
    return this.ladders[side].top(n);
  }

  depth(side: BookSide): number {
    return this.ladders[side].depth;
  }
}
