/**
 * Rolling Pearson correlation over the last `capacity` paired samples, O(1) per update: running
 * means and co-moments are updated on add and reversed on removal (Welford-style, numerically
 * stable, unlike raw sums of squares). Statistics are plain floats; money stays Decimal elsewhere.
 */
export class RollingCorrelation {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private start = 0;
  private n = 0;
  private meanX = 0;
  private meanY = 0;
  private m2x = 0;
  private m2y = 0;
  private cxy = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new Error(`window must hold at least 2 samples, got ${capacity}`);
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
  }

  get count(): number {
    return this.n;
  }

  push(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`non-finite sample (${x}, ${y})`);
    if (this.n === this.capacity) this.removeOldest();
    const i = (this.start + this.n) % this.capacity;
    this.xs[i] = x;
    this.ys[i] = y;
    this.n++;
    const dx = x - this.meanX;
    this.meanX += dx / this.n;
    const dyOld = y - this.meanY;
    this.meanY += dyOld / this.n;
    this.m2x += dx * (x - this.meanX);
    this.m2y += dyOld * (y - this.meanY);
    this.cxy += dx * (y - this.meanY);
  }

  private removeOldest(): void {
    const x = this.xs[this.start]!;
    const y = this.ys[this.start]!;
    this.start = (this.start + 1) % this.capacity;
    if (this.n === 1) {
      this.n = 0;
      this.meanX = this.meanY = this.m2x = this.m2y = this.cxy = 0;
      return;
    }
    const prevMeanX = (this.n * this.meanX - x) / (this.n - 1);
    const prevMeanY = (this.n * this.meanY - y) / (this.n - 1);
    this.m2x -= (x - prevMeanX) * (x - this.meanX);
    this.m2y -= (y - prevMeanY) * (y - this.meanY);
    this.cxy -= (x - prevMeanX) * (y - this.meanY);
    this.meanX = prevMeanX;
    this.meanY = prevMeanY;
    this.n--;
  }

  /** Pearson r, or undefined with fewer than 2 samples or a constant series. */
  correlation(): number | undefined {
    if (this.n < 2 || this.m2x <= 0 || this.m2y <= 0) return undefined;
    const r = this.cxy / Math.sqrt(this.m2x * this.m2y);
    return Math.max(-1, Math.min(1, r));
  }
}

/** Straightforward two-pass Pearson, the reference the rolling version is checked against. */
export function pearsonTwoPass(xs: ArrayLike<number>, ys: ArrayLike<number>): number | undefined {
  const n = xs.length;
  if (n !== ys.length) throw new Error('series lengths differ');
  if (n < 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx <= 0 || syy <= 0) return undefined;
  return sxy / Math.sqrt(sxx * syy);
}
