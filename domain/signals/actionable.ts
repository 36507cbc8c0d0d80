import { ONE_DOLLAR } from '../fixed-point';
import { midOf } from './market-tracker';
import { modelRejection, weightFor } from './model';
import type { SignalWeight } from './performance';
import type { DetectedSignal, MarketTick, SignalPriority, SignalType } from './types';

export interface ActionableRules {
  minConfidence: number;
  priorities: readonly SignalPriority[];
  types: readonly SignalType[];
}

export interface EntryCandidate {
  outcome: 'yes' | 'no';
  /** Best ask of `outcome` now, in price units. */
  ask: number;
  /** The model's probability that `outcome` wins, in price units (1e-4). */
  modelProbability: number;
  weight: SignalWeight;
}

/**
 * Whether a signal should reach strategies, and with what probability: the outcome's mid plus the
 * move this signal type has historically been followed by (the model version's shrunk expectation).
 * A signal whose type has no positive expected move in the model, or whose confidence is below the
 * model's threshold for its type and category, is not actionable.
 */
export function actionableEntry(signal: DetectedSignal, book: Pick<MarketTick, 'yesBids' | 'noBids'> | undefined, weights: readonly SignalWeight[], rules: ActionableRules): EntryCandidate | { rejected: string } {
  if (!rules.types.includes(signal.type)) return { rejected: `type ${signal.type} is not actionable` };
  if (!rules.priorities.includes(signal.priority)) return { rejected: `priority ${signal.priority}` };
  if (signal.confidence < rules.minConfidence) return { rejected: `confidence ${signal.confidence.toFixed(2)} < ${rules.minConfidence}` };
  if (!signal.direction) return { rejected: 'no direction' };
  const weight = weightFor(weights, signal.type, signal.category);
  const rejection = modelRejection(weight, signal.type, signal.category, signal.confidence);
  if (rejection !== undefined || !weight) return { rejected: rejection ?? `model has no positive edge for ${signal.type}/${signal.category}` };
  const mid = book ? midOf(book) : undefined;
  const bestYesBid = book?.yesBids[0];
  const bestNoBid = book?.noBids[0];
  if (mid === undefined || !bestYesBid || !bestNoBid) return { rejected: 'no two-sided book' };
  const outcome = signal.direction;
  const ask = outcome === 'yes' ? ONE_DOLLAR - bestNoBid.price : ONE_DOLLAR - bestYesBid.price;
  const outcomeMid = outcome === 'yes' ? mid : ONE_DOLLAR - mid;
  const modelProbability = Math.round(Math.min(ONE_DOLLAR * 0.99, Math.max(ONE_DOLLAR * 0.01, outcomeMid + weight.expectedMove)));
  return { outcome, ask, modelProbability, weight };
}
