import { z } from 'zod';

export const SIGNAL_TYPES = ['correlation_spike', 'volume_spike', 'mm_withdrawal', 'book_imbalance', 'iceberg', 'outcome_accumulation'] as const;
export type SignalType = (typeof SIGNAL_TYPES)[number];
export type SignalPriority = 'HIGH' | 'MEDIUM' | 'LOW';

/** Thresholds of every detector; one set per category (defaults plus per-category overrides). */
export const signalThresholdsSchema = z.object({
  /** Length of one aggregation window (volume, flow, spread, depth) in exchange time. */
  windowMs: z.number().int().positive(),
  baselineWindows: z.number().int().min(1),
  volumeSpikeRatio: z.number().positive(),
  /** A volume spike needs at least this many contracts in its window (thin markets spike on one trade). */
  minSpikeVolume: z.number().nonnegative(),
  withdrawalSpreadRatio: z.number().positive(),
  withdrawalVolumeRatio: z.number().positive(),
  withdrawalDepthRatio: z.number().positive(),
  imbalanceLevels: z.number().int().min(1),
  imbalanceAbove: z.number().min(0).max(1),
  /** Imbalance only counts with at least this many contracts on the book's top levels. */
  imbalanceMinDepth: z.number().nonnegative(),
  icebergMinRefills: z.number().int().min(1),
  icebergMinProbability: z.number().min(0).max(1),
  accumulationSurgeRatio: z.number().positive(),
  accumulationFlatRatio: z.number().positive(),
  correlationSpikeAbove: z.number().min(-1).max(1),
  correlationBaselineBelow: z.number().min(-1).max(1),
  correlationMinVolumeRatio: z.number().nonnegative(),
  /** Samples in the short window where both markets moved: a few coincident jumps are not a correlation. */
  correlationMinCoMoves: z.number().int().min(2),
  /** The same signal type on the same market fires at most once per cooldown. */
  cooldownMs: z.number().int().nonnegative(),
});
export type SignalThresholds = z.infer<typeof signalThresholdsSchema>;

export const DEFAULT_THRESHOLDS: SignalThresholds = {
  windowMs: 60_000,
  baselineWindows: 5,
  volumeSpikeRatio: 3,
  minSpikeVolume: 50,
  withdrawalSpreadRatio: 2,
  withdrawalVolumeRatio: 0.5,
  withdrawalDepthRatio: 0.5,
  imbalanceLevels: 3,
  imbalanceAbove: 0.6,
  imbalanceMinDepth: 200,
  icebergMinRefills: 3,
  icebergMinProbability: 0.6,
  accumulationSurgeRatio: 3,
  accumulationFlatRatio: 1.2,
  correlationSpikeAbove: 0.7,
  correlationBaselineBelow: 0.3,
  correlationMinVolumeRatio: 1.5,
  correlationMinCoMoves: 4,
  cooldownMs: 300_000,
};

export interface CorrelationSettings {
  /** Sample step of the aligned correlation series. */
  sampleMs: number;
  /** Short windows checked for spikes (e.g. 1h and 4h) and the baseline window (e.g. 8h), in ms. */
  windowsMs: number[];
  /** Largest lead/lag searched when a spike is found, in samples. */
  maxLagSamples: number;
}

/** A detected signal, with the inputs it was computed from (persisted as they are). */
export interface DetectedSignal {
  /** Idempotency key: type, market and the exchange time it fired at. */
  key: string;
  type: SignalType;
  market: string;
  /** Every market involved (correlation spikes name the whole group). */
  markets: string[];
  category: string;
  /** Which outcome the signal favours, when it has a direction. */
  direction?: 'yes' | 'no';
  strength: number;
  confidence: number;
  priority: SignalPriority;
  firedAtMs: number;
  /** YES mid (price units) when it fired: outcomes are measured from here. */
  midAtFire?: number;
  /** YES spread (ask − bid, price units) when it fired, where the detector knows the book: the cost of acting on it. */
  spreadAtFire?: number;
  inputs: Record<string, unknown>;
}

/** What a signal detector sees of one market after a batch: the book's top levels and the trades. */
export interface MarketTick {
  market: string;
  ts: number;
  /** Best levels, best first, in price/size units: YES bids and NO bids (a NO bid at p is a YES ask at 1 − p). */
  yesBids: { price: number; size: number }[];
  noBids: { price: number; size: number }[];
  trades: { ts: number; price: number; count: number; takerSide: 'yes' | 'no' }[];
}
