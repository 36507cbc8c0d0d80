import { Dec } from '../decimal';
import { kalshiFee, polymarketTakerFee } from '../fees';
import type { BasketPlan } from './legs';
import type { ArbitragePair } from './mapping';

/*
 * Cross-venue gaps on one reviewed pair. In the pair's own terms a contract either pays on the
 * stated outcome ("yes") or on its negation ("no"); one of each, bought on different venues, pays
 * exactly $1 at settlement whatever happens. When both asks plus both venues' taker fees cost less
 * than that $1, the difference is the edge. Pure: quotes in, opportunity out.
 */

export type ArbVenue = 'kalshi' | 'polymarket';

/** The best ask of a contract and the size offered there. */
export interface Ask {
  price: Dec;
  size: Dec;
}

/** One venue's asks for the pair's two contracts ("yes": pays on the pair's outcome; "no": on its negation). */
export interface PairBook {
  yes?: Ask;
  no?: Ask;
}

export interface CrossVenueFees {
  kalshi: { takerRate: Dec; seriesMultiplier?: Dec };
  /** The market's rate (its `taker_base_fee` bps / 10 000) and the pair's fee exponent. */
  polymarket: { rate: Dec; exponent: number };
}

export interface CrossVenueGap {
  /** The venue where the pair's "yes" contract is bought; the "no" is bought on the other. */
  yesOn: ArbVenue;
  noOn: ArbVenue;
  yesPrice: Dec;
  noPrice: Dec;
  size: Dec;
  yesFee: Dec;
  noFee: Dec;
  /** What the basket costs: both asks × size plus both fees. */
  cost: Dec;
  /** Net of fees at `size`: size × $1 − cost. */
  edge: Dec;
  edgePerContract: Dec;
}

export interface GapRules {
  /** The least net edge per contract worth trading (dollars). */
  minEdgePerContract: Dec;
  /** At most this many contracts per basket. */
  maxSize: Dec;
  /** Fewer contracts than this are not worth a basket (Polymarket's minimum order size is 5 shares on most markets). */
  minSize: Dec;
}

/** A venue's taker fee on `contracts` bought at `price` (each venue's own formula and rounding). */
export function takerFee(venue: ArbVenue, contracts: Dec, price: Dec, fees: CrossVenueFees): Dec {
  return venue === 'kalshi'
    ? kalshiFee({ contracts, price, rate: fees.kalshi.takerRate, seriesMultiplier: fees.kalshi.seriesMultiplier })
    : polymarketTakerFee({ contracts, price, rate: fees.polymarket.rate, exponent: fees.polymarket.exponent });
}

const OTHER: Record<ArbVenue, ArbVenue> = { kalshi: 'polymarket', polymarket: 'kalshi' };

/**
 * The better of the two directions (YES on Kalshi + NO on Polymarket, and the reverse), sized by the
 * thinner of the two top-of-book asks (whole contracts, at most `maxSize`), if its net edge per
 * contract reaches `minEdgePerContract`. Fees are computed at the traded size, with each venue's
 * rounding, so a gap that only exists before rounding is not taken.
 */
export function detectCrossVenueGap(books: Record<ArbVenue, PairBook>, fees: CrossVenueFees, rules: GapRules): CrossVenueGap | undefined {
  let best: CrossVenueGap | undefined;
  for (const yesOn of ['kalshi', 'polymarket'] as const) {
    const noOn = OTHER[yesOn];
    const yes = books[yesOn].yes;
    const no = books[noOn].no;
    if (!yes || !no) continue;
    const size = Dec.min(yes.size, no.size, rules.maxSize).floor();
    if (size.lt(rules.minSize) || size.lte(0)) continue;
    const yesFee = takerFee(yesOn, size, yes.price, fees);
    const noFee = takerFee(noOn, size, no.price, fees);
    const cost = size.times(yes.price.plus(no.price)).plus(yesFee).plus(noFee);
    const edge = size.minus(cost);
    const edgePerContract = edge.div(size);
    if (edgePerContract.lt(rules.minEdgePerContract)) continue;
    if (!best || edge.gt(best.edge)) best = { yesOn, noOn, yesPrice: yes.price, noPrice: no.price, size, yesFee, noFee, cost, edge, edgePerContract };
  }
  return best;
}

/** The venue order fields of the pair's "yes" or "no" contract on a venue. */
export function pairContract(pair: ArbitragePair, venue: ArbVenue, side: 'yes' | 'no'): { market: string; outcome: 'yes' | 'no' } {
  if (venue === 'kalshi') {
    // The Kalshi side that pays on the pair's outcome is stated in the mapping (YES, or NO for a market worded the other way).
    const paysOn = pair.kalshi.outcome;
    return { market: pair.kalshi.market, outcome: side === 'yes' ? paysOn : paysOn === 'yes' ? 'no' : 'yes' };
  }
  // Polymarket orders name the mapped token as the market; NO is its complement token (venues/polymarket/order-signing.ts).
  return { market: pair.polymarket.tokenId, outcome: side };
}

/** The two-leg basket that takes a gap: IOC buys at the quoted asks. */
export function crossVenueBasket(pair: ArbitragePair, gap: CrossVenueGap, opts: { basketId: string; strategyId: string; unwind: BasketPlan['unwind'] }): BasketPlan {
  const leg = (side: 'yes' | 'no', venue: ArbVenue, price: Dec) => ({ legId: `${side}-${venue}`, venue, ...pairContract(pair, venue, side), limitPrice: price.toFixed(4), size: gap.size.toString() });
  return {
    basketId: opts.basketId,
    strategyId: opts.strategyId,
    legs: [leg('yes', gap.yesOn, gap.yesPrice), leg('no', gap.noOn, gap.noPrice)],
    unwind: opts.unwind,
    expectedEdge: gap.edge.toFixed(6),
  };
}
