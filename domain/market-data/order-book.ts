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

export type DeltaResult = { ok: true } | { ok: false; reason: string };

class BidLadder {
  private readonly sizes = new Map<number, number>();
  private best: number | undefined;
  private bestDirty = false;

  clear(): void {
    this.sizes.clear();
    this.best = undefined;
    this.bestDirty = false;
  }

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

/**
 * L2 book of one binary market, in exact integer units. A delta that would make a level negative
 * is refused and marks the book stale (it must be re-based from a snapshot); the book itself is
 * never left corrupted.
 */
export class BinaryOrderBook {
  private readonly ladders: Record<BookSide, BidLadder> = { yes: new BidLadder(), no: new BidLadder() };
  private staleReason: string | undefined = 'no snapshot yet';
  lastUpdateMs = 0;

  constructor(readonly marketTicker: string) {}

  applySnapshot(yes: readonly Level[], no: readonly Level[], tsMs: number): void {
    for (const side of ['yes', 'no'] as const) {
      const ladder = this.ladders[side];
      ladder.clear();
      for (const level of side === 'yes' ? yes : no) {
        if (level.size < 0) throw new Error(`snapshot for ${this.marketTicker} has a negative ${side} level at ${priceText(level.price)}`);
        ladder.set(level.price, ladder.get(level.price) + level.size);
      }
    }
    this.staleReason = undefined;
    this.lastUpdateMs = tsMs;
  }

  applyDelta(side: BookSide, price: number, delta: number, tsMs: number): DeltaResult {
    if (this.staleReason !== undefined) return { ok: false, reason: `book is stale (${this.staleReason})` };
    if (price <= 0 || price >= ONE_DOLLAR) return this.markStale(`delta price ${priceText(price)} outside (0, 1)`);
    const ladder = this.ladders[side];
    const next = ladder.get(price) + delta;
    if (next < 0) return this.markStale(`delta ${sizeText(delta)} at ${side} ${priceText(price)} would leave ${sizeText(next)}`);
    ladder.set(price, next);
    this.lastUpdateMs = tsMs;
    return { ok: true };
  }

  /** Sets a level's absolute size (0 removes it). */
  setLevel(side: BookSide, price: number, size: number, tsMs: number): DeltaResult {
    if (this.staleReason !== undefined) return { ok: false, reason: `book is stale (${this.staleReason})` };
    if (price <= 0 || price >= ONE_DOLLAR) return this.markStale(`level price ${priceText(price)} outside (0, 1)`);
    if (size < 0) return this.markStale(`negative level size ${sizeText(size)} at ${side} ${priceText(price)}`);
    this.ladders[side].set(price, size);
    this.lastUpdateMs = tsMs;
    return { ok: true };
  }

  markStale(reason: string): DeltaResult {
    this.staleReason = reason;
    return { ok: false, reason };
  }

  get stale(): boolean {
    return this.staleReason !== undefined;
  }

  get staleBecause(): string | undefined {
    return this.staleReason;
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
