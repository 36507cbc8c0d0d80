/**
 * Bounded per-market price history in typed arrays: one point is 28 bytes (timestamp, bid, ask,
 * last price, cumulative volume), so 500 markets × 1000 points is 14 MB, with no per-point
 * objects for the garbage collector.
 */
export interface PricePoint {
  ts: number;
  /** Prices in 1e-4 dollars; -1 when the side is empty. */
  bid: number;
  ask: number;
  last: number;
  /** Cumulative traded size in 1e-6 contracts. */
  volume: number;
}

export const NO_PRICE = -1;

export class PriceRing {
  private readonly ts: Float64Array;
  private readonly volume: Float64Array;
  private readonly prices: Int32Array; // bid, ask, last interleaved
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
    this.ts = new Float64Array(capacity);
    this.volume = new Float64Array(capacity);
    this.prices = new Int32Array(capacity * 3);
  }

  push(p: PricePoint): void {
    this.pushValues(p.ts, p.bid, p.ask, p.last, p.volume);
  }

  /** `push` without a point object (hot paths). */
  pushValues(ts: number, bid: number, ask: number, last: number, volume: number): void {
    this.write((this.start + this.count) % this.capacity, ts, bid, ask, last, volume);
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Overwrites the newest point (several events in one millisecond make one point). */
  replaceLatest(p: PricePoint): void {
    this.replaceLatestValues(p.ts, p.bid, p.ask, p.last, p.volume);
  }

  /** `replaceLatest` without a point object (hot paths). */
  replaceLatestValues(ts: number, bid: number, ask: number, last: number, volume: number): void {
    if (this.count === 0) return this.pushValues(ts, bid, ask, last, volume);
    this.write((this.start + this.count - 1) % this.capacity, ts, bid, ask, last, volume);
  }

  private write(i: number, ts: number, bid: number, ask: number, last: number, volume: number): void {
    this.ts[i] = ts;
    this.volume[i] = volume;
    this.prices[i * 3] = bid;
    this.prices[i * 3 + 1] = ask;
    this.prices[i * 3 + 2] = last;
  }

  get length(): number {
    return this.count;
  }

  /** The k-th oldest point still held (0 = oldest). */
  at(k: number): PricePoint {
    if (k < 0 || k >= this.count) throw new RangeError(`index ${k} outside 0..${this.count - 1}`);
    const i = (this.start + k) % this.capacity;
    return { ts: this.ts[i]!, bid: this.prices[i * 3]!, ask: this.prices[i * 3 + 1]!, last: this.prices[i * 3 + 2]!, volume: this.volume[i]! };
  }

  latest(): PricePoint | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  /**
   * YES mid of the newest two-sided point at or before `ts` (binary search on time, no allocation):
   * what a rule asks of the past on every event.
   */
  midAtOrBefore(ts: number): number | undefined {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.ts[this.slot(mid)]! <= ts) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (let k = found; k >= 0; k--) {
      const i = this.slot(k);
      const bid = this.prices[i * 3]!;
      const ask = this.prices[i * 3 + 1]!;
      if (bid >= 0 && ask >= 0) return (bid + ask) / 2;
    }
    return undefined;
  }

  /** Where the k-th oldest point is stored (k < count): a compare instead of a division, on the per-event path. */
  private slot(k: number): number {
    const i = this.start + k;
    return i >= this.capacity ? i - this.capacity : i;
  }

  toArray(): PricePoint[] {
    return Array.from({ length: this.count }, (_, k) => this.at(k));
  }

  get byteLength(): number {
    return this.ts.byteLength + this.volume.byteLength + this.prices.byteLength;
  }
}
