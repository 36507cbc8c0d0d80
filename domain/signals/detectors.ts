/**
 * Single-market signal detectors (pure; thresholds come from config per category). Inputs are
 * plain numbers from books and trades in integer units; outputs say what fired and how strongly.
 */

export interface VolumeSpikeConfig {
  /** Current-window volume over the mean of previous windows. */
  minRatio: number;
  minBaselineWindows: number;
}

/** Volume spike: the latest window's volume against the mean of the windows before it. */
export function volumeSpike(windowVolumes: readonly number[], config: VolumeSpikeConfig): { ratio: number } | undefined {
  if (windowVolumes.length < config.minBaselineWindows + 1) return undefined;
  const current = windowVolumes[windowVolumes.length - 1]!;
  const baseline = windowVolumes.slice(0, -1).slice(-config.minBaselineWindows);
  const mean = baseline.reduce((a, b) => a + b, 0) / baseline.length;
  if (mean <= 0) return current > 0 ? { ratio: Infinity } : undefined;
  const ratio = current / mean;
  return ratio >= config.minRatio ? { ratio } : undefined;
}

export interface BookSnapshotStats {
  /** Spread in price units (ask − bid). */
  spread: number;
  /** Traded volume in the window. */
  volume: number;
  /** Contracts resting at the best bid plus best ask. */
  topDepth: number;
}

export interface WithdrawalConfig {
  spreadWidenRatio: number;
  volumeDropRatio: number;
  depthDropRatio: number;
}

/**
 * Market-maker withdrawal: spread widening, volume dropping and top-of-book depth dropping versus a
 * baseline; confidence is the share of the three that agree (at least two must).
 */
export function marketMakerWithdrawal(baseline: BookSnapshotStats, now: BookSnapshotStats, config: WithdrawalConfig): { confidence: number; evidence: string[] } | undefined {
  const evidence: string[] = [];
  if (baseline.spread > 0 && now.spread / baseline.spread >= config.spreadWidenRatio) evidence.push(`spread ×${(now.spread / baseline.spread).toFixed(2)}`);
  if (baseline.volume > 0 && now.volume / baseline.volume <= config.volumeDropRatio) evidence.push(`volume ×${(now.volume / baseline.volume).toFixed(2)}`);
  if (baseline.topDepth > 0 && now.topDepth / baseline.topDepth <= config.depthDropRatio) evidence.push(`top depth ×${(now.topDepth / baseline.topDepth).toFixed(2)}`);
  return evidence.length >= 2 ? { confidence: evidence.length / 3, evidence } : undefined;
}

/** Order-book imbalance over the top `levels` of each side: (bid − ask) / (bid + ask), in [−1, 1]. */
export function bookImbalance(bidSizes: readonly number[], askSizes: readonly number[], levels: number): number | undefined {
  const bid = bidSizes.slice(0, levels).reduce((a, b) => a + b, 0);
  const ask = askSizes.slice(0, levels).reduce((a, b) => a + b, 0);
  return bid + ask > 0 ? (bid - ask) / (bid + ask) : undefined;
}

export interface LevelObservation {
  /** Size at the level after each change, in order. */
  sizes: readonly number[];
  /** Volume traded at the level over the same span. */
  traded: number;
}

/**
 * Iceberg: a level that keeps being refilled to about the same displayed size after trades eat it.
 * Probability grows with the number of refills and how much more traded than was ever displayed.
 */
export function icebergLikelihood(obs: LevelObservation, side: 'bid' | 'ask', minRefills = 3): { probability: number; side: 'bid' | 'ask'; refills: number } | undefined {
  let refills = 0;
  let peak = 0;
  for (let i = 1; i < obs.sizes.length; i++) {
    const prev = obs.sizes[i - 1]!;
    const cur = obs.sizes[i]!;
    peak = Math.max(peak, cur, prev);
    // A refill: the level had been depleted to under a third of its peak and came back to ≥ 80% of it.
    if (prev < peak / 3 && cur >= 0.8 * peak) refills++;
  }
  if (refills < minRefills || peak <= 0) return undefined;
  const hiddenRatio = obs.traded / peak;
  const probability = Math.min(0.99, 1 - Math.exp(-(refills / minRefills) * Math.max(1, hiddenRatio) * 0.5));
  return { probability, side, refills };
}

/**
 * Outcome accumulation: one outcome's buying flow surges while the other stays flat. Inputs are taker
 * volumes per window for YES and NO buyers.
 */
export function outcomeAccumulation(yesFlow: readonly number[], noFlow: readonly number[], surgeRatio: number, flatRatio: number): { outcome: 'yes' | 'no'; ratio: number } | undefined {
  const surge = (flow: readonly number[]) => {
    if (flow.length < 2) return 0;
    const base = flow.slice(0, -1).reduce((a, b) => a + b, 0) / (flow.length - 1);
    return base > 0 ? flow[flow.length - 1]! / base : flow[flow.length - 1]! > 0 ? Infinity : 0;
  };
  const y = surge(yesFlow);
  const n = surge(noFlow);
  if (y >= surgeRatio && n <= flatRatio) return { outcome: 'yes', ratio: y };
  if (n >= surgeRatio && y <= flatRatio) return { outcome: 'no', ratio: n };
  return undefined;
}
