import { CorrelationMatrix } from './correlation-matrix';

/** Rolling Pearson correlation of one pair over the last `capacity` samples (a one-pair CorrelationMatrix). */
export class RollingCorrelation {
  private readonly matrix: CorrelationMatrix;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new Error(`window must hold at least 2 samples, got ${capacity}`);
    this.matrix = new CorrelationMatrix(['x', 'y'], [capacity]);
  }

  get count(): number {
    return Math.min(this.matrix.samples, this.capacity);
  }

  push(x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`non-finite sample (${x}, ${y})`);
    this.matrix.push([x, y]);
  }

  /** Pearson r, or undefined with fewer than 2 samples or a constant series. */
  correlation(): number | undefined {
    return this.matrix.correlation('x', 'y', 0);
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
