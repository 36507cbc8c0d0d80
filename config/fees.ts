import { Dec } from '../domain/decimal';
import { kalshiBalancePrecision } from '../domain/fees';
import type { FeeSchedule } from '../domain/sim/matching';
import type { StrategyRules } from '../domain/trading/strategy-rules';
import { takerFeeRate } from '../domain/trading/taker-fee';
import type { KestrelConfig } from './schema';

/** The configured fees: Kalshi's rates (`fees.*`), the account's balance precision, and the series multiplier assumed where a market's own is unknown. */
export function configuredFees(config: Pick<KestrelConfig, 'fees' | 'paper'>): Required<FeeSchedule> {
  return {
    takerRate: config.fees.kalshiTakerRate,
    makerRate: config.fees.kalshiMakerRate,
    seriesMultiplier: config.paper.seriesFeeMultiplier,
    balancePrecision: kalshiBalancePrecision(config.fees.kalshiDirectMember),
    polymarketTakerRate: new Dec(config.fees.polymarketTakerRateBps).div(10_000),
  };
}

/** A strategy's rules as a run trades them: with the configured taker rate, for signals whose market's own fee terms are unknown. */
export function withConfiguredTakerFee<R extends StrategyRules>(rules: R, config: Pick<KestrelConfig, 'fees' | 'paper'>): R & { takerFeeRate: string } {
  return { ...rules, takerFeeRate: takerFeeRate(configuredFees(config)).toString() };
}
