import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { Level } from '../../domain/market-data/order-book';
import type { TradePrint } from '../../domain/market-data/trade';
import { describeIssues } from '../../domain/validation';

// Pure parsers for Kalshi WebSocket messages (fixed-point era: *_dollars / *_fp strings).

export const kalshiTradeMsgSchema = z.object({
  trade_id: z.string().min(1),
  market_ticker: z.string().min(1),
  yes_price_dollars: decimalString,
  no_price_dollars: decimalString.optional(),
  count_fp: decimalString,
  taker_side: z.enum(['yes', 'no']),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().nonnegative().optional(),
});

export const kalshiEnvelopeSchema = z.object({
  type: z.string().min(1),
  sid: z.number().int().optional(),
  seq: z.number().int().optional(),
  msg: z.unknown(),
});
export type KalshiEnvelope = z.infer<typeof kalshiEnvelopeSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * A Kalshi trade message as a trade print. Without `fallbackTsMs` a trade must carry its exchange
 * time (ts_ms or ts); a live feed may pass the receive time as the fallback.
 */
export function parseKalshiTrade(msg: unknown, fallbackTsMs?: number): ParseResult<TradePrint> {
  const parsed = kalshiTradeMsgSchema.safeParse(msg);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error.issues) };
  const m = parsed.data;
  const tsMs = m.ts_ms ?? (m.ts !== undefined ? m.ts * 1000 : fallbackTsMs);
  if (tsMs === undefined) return { ok: false, error: 'trade has neither ts_ms nor ts' };
  return {
    ok: true,
    value: {
      venue: 'kalshi',
      tradeId: m.trade_id,
      marketTicker: m.market_ticker,
      yesPrice: m.yes_price_dollars,
      count: m.count_fp,
      takerSide: m.taker_side,
      exchangeTsMs: tsMs,
    },
  };
}

const levelSchema = z.tuple([decimalString, decimalString]);

export const kalshiSnapshotMsgSchema = z.object({
  market_ticker: z.string().min(1),
  market_id: z.string().optional(),
  yes_dollars_fp: z.array(levelSchema).optional(),
  no_dollars_fp: z.array(levelSchema).optional(),
});

export const kalshiDeltaMsgSchema = z.object({
  market_ticker: z.string().min(1),
  market_id: z.string().optional(),
  price_dollars: decimalString,
  delta_fp: decimalString,
  side: z.enum(['yes', 'no']),
  ts_ms: z.number().int().nonnegative().optional(),
});

export const kalshiTickerMsgSchema = z.object({
  market_ticker: z.string().min(1),
  price_dollars: decimalString.optional(),
  yes_bid_dollars: decimalString.optional(),
  yes_ask_dollars: decimalString.optional(),
  volume_fp: decimalString.optional(),
  open_interest_fp: decimalString.optional(),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});

/** Book events in exact integer units (see domain/fixed-point). */
export type KalshiBookEvent =
  | { kind: 'snapshot'; marketTicker: string; yes: Level[]; no: Level[] }
  | { kind: 'delta'; marketTicker: string; side: 'yes' | 'no'; price: number; delta: number; tsMs?: number };

const issues = (error: z.ZodError) => describeIssues(error.issues);

function toLevels(levels: [string, string][] | undefined): Level[] {
  return (levels ?? []).map(([price, size]) => ({ price: priceUnits(price), size: sizeUnits(size) }));
}

export function parseKalshiBookMessage(type: string, msg: unknown): ParseResult<KalshiBookEvent> {
  try {
    if (type === 'orderbook_snapshot') {
      const parsed = kalshiSnapshotMsgSchema.safeParse(msg);
      if (!parsed.success) return { ok: false, error: issues(parsed.error) };
      return { ok: true, value: { kind: 'snapshot', marketTicker: parsed.data.market_ticker, yes: toLevels(parsed.data.yes_dollars_fp), no: toLevels(parsed.data.no_dollars_fp) } };
    }
    if (type === 'orderbook_delta') {
      const parsed = kalshiDeltaMsgSchema.safeParse(msg);
      if (!parsed.success) return { ok: false, error: issues(parsed.error) };
      const m = parsed.data;
      return { ok: true, value: { kind: 'delta', marketTicker: m.market_ticker, side: m.side, price: priceUnits(m.price_dollars), delta: sizeUnits(m.delta_fp), tsMs: m.ts_ms } };
    }
    return { ok: false, error: `not a book message: ${type}` };
  } catch (err) {
    // Fixed-point conversion refuses prices finer than 1e-4 or sizes finer than 1e-2.
    return { ok: false, error: (err as Error).message };
  }
}

export const kalshiFillMsgSchema = z.object({
  trade_id: z.string().min(1),
  order_id: z.string().min(1),
  client_order_id: z.string().optional(),
  market_ticker: z.string().min(1),
  is_taker: z.boolean(),
  side: z.enum(['yes', 'no']),
  action: z.enum(['buy', 'sell']),
  yes_price_dollars: decimalString,
  count_fp: decimalString,
  fee_cost: decimalString.optional(),
  post_position_fp: decimalString.optional(),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});

export const kalshiLifecycleMsgSchema = z
  .object({
    market_ticker: z.string().min(1),
    event_type: z.string().min(1),
    open_ts: z.number().int().optional(),
    close_ts: z.number().int().optional(),
    result: z.string().optional(),
    price_level_structure: z.string().optional(),
    additional_metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** Channels besides book and trades, typed. Unknown types pass through as `other`. */
export type KalshiChannelMessage =
  | { type: 'ticker'; msg: z.infer<typeof kalshiTickerMsgSchema> }
  | { type: 'fill'; msg: z.infer<typeof kalshiFillMsgSchema> }
  | { type: 'market_lifecycle_v2'; msg: z.infer<typeof kalshiLifecycleMsgSchema> }
  | { type: 'other'; channel: string; msg: unknown };

export function parseKalshiChannelMessage(type: string, msg: unknown): ParseResult<KalshiChannelMessage> {
  const schemas = { ticker: kalshiTickerMsgSchema, fill: kalshiFillMsgSchema, market_lifecycle_v2: kalshiLifecycleMsgSchema } as const;
  if (!(type in schemas)) return { ok: true, value: { type: 'other', channel: type, msg } };
  const parsed = schemas[type as keyof typeof schemas].safeParse(msg);
  if (!parsed.success) return { ok: false, error: issues(parsed.error) };
  return { ok: true, value: { type, msg: parsed.data } as KalshiChannelMessage };
}
