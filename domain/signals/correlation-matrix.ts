import type { CorrelationMatrixState } from './engine-state';

/**
 * Rolling Pearson correlation of every pair in a set of related markets, over several windows at
 * once. Samples are aligned (one value per market per sample step). Each market's series is stored
 * once in a ring; each (pair, window) keeps only its running moments (seven doubles), so memory is
 * O(markets × longest window + pairs × windows) and a sample step costs O(1) per pair and window:
 * the new value is added and the value leaving the window is removed (Welford add/remove).
 */
const N = 0;
const MX = 1;
const MY = 2;
const M2X = 3;
const M2Y = 4;
const CXY = 5;
/** Samples in the window where both markets moved (a correlation of mostly-flat series means little). */
const CO = 6;
const STRIDE = 7;

export class CorrelationMatrix {
  readonly markets: readonly string[];
  private readonly index = new Map<string, number>();
  private readonly capacity: number;
  /** series[m * capacity + slot] */
  private readonly series: Float64Array;
  private readonly moments: Float64Array;
  private readonly pairCount: number;
  /** Samples pushed so far (the ring slot of sample t is t % capacity). */
  private t = 0;

  constructor(
    markets: readonly string[],
    readonly windows: readonly number[],
  ) {
    if (markets.length < 2) throw new Error('a correlation matrix needs at least two markets');
    if (windows.length === 0 || windows.some((w) => !Number.isInteger(w) || w < 2)) throw new Error(`windows must be integers ≥ 2, got ${windows.join(',')}`);
    this.markets = [...markets];
    this.markets.forEach((m, i) => this.index.set(m, i));
    this.capacity = Math.max(...windows);
    this.series = new Float64Array(markets.length * this.capacity);
    this.pairCount = (markets.length * (markets.length - 1)) / 2;
    this.moments = new Float64Array(this.pairCount * windows.length * STRIDE);
  }

  get samples(): number {
    return this.t;
  }

  /** Bytes held by the series rings and the pair moments. */
  get byteLength(): number {
    return this.series.byteLength + this.moments.byteLength;
  }

  /** One aligned sample: `values[i]` belongs to `markets[i]`. */
  push(values: ArrayLike<number>): void {
    const k = this.markets.length;
    if (values.length !== k) throw new Error(`expected ${k} values, got ${values.length}`);
    for (let i = 0; i < k; i++) if (!Number.isFinite(values[i]!)) throw new Error(`non-finite sample for ${this.markets[i]}`);
    const cap = this.capacity;
    const slot = this.t % cap;
    const W = this.windows.length;
    let pair = 0;
    for (let i = 0; i < k; i++) {
      const x = values[i]!;
      for (let j = i + 1; j < k; j++, pair++) {
        const y = values[j]!;
        for (let w = 0; w < W; w++) {
          const base = (pair * W + w) * STRIDE;
          const win = this.windows[w]!;
          if (this.t >= win) {
            const oldSlot = (this.t - win) % cap;
            this.remove(base, this.series[i * cap + oldSlot]!, this.series[j * cap + oldSlot]!);
          }
          this.add(base, x, y);
        }
      }
    }
    for (let i = 0; i < k; i++) this.series[i * cap + slot] = values[i]!;
    this.t++;
  }

  private add(b: number, x: number, y: number): void {
    const m = this.moments;
    const n = m[b + N]! + 1;
    const dx = x - m[b + MX]!;
    const mx = m[b + MX]! + dx / n;
    const dy = y - m[b + MY]!;
    const my = m[b + MY]! + dy / n;
    m[b + N] = n;
    m[b + MX] = mx;
    m[b + MY] = my;
    m[b + M2X] = m[b + M2X]! + dx * (x - mx);
    m[b + M2Y] = m[b + M2Y]! + dy * (y - my);
    m[b + CXY] = m[b + CXY]! + dx * (y - my);
    if (x !== 0 && y !== 0) m[b + CO] = m[b + CO]! + 1;
  }

  private remove(b: number, x: number, y: number): void {
    const m = this.moments;
    const n = m[b + N]!;
    if (n <= 1) {
      m.fill(0, b, b + STRIDE);
      return;
    }
    const mx = m[b + MX]!;
    const my = m[b + MY]!;
    const prevMx = (n * mx - x) / (n - 1);
    const prevMy = (n * my - y) / (n - 1);
    m[b + M2X] = m[b + M2X]! - (x - prevMx) * (x - mx);
    m[b + M2Y] = m[b + M2Y]! - (y - prevMy) * (y - my);
    m[b + CXY] = m[b + CXY]! - (x - prevMx) * (y - my);
    m[b + MX] = prevMx;
    m[b + MY] = prevMy;
    m[b + N] = n - 1;
    if (x !== 0 && y !== 0) m[b + CO] = m[b + CO]! - 1;
  }

  private pairIndex(a: number, b: number): number {
    const [i, j] = a < b ? [a, b] : [b, a];
    const k = this.markets.length;
    return i * k - (i * (i + 1)) / 2 + (j - i - 1);
  }

  /** Pearson r of markets a and b over window number `w`; undefined until the window has 2 samples or when a series is constant. */
  correlation(a: string, b: string, w: number): number | undefined {
    const i = this.index.get(a);
    const j = this.index.get(b);
    if (i === undefined || j === undefined || i === j) throw new Error(`unknown pair ${a}/${b}`);
    const base = (this.pairIndex(i, j) * this.windows.length + w) * STRIDE;
    const m = this.moments;
    // Relative tolerance: removal can leave round-off where a window has gone flat.
    if (m[base + N]! < 2 || m[base + M2X]! <= 1e-12 || m[base + M2Y]! <= 1e-12) return undefined;
    return Math.max(-1, Math.min(1, m[base + CXY]! / Math.sqrt(m[base + M2X]! * m[base + M2Y]!)));
  }

  /** How many samples in window `w` had both markets moving. */
  coMoves(a: string, b: string, w: number): number {
    const i = this.index.get(a);
    const j = this.index.get(b);
    if (i === undefined || j === undefined || i === j) throw new Error(`unknown pair ${a}/${b}`);
    return this.moments[(this.pairIndex(i, j) * this.windows.length + w) * STRIDE + CO]!;
  }

  /** The newest `length` samples of one market, oldest first. */
  recent(market: string, length: number): Float64Array {
    const i = this.index.get(market);
    if (i === undefined) throw new Error(`unknown market ${market}`);
    const n = Math.min(length, this.t, this.capacity);
    const out = new Float64Array(n);
    for (let s = 0; s < n; s++) out[s] = this.series[i * this.capacity + ((this.t - n + s) % this.capacity)]!;
    return out;
  }

  /**
   * Recomputes every pair's moments from the stored series (the full refresh: after a market joins,
   * or periodically to shed accumulated round-off). Each market's window is copied out of its ring
   * and centred once; the pair sums then run over blocks of 4 × 4 markets (sixteen sums per pass
   * over eight rows, so each value loaded serves four pairs), each pair still summed in sample
   * order, so the result is the two-pass one to the bit. O(markets × window + pairs × window) per window.
   */
  refresh(): void {
    this.moments.fill(0);
    const k = this.markets.length;
    const W = this.windows.length;
    for (let w = 0; w < W; w++) {
      const n = Math.min(this.windows[w]!, this.t);
      if (n === 0) continue;
      const centred = new Float64Array(k * n);
      const means = new Float64Array(k);
      const m2 = new Float64Array(k);
      // Which samples moved, one bit each: a pair's co-move count is then a popcount of an AND.
      const words = (n + 31) >>> 5;
      const moving = new Int32Array(k * words);
      for (let i = 0; i < k; i++) this.centre(i, n, centred, means, m2, moving, words);
      const cxy = new Float64Array(k * k);
      pairSums(centred, k, n, cxy);
      for (let i = 0; i < k - 1; i++) storeRow(this.moments, i, k, W, w, n, means, m2, cxy, moving, words);
    }
  }

  /** Market i's newest n samples into row i of `centred` (minus their mean), its mean, sum of squares and moving bits. */
  private centre(i: number, n: number, centred: Float64Array, means: Float64Array, m2: Float64Array, moving: Int32Array, words: number): void {
    const cap = this.capacity;
    const row = i * n;
    // The window is at most two runs of the ring: copy them, then work on a plain row.
    const first = (this.t - n) % cap;
    const head = Math.min(n, cap - first);
    centred.set(this.series.subarray(i * cap + first, i * cap + first + head), row);
    if (head < n) centred.set(this.series.subarray(i * cap, i * cap + n - head), row + head);
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const x = centred[row + s]!;
      sum += x;
      if (x !== 0) moving[i * words + (s >>> 5)]! |= 1 << (s & 31);
    }
    const mean = sum / n;
    let sq = 0;
    for (let s = 0; s < n; s++) {
      const d = (centred[row + s] = centred[row + s]! - mean);
      sq += d * d;
    }
    means[i] = mean;
    m2[i] = sq;
  }

  /** Everything needed to carry on exactly where this matrix is (series ring, running moments). */
  toState(): CorrelationMatrixState {
    return { markets: [...this.markets], windows: [...this.windows], samples: this.t, series: this.series.slice(), moments: this.moments.slice() };
  }

  static fromState(state: CorrelationMatrixState): CorrelationMatrix {
    const m = new CorrelationMatrix(state.markets, state.windows);
    if (state.series.length !== m.series.length || state.moments.length !== m.moments.length) {
      throw new Error(`correlation state of ${state.markets.length} markets × windows ${state.windows.join(',')} holds ${state.series.length} series and ${state.moments.length} moment values; expected ${m.series.length} and ${m.moments.length}`);
    }
    m.series.set(state.series);
    m.moments.set(state.moments);
    m.t = state.samples;
    return m;
  }

  *pairs(): Generator<[string, string]> {
    for (let i = 0; i < this.markets.length; i++) for (let j = i + 1; j < this.markets.length; j++) yield [this.markets[i]!, this.markets[j]!];
  }
}

/**
 * cxy[i * k + j] (i < j) = Σ_s centred[i][s] · centred[j][s], every sum in sample order. Rows are
 * taken four at a time against four others; the leftovers (the triangle inside a block of four,
 * the last rows and columns) one pair at a time.
 */
function pairSums(centred: Float64Array, k: number, n: number, cxy: Float64Array): void {
  const acc = new Float64Array(16);
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    for (let a = i; a < i + 3; a++) for (let b = a + 1; b < i + 4; b++) cxy[a * k + b] = dot(centred, a * n, b * n, n);
    let j = i + 4;
    for (; j + 4 <= k; j += 4) {
      dot4x4(centred, i * n, j * n, n, acc);
      for (let q = 0; q < 4; q++) {
        const at = (i + q) * k + j;
        cxy[at] = acc[4 * q]!;
        cxy[at + 1] = acc[4 * q + 1]!;
        cxy[at + 2] = acc[4 * q + 2]!;
        cxy[at + 3] = acc[4 * q + 3]!;
      }
    }
    for (; j < k; j++) for (let a = i; a < i + 4; a++) cxy[a * k + j] = dot(centred, a * n, j * n, n);
  }
  for (; i < k; i++) for (let j = i + 1; j < k; j++) cxy[i * k + j] = dot(centred, i * n, j * n, n);
}

function dot(c: Float64Array, a: number, b: number, n: number): number {
  let sum = 0;
  for (let s = 0; s < n; s++) sum += c[a + s]! * c[b + s]!;
  return sum;
}

/** The sixteen sums of rows a..a+3 against rows b..b+3 (row starts a and b, n samples each) into acc, row-major. */
function dot4x4(c: Float64Array, a0: number, b0: number, n: number, acc: Float64Array): void {
  const a1 = a0 + n;
  const a2 = a1 + n;
  const a3 = a2 + n;
  const b1 = b0 + n;
  const b2 = b1 + n;
  const b3 = b2 + n;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0; // prettier-ignore
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0; // prettier-ignore
  for (let s = 0; s < n; s++) {
    const y0 = c[b0 + s]!;
    const y1 = c[b1 + s]!;
    const y2 = c[b2 + s]!;
    const y3 = c[b3 + s]!;
    let x = c[a0 + s]!;
    c00 += x * y0;
    c01 += x * y1;
    c02 += x * y2;
    c03 += x * y3;
    x = c[a1 + s]!;
    c10 += x * y0;
    c11 += x * y1;
    c12 += x * y2;
    c13 += x * y3;
    x = c[a2 + s]!;
    c20 += x * y0;
    c21 += x * y1;
    c22 += x * y2;
    c23 += x * y3;
    x = c[a3 + s]!;
    c30 += x * y0;
    c31 += x * y1;
    c32 += x * y2;
    c33 += x * y3;
  }
  acc[0] = c00;
  acc[1] = c01;
  acc[2] = c02;
  acc[3] = c03;
  acc[4] = c10;
  acc[5] = c11;
  acc[6] = c12;
  acc[7] = c13;
  acc[8] = c20;
  acc[9] = c21;
  acc[10] = c22;
  acc[11] = c23;
  acc[12] = c30;
  acc[13] = c31;
  acc[14] = c32;
  acc[15] = c33;
}

/** Window w's moments of every pair (i, j > i) from the centred sums. */
function storeRow(m: Float64Array, i: number, k: number, W: number, w: number, n: number, means: Float64Array, m2: Float64Array, cxy: Float64Array, moving: Int32Array, words: number): void {
  // Pairs are numbered row by row: (i, i+1) is pair i·k − i(i+1)/2.
  let pair = i * k - (i * (i + 1)) / 2;
  for (let j = i + 1; j < k; j++, pair++) {
    let co = 0;
    for (let q = 0; q < words; q++) co += popcount(moving[i * words + q]! & moving[j * words + q]!);
    const base = (pair * W + w) * STRIDE;
    m[base + N] = n;
    m[base + MX] = means[i]!;
    m[base + MY] = means[j]!;
    m[base + M2X] = m2[i]!;
    m[base + M2Y] = m2[j]!;
    m[base + CXY] = cxy[i * k + j]!;
    m[base + CO] = co;
  }
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * The lag (in samples, −maxLag…maxLag) at which `leaderCandidate`'s series best correlates with
 * `other`'s later values: a positive lag means the first market moved first. Used once per spike.
 */
export function bestLag(a: Float64Array, b: Float64Array, maxLag: number, correlate: (x: ArrayLike<number>, y: ArrayLike<number>) => number | undefined): { lag: number; r: number } | undefined {
  let best: { lag: number; r: number } | undefined;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const n = Math.min(a.length, b.length) - Math.abs(lag);
    if (n < 3) continue;
    const x = lag >= 0 ? a.subarray(0, n) : a.subarray(-lag, -lag + n);
    const y = lag >= 0 ? b.subarray(lag, lag + n) : b.subarray(0, n);
    const r = correlate(x, y);
    if (r !== undefined && (!best || r > best.r)) best = { lag, r };
  }
  return best;
}
