import { Dec } from './decimal';

/**
 * Kalshi trading fee for `contracts` at `price` (dollars): rate × C × P × (1 − P), rounded up to
 * $0.0001. Taker rate 0.07, maker 0.0175 by default; `seriesMultiplier` scales it for series with
 * their own schedule.
 */
export function kalshiFee(args: { contracts: Dec; price: Dec; rate: Dec; seriesMultiplier?: Dec }): Dec {
  const { contracts, price, rate } = args;
  if (price.lt(0) || price.gt(1)) throw new Error(`price ${price.toString()} outside [0, 1]`);
  if (contracts.lt(0)) throw new Error(`negative contract count ${contracts.toString()}`);
  const raw = rate.times(args.seriesMultiplier ?? 1).times(contracts).times(price).times(new Dec(1).minus(price));
  return raw.toDecimalPlaces(4, Dec.ROUND_CEIL);
}

/**
 * Polymarket platform fee, paid by takers only: C × rate × (p × (1 − p))^exponent, floored to
 * 5 decimals (pUSD). `rate` and `exponent` come from the market's fee schedule (e.g. 0.02 and 2).
 */
export function polymarketTakerFee(args: { contracts: Dec; price: Dec; rate: Dec; exponent: number }): Dec {
  const { contracts, price, rate, exponent } = args;
  if (price.lt(0) || price.gt(1)) throw new Error(`price ${price.toString()} outside [0, 1]`);
  if (!Number.isInteger(exponent) || exponent < 0) throw new Error(`fee exponent must be a whole number, got ${exponent}`);
  if (contracts.lt(0) || rate.lt(0)) throw new Error('contracts and rate must be >= 0');
  return contracts.times(rate).times(price.times(new Dec(1).minus(price)).pow(exponent)).toDecimalPlaces(5, Dec.ROUND_FLOOR);
}
