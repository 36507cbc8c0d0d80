import { ONE_DOLLAR } from '../fixed-point';
import { bookImbalance, icebergLikelihood, marketMakerWithdrawal, outcomeAccumulation, volumeSpike } from './detectors';
import type { TrackerState } from './engine-state';
import type { DetectedSignal, MarketTick, SignalThresholds } from './types';

interface WindowStats {
  index: number;
  volume: number;
  yesFlow: number;
  noFlow: number;
  spreadSum: number;
  depthSum: number;
  samples: number;
}

interface LevelTrack {
  sizes: number[];
  traded: number;
  lastWindow: number;
}

const MAX_LEVEL_SIZES = 64;

/** YES mid in price units, when both sides have a best level. */
export function midOf(tick: Pick<MarketTick, 'yesBids' | 'noBids'>): number | undefined {
  const bid = tick.yesBids[0];
  const noBid = tick.noBids[0];
  return bid && noBid ? (bid.price + ONE_DOLLAR - noBid.price) / 2 : undefined;
}

/**
 * Single-market signals over fixed exchange-time windows: each tick updates the open window; when
 * a tick falls in a later window the closed window is evaluated by the pure detectors. Only data
 * timestamped inside closed windows is used, so a decision never sees the future.
 */
export class MarketSignalTracker {
  private readonly closed: WindowStats[] = [];
  private current: WindowStats | undefined;
  private last: MarketTick | undefined;
  private readonly levels = new Map<string, LevelTrack>();

  constructor(
    readonly market: string,
    readonly category: string,
    private readonly thresholds: SignalThresholds,
  ) {}

  /** Exchange time of the newest tick applied. */
  get lastTickTs(): number | undefined {
    return this.last?.ts;
  }

  toState(): TrackerState {
    return { market: this.market, category: this.category, closed: this.closed.map((w) => ({ ...w })), current: this.current && { ...this.current }, last: this.last, levels: [...this.levels].map(([k, v]) => [k, { ...v, sizes: [...v.sizes] }]) };
  }

  static fromState(state: TrackerState, thresholds: SignalThresholds): MarketSignalTracker {
    const tracker = new MarketSignalTracker(state.market, state.category, thresholds);
    tracker.closed.push(...state.closed.map((w) => ({ ...w })));
    tracker.current = state.current && { ...state.current };
    tracker.last = state.last;
    for (const [k, v] of state.levels) tracker.levels.set(k, { ...v, sizes: [...v.sizes] });
    return tracker;
  }

  /** Applies one tick and returns what fired on the windows it closed. */
  onTick(tick: MarketTick): DetectedSignal[] {
    const t = this.thresholds;
    const fired: DetectedSignal[] = [];
    const index = Math.floor(tick.ts / t.windowMs);
    if (this.current && index > this.current.index) {
      fired.push(...this.closeWindow());
      // Quiet windows count as windows with no volume (at most a baseline's worth).
      for (let i = Math.max(this.current.index + 1, index - t.baselineWindows - 1); i < index; i++) this.pushClosed(this.emptyWindow(i));
      this.current = undefined;
    }
    this.current ??= this.emptyWindow(index);
    const w = this.current;
    for (const trade of tick.trades) {
      w.volume += trade.count;
      if (trade.takerSide === 'yes') w.yesFlow += trade.count;
      else w.noFlow += trade.count;
      // A YES taker lifts NO bids at 1 − p; a NO taker hits YES bids at p.
      const key = trade.takerSide === 'yes' ? `no:${ONE_DOLLAR - trade.price}` : `yes:${trade.price}`;
      const level = this.levels.get(key);
      if (level) level.traded += trade.count;
    }
    const bid = tick.yesBids[0];
    const noBid = tick.noBids[0];
    if (bid && noBid) {
      w.spreadSum += ONE_DOLLAR - noBid.price - bid.price;
      w.depthSum += bid.size + noBid.size;
      w.samples++;
    }
    for (const [side, best] of [['yes', bid], ['no', noBid]] as const) {
      if (!best) continue;
      const key = `${side}:${best.price}`;
      const track = this.levels.get(key) ?? { sizes: [], traded: 0, lastWindow: index };
      track.sizes.push(best.size);
      if (track.sizes.length > MAX_LEVEL_SIZES) track.sizes.shift();
      track.lastWindow = index;
      this.levels.set(key, track);
    }
    this.last = tick;
    return fired;
  }

  private emptyWindow(index: number): WindowStats {
    return { index, volume: 0, yesFlow: 0, noFlow: 0, spreadSum: 0, depthSum: 0, samples: 0 };
  }

  private pushClosed(w: WindowStats): void {
    this.closed.push(w);
    if (this.closed.length > this.thresholds.baselineWindows + 1) this.closed.shift();
  }

  private closeWindow(): DetectedSignal[] {
    const t = this.thresholds;
    const w = this.current!;
    this.pushClosed(w);
    const firedAtMs = (w.index + 1) * t.windowMs;
    const mid = this.last ? midOf(this.last) : undefined;
    const spread = this.last?.yesBids[0] && this.last.noBids[0] ? ONE_DOLLAR - this.last.noBids[0].price - this.last.yesBids[0].price : undefined;
    const out: DetectedSignal[] = [];
    const emit = (s: Omit<DetectedSignal, 'key' | 'market' | 'markets' | 'category' | 'firedAtMs' | 'midAtFire' | 'spreadAtFire'>) =>
      out.push({ key: `${s.type}:${this.market}:${firedAtMs}`, market: this.market, markets: [this.market], category: this.category, firedAtMs, midAtFire: mid, ...(spread === undefined ? {} : { spreadAtFire: spread }), ...s });

    const windows = this.closed;
    const hasBaseline = windows.length > t.baselineWindows;
    if (hasBaseline && w.volume >= t.minSpikeVolume) {
      const spike = volumeSpike(
        windows.map((x) => x.volume),
        { minRatio: t.volumeSpikeRatio, minBaselineWindows: t.baselineWindows },
      );
      if (spike) {
        const direction = w.yesFlow === w.noFlow ? undefined : w.yesFlow > w.noFlow ? 'yes' : 'no';
        const ratio = Number.isFinite(spike.ratio) ? spike.ratio : t.volumeSpikeRatio * 10;
        emit({ type: 'volume_spike', direction, strength: ratio, confidence: Math.min(1, ratio / (2 * t.volumeSpikeRatio)), priority: ratio >= 2 * t.volumeSpikeRatio ? 'HIGH' : 'MEDIUM', inputs: { volume: w.volume, baselineVolumes: windows.slice(0, -1).map((x) => x.volume), yesFlow: w.yesFlow, noFlow: w.noFlow } });
      }
      const acc = outcomeAccumulation(
        windows.map((x) => x.yesFlow),
        windows.map((x) => x.noFlow),
        t.accumulationSurgeRatio,
        t.accumulationFlatRatio,
      );
      if (acc) {
        const ratio = Number.isFinite(acc.ratio) ? acc.ratio : t.accumulationSurgeRatio * 10;
        emit({ type: 'outcome_accumulation', direction: acc.outcome, strength: ratio, confidence: Math.min(1, ratio / (2 * t.accumulationSurgeRatio)), priority: 'MEDIUM', inputs: { yesFlows: windows.map((x) => x.yesFlow), noFlows: windows.map((x) => x.noFlow) } });
      }
    }
    if (hasBaseline && w.samples > 0) {
      const base = windows.slice(0, -1).filter((x) => x.samples > 0);
      if (base.length > 0) {
        const avg = (f: (x: WindowStats) => number) => base.reduce((a, x) => a + f(x), 0) / base.length;
        const baseline = { spread: avg((x) => x.spreadSum / x.samples), volume: avg((x) => x.volume), topDepth: avg((x) => x.depthSum / x.samples) };
        const now = { spread: w.spreadSum / w.samples, volume: w.volume, topDepth: w.depthSum / w.samples };
        const withdrawal = marketMakerWithdrawal(baseline, now, { spreadWidenRatio: t.withdrawalSpreadRatio, volumeDropRatio: t.withdrawalVolumeRatio, depthDropRatio: t.withdrawalDepthRatio });
        if (withdrawal) emit({ type: 'mm_withdrawal', strength: withdrawal.evidence.length, confidence: withdrawal.confidence, priority: withdrawal.confidence === 1 ? 'HIGH' : 'MEDIUM', inputs: { baseline, now, evidence: withdrawal.evidence } });
      }
    }
    if (this.last) {
      const bids = this.last.yesBids.map((l) => l.size);
      const asks = this.last.noBids.map((l) => l.size);
      const depth = [...bids.slice(0, t.imbalanceLevels), ...asks.slice(0, t.imbalanceLevels)].reduce((a, b) => a + b, 0);
      const imbalance = bookImbalance(bids, asks, t.imbalanceLevels);
      if (imbalance !== undefined && depth >= t.imbalanceMinDepth && Math.abs(imbalance) >= t.imbalanceAbove) {
        emit({ type: 'book_imbalance', direction: imbalance > 0 ? 'yes' : 'no', strength: imbalance, confidence: Math.abs(imbalance), priority: Math.abs(imbalance) >= 0.85 ? 'HIGH' : 'LOW', inputs: { bidSizes: bids.slice(0, t.imbalanceLevels), askSizes: asks.slice(0, t.imbalanceLevels), depth } });
      }
    }
    let bestIceberg: { key: string; probability: number; refills: number; traded: number; peak: number } | undefined;
    for (const [key, track] of this.levels) {
      if (track.lastWindow < w.index - 1) {
        this.levels.delete(key);
        continue;
      }
      const side = key.startsWith('yes:') ? 'bid' : 'ask';
      const found = icebergLikelihood({ sizes: track.sizes, traded: track.traded }, side, t.icebergMinRefills);
      if (found && found.probability >= t.icebergMinProbability && (!bestIceberg || found.probability > bestIceberg.probability)) bestIceberg = { key, probability: found.probability, refills: found.refills, traded: track.traded, peak: Math.max(...track.sizes) };
    }
    if (bestIceberg) {
      const [side, price] = bestIceberg.key.split(':') as ['yes' | 'no', string];
      // A hidden buyer of YES (refilling YES bids) favours YES, and likewise for NO.
      emit({ type: 'iceberg', direction: side, strength: bestIceberg.refills, confidence: bestIceberg.probability, priority: bestIceberg.probability >= 0.9 ? 'HIGH' : 'MEDIUM', inputs: { side, price: Number(price), refills: bestIceberg.refills, traded: bestIceberg.traded, displayedPeak: bestIceberg.peak } });
      this.levels.delete(bestIceberg.key);
    }
    return out;
  }
}
