import { z } from 'zod';
import { Dec, decimalString } from '../decimal';
import type { TradingVenue } from '../ports';
import { outcomeSchema, type OrderRequestWire, type OrderStateWire } from '../trading/wire';

/*
 * A basket: N legs bought together whose payouts only add up to a sure $1 per complete set (one
 * contract of every leg). Cross-venue arbitrage is a basket of two (YES here, NO there); bucket
 * arbitrage is a basket of N Kalshi legs (one YES per mutually exclusive bucket). Plans cross
 * Temporal as wire objects (decimal strings); the rules here are pure.
 */

const venueSchema = z.enum(['sim', 'kalshi', 'polymarket']) satisfies z.ZodType<TradingVenue>;

export const basketLegSchema = z.object({
  legId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { message: 'expected a short lower-case leg id' }),
  venue: venueSchema,
  market: z.string().min(1),
  outcome: outcomeSchema,
  /** The most the leg pays per contract (its IOC limit). */
  limitPrice: decimalString,
  size: decimalString,
});
export type BasketLeg = z.infer<typeof basketLegSchema>;

export const basketPlanSchema = z.object({
  /** Unique per basket: every client order id is derived from it, so a replayed workflow sends nothing twice. */
  basketId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9/:._-]{0,150}$/, { message: 'expected a basket id of letters, digits and / : . _ -' }),
  strategyId: z.string().min(1).max(100),
  legs: z.array(basketLegSchema).min(2).max(32),
  /** Unwinding excess contracts: each attempt sells `stepPrice` lower than the last, never below `floorPrice`. */
  unwind: z.object({ stepPrice: decimalString, floorPrice: decimalString, attempts: z.number().int().min(1).max(20) }),
  /** What the plan expects to earn net of fees at full size (for the record; never used to decide). */
  expectedEdge: decimalString.optional(),
});
export type BasketPlan = z.infer<typeof basketPlanSchema>;

/** Every price the unwind rule sets lies on the cent grid, which both venues accept. */
const UNWIND_GRID = new Dec('0.01');

/** The entry order of a leg: an IOC buy at the leg's limit, under an id derived from basket and leg. */
export function entryOrder(plan: BasketPlan, leg: BasketLeg): OrderRequestWire {
  return {
    clientOrderId: `${plan.basketId}:${leg.legId}:entry`,
    positionId: legPositionId(plan, leg),
    purpose: 'entry',
    market: leg.market,
    outcome: leg.outcome,
    action: 'buy',
    limitPrice: leg.limitPrice,
    size: leg.size,
    tif: 'ioc',
  };
}

/** The n-th unwind order of a leg (n from 1): an IOC sell of contracts the basket holds beyond its complete sets. */
export function unwindOrder(plan: BasketPlan, leg: BasketLeg, attemptNo: number, size: Dec): OrderRequestWire {
  return {
    clientOrderId: `${plan.basketId}:${leg.legId}:unwind:${attemptNo}`,
    positionId: legPositionId(plan, leg),
    purpose: 'exit',
    market: leg.market,
    outcome: leg.outcome,
    action: 'sell',
    limitPrice: unwindLimit(plan, leg, attemptNo).toFixed(4),
    size: size.toString(),
    tif: 'ioc',
    reduceOnly: true,
  };
}

export function legPositionId(plan: BasketPlan, leg: BasketLeg): string {
  return `${plan.basketId}/${leg.legId}`;
}

/**
 * The n-th unwind's limit: the leg's entry limit less n steps, on the cent grid, never below the
 * floor. Aggressive on purpose: an unhedged leg is a directional bet nobody chose, and closing it
 * at a few cents' loss beats holding it; the steps bound how far one attempt walks a thin book.
 */
export function unwindLimit(plan: BasketPlan, leg: BasketLeg, attemptNo: number): Dec {
  const target = new Dec(leg.limitPrice).minus(new Dec(plan.unwind.stepPrice).times(attemptNo));
  const onGrid = target.div(UNWIND_GRID).floor().times(UNWIND_GRID);
  const floor = new Dec(plan.unwind.floorPrice);
  return onGrid.lt(floor) ? floor : onGrid;
}

export interface Rollback {
  /** Complete sets the basket keeps: the smallest filled size over its legs. */
  completeSets: Dec;
  /** What each leg must sell to come down to the complete sets (legs with nothing extra are left out). */
  unwinds: { legId: string; size: Dec }[];
}

/**
 * The rollback rule when legs fill unevenly (one refused, one partly filled): keep the complete
 * sets (the smallest filled size over all legs) and unwind every leg's contracts beyond it with
 * aggressive IOC sells. Nothing filled anywhere: nothing to do; one leg at zero: everything unwinds.
 *
 * Why trim rather than complete the short legs up to the largest fill: the complete sets were
 * bought at prices that already met the minimum edge, so they are a hedged, locked-in payout and
 * selling them would pay spread and fees twice for nothing. Chasing the short leg instead means
 * buying at a price that is no longer there (it just failed to fill at the limit), while the
 * excess sits unhedged for as long as the chase lasts, and a chase at a worse price can turn the
 * whole basket into a loss. Trimming bounds the loss to the excess's spread and fees, known now.
 */
export function rollbackRule(legs: readonly { legId: string; filled: Dec }[]): Rollback {
  if (legs.length === 0) return { completeSets: new Dec(0), unwinds: [] };
  const completeSets = Dec.min(...legs.map((l) => l.filled));
  const unwinds = legs.filter((l) => l.filled.gt(completeSets)).map((l) => ({ legId: l.legId, size: l.filled.minus(completeSets) }));
  return { completeSets, unwinds };
}

/** An order's state with the limit it was sent at (the price assumed for fills the venue has not itemised yet). */
export type LegOrderState = OrderStateWire & { limitPriceHint?: string };

/** Orders' fills summed: contracts, notional, fees. */
export function filledSummary(states: readonly LegOrderState[]): { size: Dec; notional: Dec; fees: Dec } {
  let size = new Dec(0);
  let notional = new Dec(0);
  let fees = new Dec(0);
  for (const s of states) {
    const filled = new Dec(s.filled);
    size = size.plus(filled);
    fees = fees.plus(s.fees);
    const fillsSize = s.fills.reduce((sum, f) => sum.plus(f.size), new Dec(0));
    // Fills carry the traded prices; a venue that reported the matched size before its fills (Polymarket's REST answer) falls back to the average price, or the limit.
    if (fillsSize.gte(filled) && s.fills.length > 0) notional = notional.plus(s.fills.reduce((sum, f) => sum.plus(new Dec(f.size).times(f.price)), new Dec(0)));
    else if (s.averagePrice !== undefined) notional = notional.plus(filled.times(s.averagePrice));
    else notional = notional.plus(filled.times(s.limitPriceHint ?? 0));
  }
  return { size, notional, fees };
}

/** Where a basket leg ended: bought, sold back, and the position that is left. */
export interface LegResult {
  legId: string;
  venue: TradingVenue;
  market: string;
  outcome: 'yes' | 'no';
  bought: string;
  averageBuyPrice?: string;
  sold: string;
  averageSellPrice?: string;
  fees: string;
  /** Contracts still held (bought − sold). */
  held: string;
  /** Net of every fee: the sold contracts' gain or loss, less all fees paid so far. */
  realizedPnl: string;
  entryRejectReason?: string;
}

/** One leg's record from its entry and unwind orders (states as the venues last reported them). */
export function legResult(leg: BasketLeg, entry: LegOrderState, unwinds: readonly LegOrderState[]): LegResult {
  const bought = filledSummary([entry]);
  const sold = filledSummary(unwinds);
  const avgBuy = bought.size.gt(0) ? bought.notional.div(bought.size) : undefined;
  const avgSell = sold.size.gt(0) ? sold.notional.div(sold.size) : undefined;
  const fees = bought.fees.plus(sold.fees);
  const tradedPnl = avgBuy && avgSell ? sold.size.times(avgSell.minus(avgBuy)) : new Dec(0);
  return {
    legId: leg.legId,
    venue: leg.venue,
    market: leg.market,
    outcome: leg.outcome,
    bought: bought.size.toString(),
    averageBuyPrice: avgBuy?.toFixed(6),
    sold: sold.size.toString(),
    averageSellPrice: avgSell?.toFixed(6),
    fees: fees.toFixed(6),
    held: bought.size.minus(sold.size).toString(),
    realizedPnl: tradedPnl.minus(fees).toFixed(6),
    entryRejectReason: entry.rejectReason,
  };
}
