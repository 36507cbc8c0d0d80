import { z } from 'zod';
import { ONE_DOLLAR } from '../fixed-point';
import type { Level } from './order-book';
import type { UnitEvent } from './events';

/**
 * The one check every market event passes before it touches a book, whatever venue or path it came
 * from (live feed, replay, batch). Venue parsers refuse what their wire format gets wrong; this
 * refuses what no venue may send: it works on integer units, so it costs a few comparisons and
 * allocates nothing unless the event is refused.
 */

/** Longest market or asset id accepted: Kalshi tickers are under 60 characters, Polymarket asset ids under 80. */
export const MAX_MARKET_ID_LENGTH = 200;
/** Longest trade id accepted (Kalshi UUIDs; Polymarket transaction hashes, or ids composed of asset, time, side, price and size). */
export const MAX_TRADE_ID_LENGTH = 400;
/** Most levels a snapshot side may carry: one per price on the finest grid (1e-4) inside (0, 1). */
export const MAX_SNAPSHOT_LEVELS = ONE_DOLLAR - 1;

/** Longest price or size text a venue message may carry (leading zeros could otherwise make it any length). */
export const MAX_DECIMAL_TEXT = 40;

/**
 * A venue's decimal string that fits the fixed-point grid, so `toUnits` downstream cannot throw on
 * it, and whose units pass `check` (which returns the problem, if any). The grid parser's own
 * message explains garbage and excess decimals.
 */
export function gridDecimal(toUnits: (text: string) => number, check: (units: number) => string | undefined = () => undefined) {
  return z
    .string()
    .max(MAX_DECIMAL_TEXT)
    .trim()
    .superRefine((text, ctx) => {
      let problem: string | undefined;
      try {
        problem = check(toUnits(text));
      } catch (err) {
        problem = (err as Error).message;
      }
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** A value for a refusal message: short, and never a call into an object's own toString. */
const shown = (value: unknown): string => (typeof value === 'object' || typeof value === 'function' ? `(${value === null ? 'null' : typeof value})` : String(value).slice(0, 40));

/** A price strictly inside (0, 1) dollars, in integer units. */
export const isBookPrice = (price: unknown): price is number => typeof price === 'number' && Number.isSafeInteger(price) && price > 0 && price < ONE_DOLLAR;
const isSize = (size: unknown): size is number => typeof size === 'number' && Number.isSafeInteger(size) && size >= 0;
const isSide = (side: unknown) => side === 'yes' || side === 'no';

/** A trade id of sane length. */
export const isTradeId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_TRADE_ID_LENGTH;

/** Whether `m` can name a market (and so be marked stale): a non-empty string of sane length. */
export const isMarketId = (m: unknown): m is string => typeof m === 'string' && m.length > 0 && m.length <= MAX_MARKET_ID_LENGTH;

function levelsProblem(side: string, levels: unknown): string | undefined {
  if (!Array.isArray(levels)) return `snapshot ${side} levels are not a list`;
  if (levels.length > MAX_SNAPSHOT_LEVELS) return `snapshot has ${levels.length} ${side} levels (at most ${MAX_SNAPSHOT_LEVELS})`;
  for (const level of levels as unknown[]) {
    const l = level as Partial<Level> | null;
    if (typeof l !== 'object' || l === null) return `snapshot ${side} level is not a price and size`;
    if (!isBookPrice(l.price)) return `snapshot ${side} level price ${shown(l.price)} is outside (0, 1) or off the price grid`;
    if (!isSize(l.size)) return `snapshot ${side} level size ${shown(l.size)} at ${l.price} is negative or invalid`;
  }
  return undefined;
}

/**
 * Why an event in units must not be applied, or undefined when it may. Deltas and levels are the
 * hot path: their price and size are checked by the book itself (which refuses and goes stale),
 * so only what the book would trip over is checked here.
 */
export function unitEventProblem(e: UnitEvent): string | undefined {
  const m: unknown = e.m;
  if (!isMarketId(m)) return typeof m === 'string' ? `market id of ${m.length} characters (1 to ${MAX_MARKET_ID_LENGTH})` : 'event has no market id';
  if (!(e.ts >= 0 && Number.isSafeInteger(e.ts))) return `timestamp ${shown(e.ts)} is not a non-negative integer`;
  switch (e.t) {
    case 'delta':
      if (!isSide(e.side)) return `unknown book side ${shown(e.side)}`;
      // The book adds the delta to a level: null or true would be taken for 0 or 1.
      return Number.isSafeInteger(e.delta) ? undefined : `delta ${shown(e.delta)} is not an integer number of units`;
    case 'level':
      return isSide(e.side) ? undefined : `unknown book side ${shown(e.side)}`;
    case 'snapshot':
      return levelsProblem('yes', e.yes) ?? levelsProblem('no', e.no);
    case 'trade':
      if (!isTradeId(e.id)) return 'trade id is missing or too long';
      if (!isSide(e.takerSide)) return `unknown taker side ${shown(e.takerSide)}`;
      if (!isBookPrice(e.price)) return `trade price ${shown(e.price)} is outside (0, 1)`;
      return Number.isSafeInteger(e.count) && e.count > 0 ? undefined : `trade count ${shown(e.count)} is not positive`;
    case 'stale':
      return typeof e.reason === 'string' ? undefined : 'stale event has no reason';
    default:
      return `unknown event type ${shown((e as { t: unknown }).t)}`;
  }
}
