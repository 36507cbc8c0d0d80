import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { Dec } from '../../domain/decimal';
import type { MarketEvent } from '../../domain/market-data/events';
import { describeIssues } from '../../domain/validation';

// Polymarket CLOB market channel. One book per asset (outcome token). In Kestrel's binary-book
// terms the asset is the YES side: its bids are YES bids and its asks at a are NO bids at 1 − a.

const level = z.object({ price: decimalString, size: decimalString });
const msTimestamp = z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(Number);

export const polymarketBookSchema = z.object({
  event_type: z.literal('book'),
  asset_id: z.string().min(1),
  market: z.string().optional(),
  bids: z.array(level).optional(),
  asks: z.array(level).optional(),
  buys: z.array(level).optional(),
  sells: z.array(level).optional(),
  timestamp: msTimestamp,
  hash: z.string().optional(),
});

const priceChange = z.object({
  asset_id: z.string().min(1),
  price: decimalString,
  side: z.enum(['BUY', 'SELL']),
  size: decimalString,
  // The venue sends "" when a side is empty.
  best_bid: z.preprocess((v) => (v === '' ? undefined : v), decimalString.optional()),
  best_ask: z.preprocess((v) => (v === '' ? undefined : v), decimalString.optional()),
});
export const polymarketPriceChangeSchema = z.object({ event_type: z.literal('price_change'), market: z.string().optional(), price_changes: z.array(priceChange), timestamp: msTimestamp });

export const polymarketLastTradeSchema = z.object({
  event_type: z.literal('last_trade_price'),
  asset_id: z.string().min(1),
  price: decimalString,
  side: z.enum(['BUY', 'SELL']),
  size: decimalString,
  fee_rate_bps: decimalString.optional(),
  timestamp: msTimestamp,
  transaction_hash: z.string().optional(),
});

export const polymarketTickSizeSchema = z.object({ event_type: z.literal('tick_size_change'), asset_id: z.string().min(1), new_tick_size: decimalString, old_tick_size: decimalString.optional(), timestamp: msTimestamp });

export type PolymarketParsed =
  | { kind: 'events'; events: MarketEvent[]; /** best bid/ask the venue says should result, per asset */ expectedTops: { assetId: string; bestBid?: string; bestAsk?: string }[] }
  | { kind: 'tick_size'; assetId: string; tickSize: string; ts: number }
  | { kind: 'ignored'; eventType: string };

const complement = (price: string) => new Dec(1).minus(price).toFixed(4);
const issues = (e: z.ZodError) => describeIssues(e.issues);

export function parsePolymarketMessage(msg: unknown): { ok: true; value: PolymarketParsed } | { ok: false; error: string } {
  const type = (msg as { event_type?: unknown } | null)?.event_type;
  switch (type) {
    case 'book': {
      const p = polymarketBookSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      const bids = p.data.bids ?? p.data.buys ?? [];
      const asks = p.data.asks ?? p.data.sells ?? [];
      const event: MarketEvent = { t: 'snapshot', m: p.data.asset_id, ts: p.data.timestamp, yes: bids.map((l) => [l.price, l.size]), no: asks.map((l) => [complement(l.price), l.size]) };
      return { ok: true, value: { kind: 'events', events: [event], expectedTops: [] } };
    }
    case 'price_change': {
      const p = polymarketPriceChangeSchema.safeParse(msg);
      if (!p.success) return { ok: false, error: issues(p.error) };
      const events: MarketEvent[] = p.data.price_changes.map((c) =>
        c.side === 'BUY' ? { t: 'level', m: c.asset_id, ts: p.data.timestamp, side: 'yes', price: c.price, size: c.size } : { t: 'level', m: c.asset_id, ts: p.data.timestamp, side: 'no', price: complement(c.price), size: c.size },
      );
      return { ok: true, value: { kind: 'events', events, expectedTops: p.data.price_changes.map((c) => ({ assetId: c.asset_id, bestBid: c.best_bid, bestAsk: c.best_ask })) } };
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
