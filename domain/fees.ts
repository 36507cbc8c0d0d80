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

/** A fee the venue charged that differs from what our formula says for the same fill. */
export interface FeeDifference {
  fillId: string;
  liquidity: 'maker' | 'taker';
  contracts: string;
  price: string;
  venueFee: string;
  expectedFee: string;
}

/** Differences at or below this ($0.0001, the fee grid) are rounding, not a schedule we got wrong. */
const FEE_TOLERANCE = new Dec('0.0001');

/** The venue's fee for one fill against `kalshiFee`; a difference above $0.0001 is returned. */
export function kalshiFeeDifference(
  fill: { fillId: string; liquidity: 'maker' | 'taker'; contracts: Dec; price: Dec; fee: Dec },
  rates: { takerRate: Dec; makerRate: Dec; seriesMultiplier?: Dec },
): FeeDifference | undefined {
  const expected = kalshiFee({ contracts: fill.contracts, price: fill.price, rate: fill.liquidity === 'taker' ? rates.takerRate : rates.makerRate, seriesMultiplier: rates.seriesMultiplier });
  if (fill.fee.minus(expected).abs().lte(FEE_TOLERANCE)) return undefined;
  return { fillId: fill.fillId, liquidity: fill.liquidity, contracts: fill.contracts.toString(), price: fill.price.toFixed(4), venueFee: fill.fee.toFixed(4), expectedFee: expected.toFixed(4) };
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
