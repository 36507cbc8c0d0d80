import { Dec } from '../decimal';
import type { FeeSchedule } from '../sim/matching';

/** Kalshi's fee structures (a series' `fee_type`, an event's `fee_type_override`). */
export const KALSHI_FEE_TYPES = ['quadratic', 'quadratic_with_maker_fees', 'flat'] as const;
export type KalshiFeeType = (typeof KALSHI_FEE_TYPES)[number];

/**
 * A market's own fee terms as the venue publishes them (Kalshi: its event's fee override, else its
 * series' `fee_type` and `fee_multiplier`). The rates themselves are Kalshi's fee tables, in config.
 */
export interface MarketFees {
  feeType: KalshiFeeType;
  multiplier: Dec;
}

/** Kalshi metadata → the market's fee terms; undefined when it carries none (or a fee type we do not know). */
export function kalshiMarketFees(series: { fee_type?: string | null; fee_multiplier?: number | null }, event: { fee_type_override?: string | null; fee_multiplier_override?: number | null } = {}): MarketFees | undefined {
  // An event's override replaces the series' terms only as a pair (Kalshi clears both together).
  const overridden = typeof event.fee_type_override === 'string' && typeof event.fee_multiplier_override === 'number';
  const feeType = overridden ? event.fee_type_override : series.fee_type;
  const multiplier = overridden ? event.fee_multiplier_override : series.fee_multiplier;
  if (!(KALSHI_FEE_TYPES as readonly unknown[]).includes(feeType) || typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier < 0) return undefined;
  // The multiplier is a JSON number: its shortest decimal form is what Kalshi wrote.
  return { feeType: feeType as KalshiFeeType, multiplier: new Dec(String(multiplier)) };
}

/**
 * The taker fee rate of one market, the one rule for it: the configured taker rate times the
 * market's own fee multiplier when the venue's metadata gives one, else the configured multiplier.
 */
export function takerFeeRate(configured: Pick<FeeSchedule, 'takerRate' | 'seriesMultiplier'>, market?: MarketFees): Dec {
  return configured.takerRate.times(market?.multiplier ?? configured.seriesMultiplier ?? 1);
}
