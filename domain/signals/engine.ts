import { bestLag, CorrelationMatrix } from './correlation-matrix';
import { SIGNAL_ENGINE_STATE_VERSION, signalEngineStateSchema, type SignalEngineState } from './engine-state';
import { correlationSpikeConfig, detectCorrelationSpikes, type PairReading } from './correlation-spike';
import { MarketSignalTracker, midOf } from './market-tracker';
import { pearsonTwoPass } from './rolling-correlation';
import type { CorrelationSettings, DetectedSignal, MarketTick, SignalThresholds } from './types';
import { describeIssues } from '../validation';

export interface SignalEngineOptions {
  thresholdsFor(category: string): SignalThresholds;
  correlation: CorrelationSettings;
  /** Category of a market (thresholds and the performance matrix are per category). */
  categoryOf(market: string): string;
  /** Markets with the same group key are related (correlated with each other). */
  groupOf(market: string): string;
}


interface Group {
  markets: string[];
  matrix?: CorrelationMatrix;
  lastMid: Map<string, number>;
  sampledMid: Map<string, number>;
  volumeSinceSample: Map<string, number>;
  /** Per market, the volume of each sample step (newest last; at most the longest window). */
  volumes: Map<string, number[]>;
  nextSampleTs?: number;
  /** Pair → sample time the short-window correlation first went above the spike level (this episode). */
  onsets: Map<string, number>;
}

function replaceAll<K, V>(map: Map<K, V>, entries: Iterable<readonly [K, V]>): void {
  map.clear();
  for (const [k, v] of entries) map.set(k, v);
}

/**
 * All signal detection of one process: per-market trackers plus cross-market correlation per group
 * of related markets. Pure and clocked only by the ticks' exchange timestamps.
 */
export class SignalEngine {
  private readonly trackers = new Map<string, MarketSignalTracker>();
  private readonly groups = new Map<string, Group>();
  private readonly lastFired = new Map<string, number>();
  private readonly windowSamples: number[];

  constructor(private readonly opts: SignalEngineOptions) {
    const c = opts.correlation;
    this.windowSamples = c.windowsMs.map((ms) => Math.max(2, Math.round(ms / c.sampleMs)));
    if (this.windowSamples.length < 2) throw new Error('correlation needs at least one short window and a baseline window');
  }

  /** The whole state, as plain data (see engine-state.ts); restore() carries on from it exactly. */
  snapshot(): SignalEngineState {
    return {
      version: SIGNAL_ENGINE_STATE_VERSION,
      windowSamples: [...this.windowSamples],
      trackers: [...this.trackers.values()].map((t) => t.toState()),
      groups: [...this.groups].map(([key, g]) => ({
        key,
        markets: [...g.markets],
        matrix: g.matrix?.toState(),
        lastMid: [...g.lastMid],
        sampledMid: [...g.sampledMid],
        volumeSinceSample: [...g.volumeSinceSample],
        volumes: [...g.volumes].map(([m, v]) => [m, [...v]]),
        nextSampleTs: g.nextSampleTs,
        onsets: [...g.onsets],
      })),
      lastFired: [...this.lastFired],
    };
  }

  /**
   * Replaces this engine's state with a snapshot's (validated: it may come from outside the process).
   * Refuses a snapshot taken with other correlation windows; thresholds are this engine's own.
   */
  restore(input: unknown): void {
    const parsed = signalEngineStateSchema.safeParse(input);
    if (!parsed.success) throw new Error(`invalid signal engine state: ${describeIssues(parsed.error.issues, 5)}`);
    const state = parsed.data;
    if (state.windowSamples.join(',') !== this.windowSamples.join(',')) throw new Error(`signal engine state has correlation windows of ${state.windowSamples.join(',')} samples; this engine uses ${this.windowSamples.join(',')}`);
    // Everything is rebuilt before anything is replaced: a bad snapshot leaves the engine as it was.
    const trackers = state.trackers.map((t) => [t.market, MarketSignalTracker.fromState(t, this.opts.thresholdsFor(t.category))] as const);
    const groups = state.groups.map((g) => {
      const matrix = g.matrix && CorrelationMatrix.fromState(g.matrix);
      if (matrix && matrix.markets.join(',') !== g.markets.join(',')) throw new Error(`signal engine state: group ${g.key} lists markets ${g.markets.join(',')} but its correlation matrix has ${matrix.markets.join(',')}`);
      const group: Group = { markets: [...g.markets], matrix, lastMid: new Map(g.lastMid), sampledMid: new Map(g.sampledMid), volumeSinceSample: new Map(g.volumeSinceSample), volumes: new Map(g.volumes.map(([m, v]) => [m, [...v]])), nextSampleTs: g.nextSampleTs, onsets: new Map(g.onsets) };
      return [g.key, group] as const;
    });
    replaceAll(this.trackers, trackers);
    replaceAll(this.groups, groups);
    replaceAll(this.lastFired, state.lastFired);
  }

  onTicks(ticks: readonly MarketTick[]): DetectedSignal[] {
    const fired: DetectedSignal[] = [];
    for (const tick of ticks) {
      const category = this.opts.categoryOf(tick.market);
      let tracker = this.trackers.get(tick.market);
      // Exchange time going back by more than a window means a new stream (a recording replayed again,
      // a venue reset): the market starts over, as its book does from a snapshot.
      if (tracker && tick.ts < (tracker.lastTickTs ?? -Infinity) - this.opts.thresholdsFor(category).windowMs) {
        this.trackers.delete(tick.market);
        for (const key of this.lastFired.keys()) if (key.endsWith(`:${tick.market}`) && !key.startsWith('correlation_spike:')) this.lastFired.delete(key);
        tracker = undefined;
      }
      if (!tracker) this.trackers.set(tick.market, (tracker = new MarketSignalTracker(tick.market, category, this.opts.thresholdsFor(category))));
      fired.push(...tracker.onTick(tick));
      fired.push(...this.correlate(tick, category));
    }
    return fired.filter((s) => this.passCooldown(s));
  }

  private passCooldown(s: DetectedSignal): boolean {
    const key = `${s.type}:${s.market}`;
    const last = this.lastFired.get(key);
    if (last !== undefined && s.firedAtMs - last < this.opts.thresholdsFor(s.category).cooldownMs) return false;
    this.lastFired.set(key, s.firedAtMs);
    return true;
  }

  private correlate(tick: MarketTick, category: string): DetectedSignal[] {
    const c = this.opts.correlation;
    const groupKey = this.opts.groupOf(tick.market);
    let g = this.groups.get(groupKey);
    // Likewise a tick from before the last sample step but one: the group's series start over.
    if (g?.nextSampleTs !== undefined && tick.ts < g.nextSampleTs - 2 * c.sampleMs) {
      for (const m of g.markets) this.lastFired.delete(`correlation_spike:${m}`);
      this.groups.delete(groupKey);
      g = undefined;
    }
    if (!g) this.groups.set(groupKey, (g = { markets: [], lastMid: new Map(), sampledMid: new Map(), volumeSinceSample: new Map(), volumes: new Map(), onsets: new Map() }));
    if (!g.markets.includes(tick.market)) this.join(g, tick.market);
    const out: DetectedSignal[] = [];
    // Sample steps due before this tick use only what was known before it.
    g.nextSampleTs ??= (Math.floor(tick.ts / c.sampleMs) + 1) * c.sampleMs;
    let steps = 0;
    while (tick.ts >= g.nextSampleTs) {
      // After a long gap, only the last window's worth of steps matter.
      if (steps++ < this.windowSamples[this.windowSamples.length - 1]!) out.push(...this.sample(g, g.nextSampleTs, category));
      g.nextSampleTs += c.sampleMs;
    }
    const mid = midOf(tick);
    if (mid !== undefined) g.lastMid.set(tick.market, mid);
    const volume = tick.trades.reduce((a, t) => a + t.count, 0);
    g.volumeSinceSample.set(tick.market, (g.volumeSinceSample.get(tick.market) ?? 0) + volume);
    return out;
  }

  private join(g: Group, market: string): void {
    const old = g.matrix;
    g.markets.push(market);
    g.volumes.set(market, []);
    if (g.markets.length < 2) return;
    const matrix = new CorrelationMatrix(g.markets, this.windowSamples);
    if (old) {
      // Carry the history over (the newcomer's past moves are zero), then recompute exactly.
      const history = old.markets.map((m) => old.recent(m, old.samples));
      const length = history[0]!.length;
      for (let s = 0; s < length; s++) matrix.push(g.markets.map((_, i) => (i < history.length ? history[i]![s]! : 0)));
      for (const v of g.volumes.values()) while (v.length < length) v.unshift(0);
    }
    g.matrix = matrix;
  }

  private sample(g: Group, sampleTs: number, category: string): DetectedSignal[] {
    const maxWindow = this.windowSamples[this.windowSamples.length - 1]!;
    for (const m of g.markets) {
      const v = g.volumes.get(m)!;
      v.push(g.volumeSinceSample.get(m) ?? 0);
      if (v.length > maxWindow) v.shift();
      g.volumeSinceSample.set(m, 0);
    }
    const matrix = g.matrix;
    if (!matrix) return [];
    const moves = g.markets.map((m) => {
      const now = g.lastMid.get(m);
      const before = g.sampledMid.get(m);
      if (now !== undefined) g.sampledMid.set(m, now);
      return now !== undefined && before !== undefined ? now - before : 0;
    });
    matrix.push(moves);

    const t = this.opts.thresholdsFor(category);
    const baseW = this.windowSamples.length - 1;
    const readings: (PairReading & { window: number })[] = [];
    // Each market's volume ratio per short window, once per sample step (pairs share them).
    const ratios = new Map(g.markets.map((m) => [m, Array.from({ length: baseW }, (_, w) => this.volumeRatio(g, m, w))]));
    for (const [a, b] of matrix.pairs()) {
      const baselineR = matrix.correlation(a, b, baseW);
      for (let w = 0; w < baseW; w++) {
        const shortR = matrix.coMoves(a, b, w) >= t.correlationMinCoMoves ? matrix.correlation(a, b, w) : undefined;
        const volumeRatio = (ratios.get(a)![w]! + ratios.get(b)![w]!) / 2;
        readings.push({ a, b, shortR, baselineR, volumeRatio, window: w });
      }
      const pairKey = `${a}|${b}`;
      const shortR0 = matrix.correlation(a, b, 0);
      if (shortR0 !== undefined && shortR0 > t.correlationSpikeAbove) {
        if (!g.onsets.has(pairKey)) g.onsets.set(pairKey, sampleTs);
      } else g.onsets.delete(pairKey);
    }
    const out: DetectedSignal[] = [];
    const spikes = detectCorrelationSpikes(readings, correlationSpikeConfig(t));
    const seen = new Set<string>();
    for (const spike of spikes) {
      const groupId = spike.markets.join(',');
      if (seen.has(groupId)) continue;
      seen.add(groupId);
      const shortest = Math.min(...spike.pairs.map((p) => (p as (typeof readings)[number]).window));
      const length = this.windowSamples[shortest]!;
      const leads = spike.pairs.map((p) => ({ a: p.a, b: p.b, ...(bestLag(matrix.recent(p.a, length), matrix.recent(p.b, length), this.opts.correlation.maxLagSamples, pearsonTwoPass) ?? { lag: 0, r: p.shortR ?? 0 }) }));
      // The leader is the market that most often moves first in the spiking pairs.
      const score = new Map<string, number>();
      for (const l of leads) {
        if (l.lag > 0) score.set(l.a, (score.get(l.a) ?? 0) + 1);
        if (l.lag < 0) score.set(l.b, (score.get(l.b) ?? 0) + 1);
      }
      const leader = [...score.entries()].sort((x, y) => y[1] - x[1])[0]?.[0];
      const leaderMove = leader ? matrix.recent(leader, 3).reduce((a, b) => a + b, 0) : 0;
      const onset = Math.min(...spike.pairs.map((p) => g.onsets.get(`${p.a}|${p.b}`) ?? sampleTs));
      const maxLag = Math.max(0, ...leads.map((l) => Math.abs(l.lag)));
      for (const market of spike.markets) {
        if (market === leader) continue;
        const ownMove = matrix.recent(market, 3).reduce((a, b) => a + b, 0);
        const move = leader ? leaderMove : ownMove;
        const meanR = spike.pairs.reduce((a, p) => a + (p.shortR ?? 0), 0) / spike.pairs.length;
        out.push({
          key: `correlation_spike:${market}:${sampleTs}`,
          type: 'correlation_spike',
          market,
          markets: spike.markets,
          category,
          direction: move > 0 ? 'yes' : move < 0 ? 'no' : undefined,
          strength: meanR,
          confidence: Math.min(1, (meanR - t.correlationSpikeAbove) / (1 - t.correlationSpikeAbove) / 2 + 0.5),
          priority: spike.priority,
          firedAtMs: sampleTs,
          midAtFire: g.lastMid.get(market),
          inputs: {
            pairs: spike.pairs.map((p) => ({ a: p.a, b: p.b, shortR: p.shortR, baselineR: p.baselineR, volumeRatio: p.volumeRatio, windowMs: this.opts.correlation.windowsMs[(p as (typeof readings)[number]).window] })),
            leader: leader ?? null,
            leadTimeMs: maxLag * this.opts.correlation.sampleMs,
            onsetMs: onset,
            lags: leads,
          },
        });
      }
    }
    return out;
  }

  /** Volume in the short window over the rate of the baseline window (both per sample step). */
  private volumeRatio(g: Group, market: string, w: number): number {
    const v = g.volumes.get(market)!;
    const short = this.windowSamples[w]!;
    const recent = v.slice(-short);
    const shortRate = recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
    const baseRate = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    return baseRate > 0 ? shortRate / baseRate : shortRate > 0 ? Infinity : 0;
  }
}
