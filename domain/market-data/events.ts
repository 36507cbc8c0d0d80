import { z } from 'zod';
import { decimalString } from '../decimal';
import { priceUnits, sizeUnits } from '../fixed-point';
import type { BookSide, Level } from './order-book';
import { MAX_MARKET_ID_LENGTH } from './validation';

/**
 * Venue-neutral market events in wire form (what crosses BullMQ): prices and sizes are decimal
 * strings. `seq` is the event's position in its source stream, used for idempotent redelivery.
 */
const levelWire = z.tuple([decimalString, decimalString]);
const base = { m: z.string().min(1).max(MAX_MARKET_ID_LENGTH), ts: z.number().int().nonnegative() };

export const marketEventSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('snapshot'), ...base, yes: z.array(levelWire), no: z.array(levelWire) }),
  z.object({ t: z.literal('delta'), ...base, side: z.enum(['yes', 'no']), price: decimalString, delta: decimalString }),
  /** Absolute size at a level (venues such as Polymarket send levels, not deltas). */
  z.object({ t: z.literal('level'), ...base, side: z.enum(['yes', 'no']), price: decimalString, size: decimalString }),
  z.object({ t: z.literal('trade'), ...base, id: z.string().min(1), yesPrice: decimalString, count: decimalString, takerSide: z.enum(['yes', 'no']) }),
  /** The feed can no longer vouch for this market's book (sequence gap, disconnect) until its next snapshot. */
  z.object({ t: z.literal('stale'), ...base, reason: z.string().min(1).max(500) }),
]);
export type MarketEvent = z.infer<typeof marketEventSchema>;

const batchEnvelope = {
  source: z.string().min(1).max(100),
  partition: z.number().int().nonnegative(),
  /** Strictly increasing per (source, partition): a batch at or below the checkpoint was applied already. */
  batchSeq: z.number().int().nonnegative(),
};
export const marketEventBatchSchema = z.object({ ...batchEnvelope, events: z.array(marketEventSchema).min(1).max(50_000) });
export type MarketEventBatch = z.infer<typeof marketEventBatchSchema>;

/**
 * A batch's envelope with its events still unchecked: each event is validated on its own, so one
 * bad event is refused alone instead of failing the whole batch.
 */
export const marketEventBatchEnvelopeSchema = z.object({ ...batchEnvelope, events: z.array(z.unknown()).min(1).max(50_000) });

/** Events in exact integer units, ready for the book. */
export type UnitEvent =
  | { t: 'snapshot'; m: string; ts: number; yes: Level[]; no: Level[] }
  | { t: 'delta'; m: string; ts: number; side: BookSide; price: number; delta: number }
  | { t: 'level'; m: string; ts: number; side: BookSide; price: number; size: number }
  | { t: 'trade'; m: string; ts: number; id: string; price: number; count: number; takerSide: BookSide }
  | { t: 'stale'; m: string; ts: number; reason: string };

/** `toUnits`, with a value off the fixed-point grid reported instead of thrown. */
export function tryToUnits(e: MarketEvent): { ok: true; value: UnitEvent } | { ok: false; error: string } {
  try {
    return { ok: true, value: toUnits(e) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Throws on a price or size off the fixed-point grid (see `tryToUnits`). */
export function toUnits(e: MarketEvent): UnitEvent {
  switch (e.t) {
    case 'snapshot': {
      const levels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
      return { t: 'snapshot', m: e.m, ts: e.ts, yes: levels(e.yes), no: levels(e.no) };
    }
    case 'delta':
      return { t: 'delta', m: e.m, ts: e.ts, side: e.side, price: priceUnits(e.price), delta: sizeUnits(e.delta) };
    case 'level':
      return { t: 'level', m: e.m, ts: e.ts, side: e.side, price: priceUnits(e.price), size: sizeUnits(e.size) };
    case 'trade':
      return { t: 'trade', m: e.m, ts: e.ts, id: e.id, price: priceUnits(e.yesPrice), count: sizeUnits(e.count), takerSide: e.takerSide };
    case 'stale':
      return e;
  }
}
