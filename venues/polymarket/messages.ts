import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { ONE_DOLLAR, priceText, priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { MarketEvent } from '../../domain/market-data/events';
import { gridDecimal, MAX_MARKET_ID_LENGTH, MAX_SNAPSHOT_LEVELS } from '../../domain/market-data/validation';
import { describeIssues } from '../../domain/validation';

// Polymarket CLOB market channel. One book per asset (outcome token). In Kestrel's binary-book
// terms the asset is the YES side: its bids are YES bids and its asks at a are NO bids at 1 − a.
// Every price and size is checked on the fixed-point grid here, so the NO side is the exact
// complement of an ask (never rounded) and `toUnits` downstream cannot throw.


/** A price strictly inside (0, 1) on the 1e-4 grid: the finest Polymarket tick. */
const bookPrice = gridDecimal(priceUnits, (units) => (units > 0 && units < ONE_DOLLAR ? undefined : 'price must be inside (0, 1)'));
/** A best bid/ask the venue reports: 0 or 1 stand for an empty side. */
const reportedPrice = gridDecimal(priceUnits, (units) => (units >= 0 && units <= ONE_DOLLAR ? undefined : 'price must be between 0 and 1'));
const levelSize = gridDecimal(sizeUnits, (units) => (units >= 0 ? undefined : 'size must not be negative'));
const tradeSize = gridDecimal(sizeUnits, (units) => (units > 0 ? undefined : 'size must be positive'));
const assetId = z.string().min(1).max(MAX_MARKET_ID_LENGTH);

const level = z.object({ price: bookPrice, size: levelSize });
const levels = z.array(level).max(MAX_SNAPSHOT_LEVELS);
const msTimestamp = z
  .union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()])
  .transform(Number)
  .refine((ms) => Number.isSafeInteger(ms), { message: 'timestamp out of range' });

export const polymarketBookSchema = z.object({
  event_type: z.literal('book'),
  asset_id: assetId,
  market: z.string().optional(),
  bids: levels.optional(),
  asks: levels.optional(),
  buys: levels.optional(),
  sells: levels.optional(),
  /** The asset's tick: every level must sit on it. */
  tick_size: bookPrice.optional(),
  timestamp: msTimestamp,
  hash: z.string().optional(),
});

/** A best bid/ask the venue attaches to a change: "" (or absent) when it reports none. */
const reportedTop = z.preprocess((v) => (v === '' ? undefined : v), reportedPrice.optional());

const priceChange = z.object({
  asset_id: assetId,
  price: bookPrice,
  side: z.enum(['BUY', 'SELL']),
  /** The level's new total size (0 removes it). */
  size: levelSize,
  /** The hash of the asset's book at the end of the change's timestamp batch. */
  hash: z.string().max(100).optional(),
  best_bid: reportedTop,
  best_ask: reportedTop,
});
/** The current format (from September 2025): one message, changes of one or more assets of a market. */
export const polymarketPriceChangeSchema = z.object({ event_type: z.literal('price_change'), market: z.string().optional(), price_changes: z.array(priceChange).max(MAX_SNAPSHOT_LEVELS), timestamp: msTimestamp });

/** The 2024–25 format: one asset per message, its changes without best bid/ask, the book's hash at the top. */
export const polymarketLegacyPriceChangeSchema = z.object({
  event_type: z.literal('price_change'),
  asset_id: assetId,
  market: z.string().optional(),
  changes: z.array(z.object({ price: bookPrice, side: z.enum(['BUY', 'SELL']), size: levelSize })).max(MAX_SNAPSHOT_LEVELS),
  hash: z.string().max(100).optional(),
  timestamp: msTimestamp,
});

export const polymarketLastTradeSchema = z.object({
  event_type: z.literal('last_trade_price'),
  asset_id: assetId,
  price: bookPrice,
  side: z.enum(['BUY', 'SELL']),
  size: tradeSize,
  fee_rate_bps: decimalString.optional(),
  timestamp: msTimestamp,
  // 66 characters on Polygon.
  transaction_hash: z.string().min(1).max(100).optional(),
});

export const polymarketTickSizeSchema = z.object({ event_type: z.literal('tick_size_change'), asset_id: assetId, new_tick_size: bookPrice, old_tick_size: decimalString.optional(), timestamp: msTimestamp });

/** Whether a price (units) sits on a tick (units). */
export const onTick = (price: number, tick: number) => price % tick === 0;

/** The best bid/ask the venue reports for an asset: that of the book at the end of the message's timestamp batch. */
export interface ReportedTop {
  assetId: string;
  bestBid?: string;
  bestAsk?: string;
}

export type PolymarketParsed =
  | {
      kind: 'events';
      events: MarketEvent[];
      /** Per asset, the venue's best bid/ask once every change stamped with this timestamp is in (price changes only). */
      expectedTops: ReportedTop[];
      /** The tick a `book` message names for its asset (its levels were checked on it). */
      tick?: { assetId: string; tickSize: string };
    }
  | { kind: 'tick_size'; assetId: string; tickSize: string; ts: number }
  | { kind: 'ignored'; eventType: string };

/** The NO bid an ask at `price` is (1 − price), exactly: the price was checked on the grid and inside (0, 1). */
const complement = (price: string) => priceText(ONE_DOLLAR - priceUnits(price));
const issues = (e: z.ZodError) => describeIssues(e.issues);

/** A BUY change is a YES bid level; a SELL change at a is a NO bid level at 1 − a. */
function levelEvent(assetId: string, ts: number, change: { price: string; side: 'BUY' | 'SELL'; size: string }): MarketEvent {
  return change.side === 'BUY' ? { t: 'level', m: assetId, ts, side: 'yes', price: change.price, size: change.size } : { t: 'level', m: assetId, ts, side: 'no', price: complement(change.price), size: change.size };
}

/** The last reported top per asset (a message may carry several changes of one asset: the venue repeats the batch's final top on each). */
function lastTopPerAsset(changes: readonly { asset_id: string; best_bid?: string; best_ask?: string }[]): ReportedTop[] {
  const byAsset = new Map<string, ReportedTop>();
  for (const c of changes) if (c.best_bid !== undefined || c.best_ask !== undefined) byAsset.set(c.asset_id, { assetId: c.asset_id, bestBid: c.best_bid, bestAsk: c.best_ask });
  return [...byAsset.values()];
}

export function parsePolymarketMessage(msg: unknown): { ok: true; value: PolymarketParsed } | { ok: false; error: string } {
  const type = (msg as { event_type?: unknown } | null)?.event_type;
  switch (type) {
    case 'book': {
      const p = polymarketBookSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      const bids = p.data.bids ?? p.data.buys ?? [];
      const asks = p.data.asks ?? p.data.sells ?? [];
      if (p.data.tick_size !== undefined) {
        const tick = priceUnits(p.data.tick_size);
        const off = [...bids, ...asks].find((l) => !onTick(priceUnits(l.price), tick));
        if (off) return { ok: false, error: `level price ${off.price} is off the tick ${p.data.tick_size}` };
      }
      const event: MarketEvent = { t: 'snapshot', m: p.data.asset_id, ts: p.data.timestamp, yes: bids.map((l) => [l.price, l.size]), no: asks.map((l) => [complement(l.price), l.size]) };
      const tick = p.data.tick_size === undefined ? undefined : { assetId: p.data.asset_id, tickSize: p.data.tick_size };
      return { ok: true, value: { kind: 'events', events: [event], expectedTops: [], tick } };
    }
    case 'price_change': {
      // The 2024–25 recordings name one asset at the top and list its `changes`.
      if (typeof msg === 'object' && msg !== null && 'changes' in msg && !('price_changes' in msg)) {
        const p = polymarketLegacyPriceChangeSchema.safeParse(msg);
        if (!p.success) return { ok: false, error: issues(p.error) };
        const events = p.data.changes.map((c) => levelEvent(p.data.asset_id, p.data.timestamp, c));
        return { ok: true, value: { kind: 'events', events, expectedTops: [] } };
      }
      const p = polymarketPriceChangeSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      const events = p.data.price_changes.map((c) => levelEvent(c.asset_id, p.data.timestamp, c));
      return { ok: true, value: { kind: 'events', events, expectedTops: lastTopPerAsset(p.data.price_changes) } };
    }
    case 'last_trade_price': {
      const p = polymarketLastTradeSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      const t = p.data;
      const id = t.transaction_hash ?? `${t.asset_id}:${t.timestamp}:${t.side}:${t.price}:${t.size}`;
      return { ok: true, value: { kind: 'events', events: [{ t: 'trade', m: t.asset_id, ts: t.timestamp, id, yesPrice: t.price, count: t.size, takerSide: t.side === 'BUY' ? 'yes' : 'no' }], expectedTops: [] } };
    }
    case 'tick_size_change': {
      const p = polymarketTickSizeSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      return { ok: true, value: { kind: 'tick_size', assetId: p.data.asset_id, tickSize: p.data.new_tick_size, ts: p.data.timestamp } };
    }
    default:
      return typeof type === 'string' ? { ok: true, value: { kind: 'ignored', eventType: type } } : { ok: false, error: 'message has no event_type' };
  }
}
