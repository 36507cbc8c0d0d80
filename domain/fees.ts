import { Dec } from './decimal';
import type { FeeSchedule } from './sim/matching';
import { takerFeeRate, type MarketFees } from './trading/taker-fee';

/*
 * Kalshi's fee on a fill has three parts (docs.kalshi.com/getting_started/fee_rounding):
 *   trade fee    = the fee model's figure (`kalshiFee`), rounded up to $0.0001;
 *   rounding fee = what brings the balance change back to the account's balance precision
 *                  ($0.0001 for direct members, $0.01 for everyone else);
 *   rebate       = $0.01 from the order's accumulated rounding fees once they exceed $0.01.
 * Net fee = trade fee + rounding fee − rebate, never below zero.
 */

/** The trade fee's grid: Kalshi rounds the fee model's figure up to a centicent. */
export const KALSHI_TRADE_FEE_PRECISION = new Dec('0.0001');
/**
 * Balance precision of a direct member of the exchange (the default: Kestrel trades with the user's
 * own Kalshi account and API key).
 */
export const DIRECT_MEMBER_BALANCE_PRECISION = new Dec('0.0001');
/** Balance precision of an account held through an intermediary (`fees.kalshiDirectMember: false`). */
export const MEMBER_BALANCE_PRECISION = new Dec('0.01');
/** A rebate is always one whole cent. */
const REBATE = new Dec('0.01');

/** The account's balance precision: direct members settle to $0.0001, everyone else to $0.01. */
export function kalshiBalancePrecision(directMember: boolean): Dec {
  return directMember ? DIRECT_MEMBER_BALANCE_PRECISION : MEMBER_BALANCE_PRECISION;
}

/**
 * Kalshi trade fee for `contracts` at `price` (dollars): rate × C × P × (1 − P), rounded up to
 * $0.0001. Taker rate 0.07, maker 0.0175 by default; `seriesMultiplier` scales it for series with
 * their own schedule. This is the trade fee only: `KalshiOrderFeeAccumulator` adds the balance rounding.
 */
export function kalshiFee(args: { contracts: Dec; price: Dec; rate: Dec; seriesMultiplier?: Dec }): Dec {
  const { contracts, price, rate } = args;
  if (price.lt(0) || price.gt(1)) throw new Error(`price ${price.toString()} outside [0, 1]`);
  if (contracts.lt(0)) throw new Error(`negative contract count ${contracts.toString()}`);
  const raw = rate.times(args.seriesMultiplier ?? 1).times(contracts).times(price).times(new Dec(1).minus(price));
  return ceilTo(raw, KALSHI_TRADE_FEE_PRECISION);
}

/**
 * The fee rate (multiplier included) of a fill. Taker: `takerFeeRate`. Maker: with the market's own
 * terms, only `quadratic_with_maker_fees` series charge makers (× their multiplier); without them,
 * the configured maker rate × the configured multiplier.
 */
export function kalshiFeeRate(liquidity: 'maker' | 'taker', configured: Pick<FeeSchedule, 'takerRate' | 'makerRate' | 'seriesMultiplier'>, market?: MarketFees): Dec {
  if (liquidity === 'taker') return takerFeeRate(configured, market);
  if (!market) return configured.makerRate.times(configured.seriesMultiplier ?? 1);
  return market.feeType === 'quadratic_with_maker_fees' ? configured.makerRate.times(market.multiplier) : new Dec(0);
}

/** One fill's fee, part by part (dollars). */
export interface KalshiFillCharge {
  tradeFee: Dec;
  roundingFee: Dec;
  rebate: Dec;
  /** What the fill costs in fees: trade fee + rounding fee − rebate. */
  fee: Dec;
  /** revenue − trade fee, floored to the balance precision: the fill's move of the balance before any rebate. */
  balanceChange: Dec;
}

/**
 * Kalshi's per-order fee accumulator: one per order, fed its fills in order (taker and maker fills
 * alike), returns what each fill is charged. Rounding fees accumulate; once they exceed $0.01 a
 * $0.01 rebate is paid and the accumulator drops by $0.01 (one cent per fill, as in the docs'
 * worked examples), so many small fills cost about what one equivalent fill would.
 */
export class KalshiOrderFeeAccumulator {
  private accumulated: Dec;

  /** `carried`: the balance an order's earlier fills left (an accumulator restored from storage). */
  constructor(
    private readonly balancePrecision: Dec = DIRECT_MEMBER_BALANCE_PRECISION,
    carried: Dec = new Dec(0),
  ) {
    if (!balancePrecision.gt(0)) throw new Error(`balance precision must be > 0, got ${balancePrecision.toString()}`);
    if (carried.isNegative()) throw new Error(`a carried rounding balance cannot be negative, got ${carried.toString()}`);
    this.accumulated = carried;
  }

  /** Rounding fees paid and not yet rebated. */
  get balance(): Dec {
    return this.accumulated;
  }

  /** One fill: a buy pays `contracts × price`, a sell receives it; `tradeFee` is `kalshiFee`'s figure. */
  charge(fill: { action: 'buy' | 'sell'; contracts: Dec; price: Dec; tradeFee: Dec }): KalshiFillCharge {
    const notional = fill.contracts.times(fill.price);
    const revenue = fill.action === 'buy' ? notional.neg() : notional;
    const tradeFee = ceilTo(fill.tradeFee, KALSHI_TRADE_FEE_PRECISION);
    const unrounded = revenue.minus(tradeFee);
    const balanceChange = floorTo(unrounded, this.balancePrecision);
    const roundingFee = unrounded.minus(balanceChange);
    this.accumulated = this.accumulated.plus(roundingFee);
    // A rebate never takes a fill's fee below zero (the docs: net fee always >= $0.00); it waits for a later fill.
    const gross = tradeFee.plus(roundingFee);
    const rebate = this.accumulated.gt(REBATE) && gross.gte(REBATE) ? REBATE : new Dec(0);
    this.accumulated = this.accumulated.minus(rebate);
    return { tradeFee, roundingFee, rebate, fee: gross.minus(rebate), balanceChange };
  }
}

/** A venue fill as the fee check reads it. */
export interface VenueFillFee {
  fillId: string;
  liquidity: 'maker' | 'taker';
  action: 'buy' | 'sell';
  contracts: Dec;
  /** The held outcome's price: what a buy paid or a sell received per contract. */
  price: Dec;
  fee: Dec;
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

/** Our fee terms for the check: the configured schedule, and the market's own terms when known. */
export type KalshiFeeTerms = Pick<FeeSchedule, 'takerRate' | 'makerRate' | 'seriesMultiplier' | 'balancePrecision'> & { market?: MarketFees };

/** Differences at or below this ($0.0001, the fee grid) are rounding, not a schedule we got wrong. */
const FEE_TOLERANCE = new Dec('0.0001');

/**
 * The venue's fees for one order's fills, in the order they happened, against our model (trade fee,
 * balance rounding and the order's accumulator); each fill off by more than $0.0001 is returned.
 */
export function kalshiOrderFeeDifferences(fills: readonly VenueFillFee[], terms: KalshiFeeTerms): FeeDifference[] {
  const accumulator = new KalshiOrderFeeAccumulator(terms.balancePrecision);
  const differences: FeeDifference[] = [];
  for (const fill of fills) {
    const tradeFee = kalshiFee({ contracts: fill.contracts, price: fill.price, rate: kalshiFeeRate(fill.liquidity, terms, terms.market) });
    const expected = accumulator.charge({ ...fill, tradeFee }).fee;
    if (fill.fee.minus(expected).abs().lte(FEE_TOLERANCE)) continue;
    differences.push({ fillId: fill.fillId, liquidity: fill.liquidity, contracts: fill.contracts.toString(), price: fill.price.toFixed(4), venueFee: fill.fee.toFixed(4), expectedFee: expected.toFixed(4) });
  }
  return differences;
}

/** The venue's fee for an order's only fill against our model (`kalshiOrderFeeDifferences` of one fill). */
export function kalshiFeeDifference(fill: VenueFillFee, terms: KalshiFeeTerms): FeeDifference | undefined {
  return kalshiOrderFeeDifferences([fill], terms)[0];
}

function ceilTo(x: Dec, step: Dec): Dec {
  return x.div(step).ceil().times(step);
}
function floorTo(x: Dec, step: Dec): Dec {
  return x.div(step).floor().times(step);
}

/**
 * Whether a market id is a Polymarket token (asset) id: a uint256 written in decimal. Kalshi tickers
 * always carry letters, so the two never collide.
 */
export function isPolymarketTokenId(market: string): boolean {
  return /^\d{1,78}$/.test(market);
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
