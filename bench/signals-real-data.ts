import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ONE_DOLLAR } from '../domain/fixed-point';
import { seededRandom, shuffled } from '../domain/random';
import { SignalEngine } from '../domain/signals/engine';
import { kalshiEvent } from '../domain/market-data/kalshi-tickers';
import { pearsonTwoPass } from '../domain/signals/rolling-correlation';
import { DEFAULT_THRESHOLDS, type MarketTick } from '../domain/signals/types';

const CENT = ONE_DOLLAR / 100;
const historyPoint = z.object({ _ts: z.number().int(), _yes_bid: z.number().int(), _yes_ask: z.number().int(), _volume: z.number() });
const historyFile = z.array(z.record(z.string(), z.array(z.unknown())));

/** Step of the resampled grid: the REST history is coarse (tens of points a day per market). */
const STEP_MS = 600_000;
const MIN_CO_MOVES = [2, DEFAULT_THRESHOLDS.correlationMinCoMoves, 6, 8];
const CORRELATION = { sampleMs: STEP_MS, windowsMs: [3_600_000, 14_400_000, 28_800_000], maxLagSamples: 6 };

interface EventSeries {
  event: string;
  markets: string[];
  /** Per grid step, per market: YES mid in price units (carried forward), volume since the last step. */
  mids: number[][];
  volumes: number[][];
  startMs: number;
}

/** Bucket markets of multi-bucket events from the legacy Kalshi REST history, on a common 10-minute grid. */
export function loadBucketEvents(dataDir: string, minMarkets = 3): EventSeries[] {
  const raw = historyFile.parse(JSON.parse(readFileSync(path.join(dataDir, 'market_history.json'), 'utf8')));
  const byEvent = new Map<string, Map<string, z.infer<typeof historyPoint>[]>>();
  for (const entry of raw) {
    for (const [ticker, points] of Object.entries(entry)) {
      const parsed = points.map((p) => historyPoint.safeParse(p)).flatMap((r) => (r.success && r.data._yes_bid > 0 && r.data._yes_ask < 100 ? [r.data] : []));
      if (parsed.length < 5) continue;
      const event = kalshiEvent(ticker);
      const m = byEvent.get(event) ?? new Map();
      m.set(ticker, parsed.sort((a, b) => a._ts - b._ts));
      byEvent.set(event, m);
    }
  }
  const out: EventSeries[] = [];
  for (const [event, series] of byEvent) {
    if (series.size < minMarkets) continue;
    const markets = [...series.keys()].sort();
    const all = [...series.values()].flat();
    const startMs = Math.min(...all.map((p) => p._ts)) * 1000;
    const endMs = Math.max(...all.map((p) => p._ts)) * 1000;
    const mids: number[][] = [];
    const volumes: number[][] = [];
    const cursor = markets.map(() => 0);
    const lastVolume = markets.map(() => 0);
    for (let t = startMs + STEP_MS; t <= endMs + STEP_MS; t += STEP_MS) {
      const row: number[] = [];
      const vol: number[] = [];
      markets.forEach((m, i) => {
        const pts = series.get(m)!;
        while (cursor[i]! < pts.length && pts[cursor[i]!]!._ts * 1000 <= t) cursor[i]!++;
        const p = pts[Math.max(0, cursor[i]! - 1)]!;
        row.push(((p._yes_bid + p._yes_ask) / 2) * CENT);
        vol.push(Math.max(0, p._volume - lastVolume[i]!));
        lastVolume[i] = p._volume;
      });
      mids.push(row);
      volumes.push(vol);
    }
    out.push({ event, markets, mids, volumes, startMs });
  }
  return out;
}

/** Runs the signal engine over one event's grid; mids are the only book information the history has. */
function spikesIn(e: EventSeries, mids: number[][], minCoMoves: number): { markets: string[]; priority: string; firedAtMs: number }[] {
  const engine = new SignalEngine({ thresholdsFor: () => ({ ...DEFAULT_THRESHOLDS, windowMs: STEP_MS, correlationMinVolumeRatio: 0, correlationMinCoMoves: minCoMoves }), correlation: CORRELATION, categoryOf: () => 'bucket', groupOf: kalshiEvent });
  const found: { markets: string[]; priority: string; firedAtMs: number }[] = [];
  mids.forEach((row, step) => {
    const ts = e.startMs + (step + 1) * STEP_MS - 1;
    const ticks: MarketTick[] = e.markets.map((m, i) => ({
      market: m,
      ts,
      yesBids: [{ price: Math.floor(row[i]!), size: 1 }],
      noBids: [{ price: ONE_DOLLAR - Math.ceil(row[i]!), size: 1 }],
      trades: e.volumes[step]![i]! > 0 ? [{ ts, price: Math.round(row[i]!), count: e.volumes[step]![i]!, takerSide: 'yes' }] : [],
    }));
    for (const s of engine.onTicks(ticks)) if (s.type === 'correlation_spike') found.push({ markets: s.markets, priority: s.priority, firedAtMs: s.firedAtMs });
  });
  return found;
}

/** Mid changes per market, shuffled in time independently (any real co-movement is destroyed), rebuilt into mids. */
function shuffledMids(mids: number[][], random: () => number): number[][] {
  const k = mids[0]!.length;
  const columns = Array.from({ length: k }, (_, i) => shuffled(mids.slice(1).map((row, s) => row[i]! - mids[s]![i]!), random));
  const out = [mids[0]!.slice()];
  for (let s = 0; s < columns[0]!.length; s++) out.push(out[s]!.map((v, i) => v + columns[i]![s]!));
  return out;
}

/**
 * The real-data check: which correlations the engine finds across bucket markets of one event in
 * the 2024 Kalshi REST history, and how many spikes it reports once each series is shuffled.
 */
export async function signalsRealData(opts: { dataDir: string; shuffles?: number; log: (l: string) => void }) {
  const events = loadBucketEvents(opts.dataDir);
  const random = seededRandom(7);
  const report = events.map((e) => {
    const diffs = e.markets.map((_, i) => e.mids.slice(1).map((row, s) => row[i]! - e.mids[s]![i]!));
    const pairs: { a: string; b: string; r: number }[] = [];
    for (let i = 0; i < e.markets.length; i++) for (let j = i + 1; j < e.markets.length; j++) {
      const r = pearsonTwoPass(diffs[i]!, diffs[j]!);
      if (r !== undefined) pairs.push({ a: e.markets[i]!, b: e.markets[j]!, r: Number(r.toFixed(3)) });
    }
    const runs = opts.shuffles ?? 40;
    const shuffles = Array.from({ length: runs }, () => shuffledMids(e.mids, random));
    // The co-move floor is what separates real co-movement from coincident jumps: report each setting.
    const sensitivity = MIN_CO_MOVES.map((minCoMoves) => ({
      minCoMoves,
      spikes: spikesIn(e, e.mids, minCoMoves),
      shuffledSpikes: shuffles.reduce((n, mids) => n + spikesIn(e, mids, minCoMoves).length, 0),
    }));
    opts.log(`${e.event}: ${e.markets.length} markets, ${e.mids.length} steps; strongest |r| ${Math.max(0, ...pairs.map((p) => Math.abs(p.r))).toFixed(2)}; ${sensitivity.map((x) => `co-moves≥${x.minCoMoves}: ${x.spikes.length} spikes, ${x.shuffledSpikes} over ${runs} shuffles`).join('; ')}`);
    return { event: e.event, markets: e.markets.length, steps: e.mids.length, pairs: pairs.sort((x, y) => Math.abs(y.r) - Math.abs(x.r)), sensitivity, shuffles: runs };
  });
  return {
    bench: 'signals-real',
    events: report.length,
    strongPairs: report.reduce((n, e) => n + e.pairs.filter((p) => Math.abs(p.r) >= 0.5).length, 0),
    bySetting: MIN_CO_MOVES.map((minCoMoves, k) => ({
      minCoMoves,
      spikes: report.reduce((n, e) => n + e.sensitivity[k]!.spikes.length, 0),
      shuffledSpikesPerRun: Number(report.reduce((n, e) => n + e.sensitivity[k]!.shuffledSpikes / e.shuffles, 0).toFixed(3)),
    })),
    report,
  };
}
