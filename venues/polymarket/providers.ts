import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { BadRequest, MarketClosed } from '../../domain/errors';
import { describeIssues } from '../../domain/validation';
import type { PolymarketMarketRules } from './order-signing';

/** The ticks the CLOB uses (its order builder has a rounding rule for each, and no other). */
export const POLYMARKET_TICKS = ['0.1', '0.01', '0.001', '0.0001'] as const;

// The CLOB's market object (GET /markets/{condition_id}): numbers may come as JSON numbers; they are
// read through their text so no float arithmetic touches them.
const numberText = z.union([z.number(), z.string()]).transform((v) => String(v));

export const clobMarketSchema = z
  .object({
    condition_id: z.string().min(1),
    tokens: z.array(z.object({ token_id: z.string().min(1), outcome: z.string() }).passthrough()).length(2),
    neg_risk: z.boolean(),
    minimum_tick_size: numberText.pipe(z.enum(POLYMARKET_TICKS)),
    taker_base_fee: numberText.pipe(decimalString),
    accepting_orders: z.boolean(),
    closed: z.boolean(),
  })
  .passthrough();
export type ClobMarket = z.infer<typeof clobMarketSchema>;

export function parseClobMarket(body: unknown): ClobMarket {
  const parsed = clobMarketSchema.safeParse(body);
  if (!parsed.success) throw new BadRequest(`Polymarket market: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/**
 * What signing an order on `assetId` needs: the asset is Kestrel's YES side and the market's other
 * token its NO side; the neg-risk flag picks the exchange; the taker base fee (bps) is signed in.
 * The tick is the live one when the feed named it (`liveTick`, from PolymarketBookSync.tickSize): the
 * market object's `minimum_tick_size` is only a starting value, since the venue changes the tick as
 * the price nears 0 or 1.
 */
export function polymarketMarketRules(market: ClobMarket, assetId: string, liveTick: string | undefined): PolymarketMarketRules {
  const own = market.tokens.find((t) => t.token_id === assetId);
  const other = market.tokens.find((t) => t.token_id !== assetId);
  if (!own || !other) throw new BadRequest(`asset ${assetId} is not a token of market ${market.condition_id}`);
  if (market.closed || !market.accepting_orders) throw new MarketClosed(`market ${market.condition_id} is not accepting orders`);
  const tick = liveTick ?? market.minimum_tick_size;
  if (!(POLYMARKET_TICKS as readonly string[]).includes(tick)) throw new BadRequest(`tick ${tick} is not one the CLOB uses`);
  return { tokens: { yes: own.token_id, no: other.token_id }, tickSize: tick, negRisk: market.neg_risk, feeRateBps: market.taker_base_fee };
}
