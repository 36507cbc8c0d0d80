import type { KestrelConfig } from './schema';

/** Config keys → the risk manager's limits (decimals stay decimal strings until the schema parses them). */
export function riskLimitsFrom(config: KestrelConfig): Record<string, unknown> {
  const r = config.risk;
  return {
    capital: r.capital.toString(),
    maxPositionFraction: r.maxPositionFraction.toString(),
    maxTotalExposureFraction: r.maxTotalExposureFraction.toString(),
    maxConcurrentPositions: r.maxConcurrentPositions,
    maxMarketExposureFraction: r.maxMarketExposureFraction.toString(),
    maxEventExposureFraction: r.maxEventExposureFraction.toString(),
    noEntryBeforeCloseMs: r.noEntryBeforeCloseMs,
    dailyLossLimitFraction: r.dailyLossLimitFraction.toString(),
    maxConsecutiveLosses: r.maxConsecutiveLosses,
    maxVenueErrorRate: r.maxVenueErrorRate.toString(),
    minVenueRequestsForErrorRate: r.minVenueRequestsForErrorRate,
    staleDataMs: r.staleDataMs,
  };
}
