import type { Database } from '../db/client';
import { recordEntrySignal, registerSignalConfig } from '../db/signals-repo';
import { ensureVersion } from '../db/versions-repo';
import type { BacktestConfig, SignalRule } from '../domain/backtest/backtester';
import { kalshiCategory } from '../domain/market-data/kalshi-tickers';
import { DEFAULT_MOMENTUM, MOMENTUM_MODEL, MOMENTUM_SIGNAL_TYPE, momentumModelParameters, momentumRule, momentumSignalRow, type MomentumDetection, type MomentumParams } from '../domain/strategies/momentum';
import type { EntrySignal } from '../domain/trading/strategy-rules';

/** The immutable strategy version the momentum demo's paper sessions record. */
export const MOMENTUM_STRATEGY = 'momentum-gold';

export interface MomentumProvenance {
  strategyVersionId: number;
  strategyVersion: string;
  /** The `momentum-rule` model version: the rule and its parameters (see `momentumModelParameters`). */
  modelVersionId: number;
  /** Stores a detection as a `signals` row and returns the id positions refer to it by (`signal:<id>`). */
  recordSignal(detection: MomentumDetection): Promise<string>;
}

/**
 * The versions a momentum session trades under (found by content, created on first use) and the
 * recorder of its signals. Momentum signals get no pending outcomes: outcomes of every type feed the
 * signal-weights model's training and promotion gate, and momentum is not one of its detectors.
 */
export async function momentumProvenance(db: Database, strategy: Pick<BacktestConfig, 'rules' | 'position'>, opts: { source: string; params?: MomentumParams }): Promise<MomentumProvenance> {
  const params = opts.params ?? DEFAULT_MOMENTUM;
  // The fee is the run's (config's), not a strategy setting: it is not part of the version.
  const { takerFeeRate: _runFee, ...rules } = strategy.rules;
  const strategyVersion = await ensureVersion(db, 'strategy', MOMENTUM_STRATEGY, { rules, position: strategy.position, signalTypes: [MOMENTUM_SIGNAL_TYPE], categories: [] });
  const model = await ensureVersion(db, 'model', MOMENTUM_MODEL, momentumModelParameters(params));
  const configHash = await registerSignalConfig(db, { rule: MOMENTUM_SIGNAL_TYPE, params });
  return {
    strategyVersionId: strategyVersion.id,
    strategyVersion: strategyVersion.version,
    modelVersionId: model.id,
    recordSignal: async (detection) => `signal:${await recordEntrySignal(db, momentumSignalRow(detection, kalshiCategory(detection.signal.market), params), { configHash, source: opts.source, horizonsMs: [] })}`,
  };
}

/** The momentum rule for a lockstep run, with the recorder of the entries it proposes. */
export function recordedMomentumRule(provenance: MomentumProvenance, params: MomentumParams = DEFAULT_MOMENTUM): { rule: SignalRule; recordSignal(signal: EntrySignal): Promise<string> } {
  const detections = new Map<string, MomentumDetection>();
  return {
    rule: momentumRule(params, (d) => detections.set(d.signal.signalId, d)),
    recordSignal: async (signal) => {
      const detection = detections.get(signal.signalId);
      if (!detection) throw new Error(`no momentum detection behind proposed signal ${signal.signalId}`);
      detections.delete(signal.signalId);
      return provenance.recordSignal(detection);
    },
  };
}
