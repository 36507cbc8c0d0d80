import { basketPlanSchema, type BasketPlan } from '../arbitrage/legs';
import { describeIssues } from '../validation';
import type { BucketBasket } from './bucket-arb';

/*
 * A bucket basket as the generic N-leg executor (domain/arbitrage/legs.ts, workflows/arbitrage.ts)
 * takes it: one Kalshi leg per bucket, IOC at the basket's limit. The executor's rollback rule keeps
 * the complete sets (the smallest fill over the legs) and unwinds the excess: for a bucket basket a
 * complete set is exactly what locks the payout ($1 for YES sets, k − 1 for NO sets on k legs).
 */

/** The basket id is derived from the event and the snapshot time, so the same opportunity never becomes two baskets. */
export function bucketBasketId(basket: Pick<BucketBasket, 'eventTicker' | 'basket'>, observedAtMs: number): string {
  return `bucket-arb/${basket.eventTicker}/${basket.basket}/${observedAtMs}`;
}

export function bucketBasketPlan(basket: BucketBasket, opts: { strategyId: string; observedAtMs: number; unwind: BasketPlan['unwind'] }): BasketPlan {
  const plan = {
    basketId: bucketBasketId(basket, opts.observedAtMs),
    strategyId: opts.strategyId,
    legs: basket.legs.map((leg, i) => ({ legId: `leg-${i}`, venue: 'kalshi' as const, market: leg.market, outcome: leg.side, limitPrice: leg.limitPrice.toFixed(4), size: leg.size.toString() })),
    unwind: opts.unwind,
    expectedEdge: basket.guaranteedProfit.toFixed(4),
  };
  const parsed = basketPlanSchema.safeParse(plan);
  if (!parsed.success) throw new Error(`bucket basket ${plan.basketId} is not a valid basket plan: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}
