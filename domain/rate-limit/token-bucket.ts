/**
 * Token bucket as Kalshi defines it: each request costs tokens; the bucket refills at
 * `refillPerSecond` up to `capacity`. Time is passed in (pure, testable, replayable).
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number | undefined;

  constructor(
    private capacity: number,
    private refillPerSecond: number,
  ) {
    if (!(capacity > 0) || !(refillPerSecond > 0)) throw new Error(`token bucket needs positive capacity and refill (got ${capacity}, ${refillPerSecond})`);
    this.tokens = capacity;
  }

  private refill(nowMs: number): void {
    if (this.lastMs !== undefined && nowMs > this.lastMs) this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) / 1000) * this.refillPerSecond);
    this.lastMs = Math.max(nowMs, this.lastMs ?? nowMs);
  }

  /** Takes `cost` tokens if available; otherwise says how long until they will be. */
  tryTake(cost: number, nowMs: number): { ok: true } | { ok: false; waitMs: number } {
    if (cost > this.capacity) throw new Error(`request cost ${cost} exceeds bucket capacity ${this.capacity}`);
    this.refill(nowMs);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.ceil(((cost - this.tokens) / this.refillPerSecond) * 1000) };
  }

  /** After a 429 the server's view wins: treat the bucket as empty. */
  drain(nowMs: number): void {
    this.refill(nowMs);
    this.tokens = 0;
  }

  /** New limits (e.g. from GET /account/limits); keeps the current fill level within the new capacity. */
  reconfigure(capacity: number, refillPerSecond: number): void {
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.tokens = Math.min(this.tokens, capacity);
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }
}
