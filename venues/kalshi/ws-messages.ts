import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { ONE_DOLLAR, priceText, priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { TradePrint } from '../../domain/market-data/trade';
import { gridDecimal, MAX_TRADE_ID_LENGTH } from '../../domain/market-data/validation';
import { describeIssues } from '../../domain/validation';

// Pure parsers for Kalshi WebSocket messages (fixed-point era: *_dollars / *_fp strings).

/** Longest market ticker accepted; Kalshi's are well under 60 characters. */
export const MAX_TICKER_LENGTH = 100;
const marketTicker = z.string().min(1).max(MAX_TICKER_LENGTH);


/** A price strictly inside (0, 1) dollars on the 1e-4 grid. */
const bookPrice = gridDecimal(priceUnits, (units) => (units > 0 && units < ONE_DOLLAR ? undefined : 'price must be inside (0, 1)'));
const levelSize = gridDecimal(sizeUnits, (units) => (units >= 0 ? undefined : 'size must not be negative'));
const tradeCount = gridDecimal(sizeUnits, (units) => (units > 0 ? undefined : 'count must be positive'));
const signedSize = gridDecimal(sizeUnits);

/** A NO bid quoted in YES terms (subscribed with `use_yes_price`) as the NO bid price: 1 − p. */
export function noPriceFromYesTerms(yesTermsPrice: string): string {
  return priceText(ONE_DOLLAR - priceUnits(yesTermsPrice));
}

export const kalshiTradeMsgSchema = z.object({
  trade_id: z.string().min(1).max(MAX_TRADE_ID_LENGTH),
  market_ticker: marketTicker,
  yes_price_dollars: bookPrice,
  no_price_dollars: bookPrice.optional(),
  count_fp: tradeCount,
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
  if (!Number.isSafeInteger(tsMs) || tsMs < 0) return { ok: false, error: `trade time ${tsMs} ms is not a non-negative integer` };
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

const levelSchema = z.tuple([bookPrice, levelSize]);

export const kalshiSnapshotMsgSchema = z.object({
  market_ticker: marketTicker,
  market_id: z.string().optional(),
  yes_dollars_fp: z.array(levelSchema).optional(),
  no_dollars_fp: z.array(levelSchema).optional(),
});

export const kalshiDeltaMsgSchema = z.object({
  market_ticker: marketTicker,
  market_id: z.string().optional(),
  price_dollars: bookPrice,
  delta_fp: signedSize,
  side: z.enum(['yes', 'no']),
  ts_ms: z.number().int().nonnegative().optional(),
});

export const kalshiTickerMsgSchema = z.object({
  market_ticker: marketTicker,
  price_dollars: decimalString.optional(),
  yes_bid_dollars: decimalString.optional(),
  yes_ask_dollars: decimalString.optional(),
  volume_fp: decimalString.optional(),
  open_interest_fp: decimalString.optional(),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().optional(),
});

export const kalshiFillMsgSchema = z.object({
  trade_id: z.string().min(1),
  order_id: z.string().min(1),
  client_order_id: z.string().optional(),
  market_ticker: marketTicker,
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
    market_ticker: marketTicker,
    event_type: z.string().min(1),
    open_ts: z.number().int().optional(),
    close_ts: z.number().int().optional(),
    result: z.string().optional(),
    price_level_structure: z.string().optional(),
    additional_metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/**
 * `user_order` on the `user_orders` channel (asyncapi-2026-03 userOrderPayload): one of our orders
 * was created, filled, canceled or amended. Only what identifies the order and its counts is
 * required; `user_id` and `client_order_id` (required by the spec) are optional here because
 * Kestrel correlates by `order_id`, as it must for fills since Kalshi dropped client_order_id there.
 */
export const kalshiUserOrderMsgSchema = z.object({
  order_id: z.string().min(1),
  user_id: z.string().optional(),
  ticker: marketTicker,
  status: z.enum(['resting', 'canceled', 'executed']),
  side: z.enum(['yes', 'no']),
  is_yes: z.boolean().optional(),
  yes_price_dollars: decimalString,
  fill_count_fp: decimalString,
  remaining_count_fp: decimalString,
  initial_count_fp: decimalString,
  taker_fill_cost_dollars: decimalString.optional(),
  maker_fill_cost_dollars: decimalString.optional(),
  // Omitted when zero (spec).
  taker_fees_dollars: decimalString.optional(),
  maker_fees_dollars: decimalString.optional(),
  client_order_id: z.string().optional(),
  order_group_id: z.string().optional(),
  self_trade_prevention_type: z.string().optional(),
  created_time: z.string().optional(),
  last_update_time: z.string().optional(),
  expiration_time: z.string().optional(),
  subaccount_number: z.number().int().optional(),
});

/** Channels besides book and trades, typed. Unknown types pass through as `other`. */
export type KalshiChannelMessage =
  | { type: 'ticker'; msg: z.infer<typeof kalshiTickerMsgSchema> }
  | { type: 'fill'; msg: z.infer<typeof kalshiFillMsgSchema> }
  | { type: 'user_order'; msg: z.infer<typeof kalshiUserOrderMsgSchema> }
  | { type: 'market_lifecycle_v2'; msg: z.infer<typeof kalshiLifecycleMsgSchema> }
  | { type: 'other'; channel: string; msg: unknown };

const channelSchemas = { ticker: kalshiTickerMsgSchema, fill: kalshiFillMsgSchema, user_order: kalshiUserOrderMsgSchema, market_lifecycle_v2: kalshiLifecycleMsgSchema } as const;

export function parseKalshiChannelMessage(type: string, msg: unknown): ParseResult<KalshiChannelMessage> {
  // An own-property check: `in` would take `constructor` or `__proto__` for a schema.
  if (!Object.hasOwn(channelSchemas, type)) return { ok: true, value: { type: 'other', channel: type, msg } };
  const parsed = channelSchemas[type as keyof typeof channelSchemas].safeParse(msg);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error.issues) };
  return { ok: true, value: { type, msg: parsed.data } as KalshiChannelMessage };
}
