import assert from 'node:assert/strict';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';

/** Polls `fn` until `ok` holds for its value; fails with what was awaited and the last value. */
export async function waitFor<T>(fn: () => T | Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits for a synchronous condition. */
export const until = (cond: () => boolean, what: string, timeoutMs = 5000) => waitFor(cond, Boolean, what, timeoutMs, 10);

/** A book level from decimal strings. */
export const level = (price: string, size: number) => ({ price: priceUnits(price), size: sizeUnits(String(size)) });
