import { DEFAULT_THRESHOLDS, type SignalThresholds } from './types';

/**
 * Cross-market leak: a pair's short-window correlation jumps above `spikeAbove` while its baseline
 * (longer window) was below `baselineBelow`, confirmed by volume. Several markets spiking together
 * make a stronger signal: HIGH for 3+, MEDIUM for 2.
 */
export interface CorrelationSpikeConfig {
  spikeAbove: number;
  baselineBelow: number;
  /** Volume in the short window over its baseline must reach this ratio. */
  minVolumeRatio: number;
}

/** The spike rule of a set of detector thresholds (the signal engine's, per category). */
export function correlationSpikeConfig(thresholds: Pick<SignalThresholds, 'correlationSpikeAbove' | 'correlationBaselineBelow' | 'correlationMinVolumeRatio'>): CorrelationSpikeConfig {
  return { spikeAbove: thresholds.correlationSpikeAbove, baselineBelow: thresholds.correlationBaselineBelow, minVolumeRatio: thresholds.correlationMinVolumeRatio };
}

export const DEFAULT_SPIKE: CorrelationSpikeConfig = correlationSpikeConfig(DEFAULT_THRESHOLDS);

export interface PairReading {
  a: string;
  b: string;
  shortR: number | undefined;
  baselineR: number | undefined;
  volumeRatio: number;
}

export interface CorrelationSpike {
  markets: string[];
  pairs: PairReading[];
  priority: 'HIGH' | 'MEDIUM';
}

export function detectCorrelationSpikes(readings: readonly PairReading[], config: CorrelationSpikeConfig = DEFAULT_SPIKE): CorrelationSpike[] {
  const spiking = readings.filter((r) => r.shortR !== undefined && r.baselineR !== undefined && r.shortR > config.spikeAbove && r.baselineR < config.baselineBelow && r.volumeRatio >= config.minVolumeRatio);
  // Group spiking pairs into connected sets of markets.
  const parent = new Map<string, string>();
  const find = (m: string): string => {
    const p = parent.get(m) ?? m;
    if (p === m) return m;
    const root = find(p);
    parent.set(m, root);
    return root;
  };
  for (const r of spiking) parent.set(find(r.a), find(r.b));
  const groups = new Map<string, { markets: Set<string>; pairs: PairReading[] }>();
  for (const r of spiking) {
    const root = find(r.a);
    const g = groups.get(root) ?? { markets: new Set<string>(), pairs: [] };
    g.markets.add(r.a).add(r.b);
    g.pairs.push(r);
    groups.set(root, g);
  }
  return [...groups.values()].map((g) => ({ markets: [...g.markets].sort(), pairs: g.pairs, priority: g.markets.size >= 3 ? 'HIGH' : 'MEDIUM' }));
}
