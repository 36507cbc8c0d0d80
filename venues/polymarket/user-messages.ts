import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { ONE_DOLLAR, priceUnits, sizeUnits } from '../../domain/fixed-point';
import { gridDecimal } from '../../domain/market-data/validation';
import { describeIssues } from '../../domain/validation';

// Polymarket CLOB user channel (authenticated): `order` and `trade` messages about the account's own
// orders. Amounts stay decimal text (validated); the execution client turns them into fills.

const id = z.string().min(1).max(200);
const side = z.enum(['BUY', 'SELL']);
/** A share amount or price; the venue sends "" for an amount it has not filled yet. */
const nonNegative = z.preprocess((v) => (v === '' ? '0' : v), gridDecimal(sizeUnits, (units) => (units >= 0 ? undefined : 'must not be negative')));
const price = gridDecimal(priceUnits, (units) => (units > 0 && units < ONE_DOLLAR ? undefined : 'price must be inside (0, 1)'));
const msText = z.union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative()]).transform(Number);

/**
 * A match time in milliseconds: the venue sends Unix seconds as text; the documentation's
 * examples use ISO-8601.
 */
const matchTime = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = String(v).trim();
  if (/^\d{1,12}$/.test(text)) return Number(text) * 1000;
  const ms = /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isFinite(ms)) return ms;
  ctx.addIssue({ code: 'custom', message: `not a match time: ${text.slice(0, 40)}` });
  return z.NEVER;
});

export const POLYMARKET_ORDER_TYPES = ['GTC', 'GTD', 'FOK', 'FAK'] as const;
export type PolymarketOrderType = (typeof POLYMARKET_ORDER_TYPES)[number];

/**
 * Order statuses: LIVE (resting), MATCHED (filled), DELAYED (held by the venue's matching delay),
 * UNMATCHED (a marketable order that was delayed and then found nothing), CANCELED (by us, by the
 * venue, or a FOK/FAK killed: the venue appends its reason as `CANCELED_<reason>`), INVALID (the
 * venue removed it, e.g. the balance or allowance went away).
 */
const ORDER_STATUSES = ['LIVE', 'MATCHED', 'DELAYED', 'UNMATCHED', 'CANCELED', 'INVALID'] as const;
export type PolymarketOrderStatus = (typeof ORDER_STATUSES)[number];

const orderStatus = z.string().transform((text, ctx) => {
  const upper = text.trim().toUpperCase();
  const known = ORDER_STATUSES.find((s) => upper === s || upper.startsWith(`${s}_`));
  if (known === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown order status ${text.slice(0, 60)}` });
    return z.NEVER;
  }
  const reason = upper === known ? undefined : text.trim().slice(known.length + 1);
  return { status: known, reason };
});

export const polymarketUserOrderSchema = z.object({
  event_type: z.literal('order'),
  /** PLACEMENT (accepted), UPDATE (matched some), CANCELLATION (gone). */
  type: z.enum(['PLACEMENT', 'UPDATE', 'CANCELLATION']),
  id,
  owner: z.string().optional(),
  market: z.string(),
  asset_id: id,
  side,
  original_size: nonNegative,
  size_matched: nonNegative,
  price,
  associate_trades: z.array(z.string()).nullish(),
  outcome: z.string().optional(),
  order_type: z.enum(POLYMARKET_ORDER_TYPES).optional(),
  status: orderStatus,
  maker_address: z.string().optional(),
  timestamp: msText,
});
export type PolymarketUserOrder = z.infer<typeof polymarketUserOrderSchema>;

/**
 * Trade statuses, in the order the venue moves through them: MATCHED (the operator matched it and
 * sent it on chain), MINED (in a block), CONFIRMED (final); RETRYING (the transaction failed and is
 * being resubmitted) and FAILED (it failed for good: the match did not happen).
 */
export const TRADE_STATUSES = ['MATCHED', 'MINED', 'CONFIRMED', 'RETRYING', 'FAILED'] as const;
export type PolymarketTradeStatus = (typeof TRADE_STATUSES)[number];

const makerOrder = z.object({
  order_id: id,
  owner: z.string().optional(),
  maker_address: z.string().optional(),
  matched_amount: nonNegative,
  price,
  fee_rate_bps: decimalString.optional(),
  asset_id: id,
  outcome: z.string().optional(),
  side: side.optional(),
});

export const polymarketUserTradeSchema = z.object({
  event_type: z.literal('trade'),
  type: z.literal('TRADE').optional(),
  id,
  taker_order_id: id,
  market: z.string(),
  asset_id: id,
  side,
  size: nonNegative,
  price,
  fee_rate_bps: decimalString.optional(),
  status: z.enum(TRADE_STATUSES),
  match_time: matchTime,
  last_update: matchTime.optional(),
  outcome: z.string().optional(),
  owner: z.string().optional(),
  trade_owner: z.string().optional(),
  maker_address: z.string().optional(),
  transaction_hash: z.string().optional(),
  bucket_index: z.number().int().nonnegative().optional(),
  maker_orders: z.array(makerOrder).max(1000),
  trader_side: z.enum(['TAKER', 'MAKER']),
  timestamp: msText.optional(),
});
export type PolymarketUserTrade = z.infer<typeof polymarketUserTradeSchema>;

export type PolymarketUserMessage = { kind: 'order'; order: PolymarketUserOrder } | { kind: 'trade'; trade: PolymarketUserTrade } | { kind: 'ignored'; eventType: string };

/** Parses one user-channel message; anything malformed is reported with why, never thrown. */
export function parsePolymarketUserMessage(msg: unknown): { ok: true; value: PolymarketUserMessage } | { ok: false; error: string } {
  const type = (msg as { event_type?: unknown } | null)?.event_type;
  if (type === 'order') {
    const p = polymarketUserOrderSchema.safeParse(msg);
    return p.success ? { ok: true, value: { kind: 'order', order: p.data } } : { ok: false, error: describeIssues(p.error.issues) };
  }
  if (type === 'trade') {
    const p = polymarketUserTradeSchema.safeParse(msg);
    return p.success ? { ok: true, value: { kind: 'trade', trade: p.data } } : { ok: false, error: describeIssues(p.error.issues) };
  }
  return typeof type === 'string' ? { ok: true, value: { kind: 'ignored', eventType: type } } : { ok: false, error: 'message has no event_type' };
}

/**
 * Which trade status may follow which: the venue's lifecycle, forward only. A status seen again is
 * a repeat; CONFIRMED and FAILED are final.
 */
const NEXT: Record<PolymarketTradeStatus, readonly PolymarketTradeStatus[]> = {
  MATCHED: ['MINED', 'CONFIRMED', 'RETRYING', 'FAILED'],
  MINED: ['CONFIRMED', 'RETRYING', 'FAILED'],
  RETRYING: ['MINED', 'CONFIRMED', 'FAILED'],
  CONFIRMED: [],
  FAILED: [],
};

export function tradeStatusMayFollow(from: PolymarketTradeStatus, to: PolymarketTradeStatus): boolean {
  return NEXT[from].includes(to);
}
