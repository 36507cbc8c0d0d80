import { z } from 'zod';
import { Dec, decimalString } from '../decimal';

/** One band of a market's price grid (Kalshi's `price_ranges`): prices start, start + step, … up to end. */
export interface PriceRange {
  start: Dec;
  end: Dec;
  step: Dec;
}

const rangeSchema = z.object({ start: decimalString, end: decimalString, step: decimalString });

/** A linear-cent market: what a market that reports no ranges trades on. */
export const CENT_GRID: readonly PriceRange[] = [{ start: new Dec(0), end: new Dec(1), step: new Dec('0.01') }];

/** A venue's `price_ranges` field as a grid; absent or empty means the cent grid. Malformed ranges are an error. */
export function parsePriceRanges(raw: unknown): PriceRange[] {
  if (raw === undefined || raw === null || (Array.isArray(raw) && raw.length === 0)) return [...CENT_GRID];
  const parsed = z.array(rangeSchema).safeParse(raw);
  if (!parsed.success) throw new Error(`price_ranges: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
  const ranges = parsed.data.map((r) => ({ start: new Dec(r.start), end: new Dec(r.end), step: new Dec(r.step) }));
  if (ranges.some((r) => r.step.lte(0) || r.end.lt(r.start))) throw new Error('price_ranges: a range with a non-positive step or an end before its start');
  return ranges;
}

/**
 * The nearest price on the grid that is never worse for the order: a bid rounds down, an ask up.
 * Prices are strictly between 0 and 1; undefined for a price outside [0, 1] or when the grid has no
 * such price on that side.
 */
export function snapToPriceGrid(price: Dec, side: 'bid' | 'ask', grid: readonly PriceRange[]): Dec | undefined {
  // A price outside the dollar is a mistake to refuse, not a tick to round away.
  if (price.lt(0) || price.gt(1)) return undefined;
  let best: Dec | undefined;
  for (const r of grid) {
    let candidate: Dec;
    if (side === 'bid') {
      if (price.lt(r.start)) continue;
      const p = Dec.min(price, r.end);
      candidate = r.start.plus(p.minus(r.start).div(r.step).floor().times(r.step));
      // $1 is no price: the step below it is the highest bid.
      if (candidate.gte(1)) candidate = candidate.minus(r.step);
      if (candidate.lt(r.start)) continue;
    } else {
      if (price.gt(r.end)) continue;
      const p = Dec.max(price, r.start);
      candidate = r.start.plus(p.minus(r.start).div(r.step).ceil().times(r.step));
      if (candidate.lte(0)) candidate = candidate.plus(r.step);
      if (candidate.gt(r.end)) continue;
    }
    if (candidate.lte(0) || candidate.gte(1)) continue;
    if (!best || (side === 'bid' ? candidate.gt(best) : candidate.lt(best))) best = candidate;
  }
  return best;
}
