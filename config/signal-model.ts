import { CONFIDENCE_GRID, type SignalModelFitSettings } from '../domain/signals/model';
import { actionableRules } from '../domain/signals/settings';
import { takerFeeRate } from '../domain/trading/taker-fee';
import { configuredFees } from './fees';
import type { KestrelConfig } from './schema';

/** How signal models are fitted, from config: the retraining horizon, the shrinkage, the actionable rules and the configured taker fee. */
export function signalFitSettings(config: Pick<KestrelConfig, 'signals' | 'retraining' | 'fees' | 'paper'>): SignalModelFitSettings {
  const rules = actionableRules(config.signals);
  return {
    horizonMs: config.retraining.horizonMs,
    priorCount: config.signals.weightPriorCount,
    minCount: config.signals.weightMinCount,
    confidenceGrid: [...CONFIDENCE_GRID],
    takerFeeRate: takerFeeRate(configuredFees(config)).toString(),
    rules: { minConfidence: rules.minConfidence, priorities: [...rules.priorities], types: [...rules.types] },
  };
}
