import assert from 'node:assert/strict';
import { actionableEntry } from '../../domain/signals/actionable';
import { bestLag, CorrelationMatrix } from '../../domain/signals/correlation-matrix';
import { SignalEngine } from '../../domain/signals/engine';
import { kalshiCategory, kalshiEvent } from '../../domain/market-data/kalshi-tickers';
import { MarketSignalTracker } from '../../domain/signals/market-tracker';
import { deriveWeights, performanceMatrix, signalOutcome, timeOfDay } from '../../domain/signals/performance';
import { pearsonTwoPass } from '../../domain/signals/rolling-correlation';
import { DEFAULT_THRESHOLDS, type MarketTick, type SignalThresholds } from '../../domain/signals/types';
import { seededRandom as rng } from '../../domain/random';
import { decodeCheckpoint, encodeCheckpoint } from '../../workers/signals/checkpoint-codec';

/** What a checkpoint does to a state: to its bytes and back. */
const throughCheckpoint = (state: unknown): unknown => decodeCheckpoint(encodeCheckpoint(state));

const thresholds = (over: Partial<SignalThresholds> = {}): SignalThresholds => ({ ...DEFAULT_THRESHOLDS, windowMs: 1000, baselineWindows: 4, cooldownMs: 0, ...over });
const tick = (market: string, ts: number, bid: [number, number], noBid: [number, number], trades: MarketTick['trades'] = [], more: Partial<MarketTick> = {}): MarketTick => ({
  market,
  ts,
  yesBids: [{ price: bid[0], size: bid[1] }],
  noBids: [{ price: noBid[0], size: noBid[1] }],
  trades,
  ...more,
});

describe('correlation matrix (all pairs, several windows)', () => {
  it('matches a two-pass Pearson for every pair and window to 1e-9 at every step', () => {
    const rand = rng(7);
    const markets = ['A', 'B', 'C', 'D'];
    const windows = [20, 60, 150];
    const m = new CorrelationMatrix(markets, windows);
    const series: number[][] = markets.map(() => []);
    let worst = 0;
    for (let t = 0; t < 1500; t++) {
      const common = rand() - 0.5;
      // B follows A half of the time; C and D are independent noise, D often flat.
      const values = [common, t % 400 < 200 ? common + (rand() - 0.5) * 0.1 : rand() - 0.5, rand() - 0.5, t % 7 === 0 ? rand() : 0];
      m.push(values);
      values.forEach((v, i) => series[i]!.push(v));
      if (t % 3 !== 0) continue;
      for (let i = 0; i < markets.length; i++) {
        for (let j = i + 1; j < markets.length; j++) {
          windows.forEach((w, wi) => {
            const ref = pearsonTwoPass(series[i]!.slice(-w), series[j]!.slice(-w));
            const got = m.correlation(markets[i]!, markets[j]!, wi);
            if (ref === undefined) assert.equal(got, undefined);
            else if (got !== undefined) worst = Math.max(worst, Math.abs(got - ref));
            else assert.fail(`undefined where the reference is ${ref}`);
          });
        }
      }
    }
    assert.ok(worst < 1e-9, `max deviation ${worst}`);
    const readAll = () => [...m.pairs()].flatMap(([a, b]) => windows.map((_, wi) => [m.correlation(a, b, wi), m.coMoves(a, b, wi)] as const));
    const before = readAll();
    m.refresh();
    readAll().forEach(([r, co], k) => {
      const [r0, co0] = before[k]!;
      assert.equal(co, co0, 'co-moves agree');
      assert.ok(r === r0 || Math.abs(r! - r0!) < 1e-9, `a full refresh agrees with the incremental moments (${r} vs ${r0})`);
    });
  });

  it('finds which series leads', () => {
    const rand = rng(3);
    const a = Float64Array.from({ length: 200 }, () => rand() - 0.5);
    const b = new Float64Array(200);
    for (let i = 3; i < 200; i++) b[i] = a[i - 3]! + (rand() - 0.5) * 0.05;
    assert.equal(bestLag(a, b, 6, pearsonTwoPass)!.lag, 3);
    assert.equal(bestLag(b, a, 6, pearsonTwoPass)!.lag, -3);
  });

  it('refuses bad shapes', () => {
    assert.throws(() => new CorrelationMatrix(['A'], [10]), /two markets/);
    assert.throws(() => new CorrelationMatrix(['A', 'B'], [1]), /windows/);
    const m = new CorrelationMatrix(['A', 'B'], [5]);
    assert.throws(() => m.push([1]), /expected 2/);
    assert.throws(() => m.push([1, Number.NaN]), /non-finite/);
  });
});

describe('single-market tracker', () => {
  it('fires a volume spike with the flow direction only once a baseline exists', () => {
    const tr = new MarketSignalTracker('M', 'cat', thresholds({ minSpikeVolume: 10 }));
    const fired = [];
    for (let w = 0; w < 6; w++) fired.push(...tr.onTick(tick('M', w * 1000 + 10, [4000, 100], [5800, 100], [{ ts: w * 1000 + 10, price: 4100, count: w === 5 ? 500 : 20, takerSide: 'yes' }])));
    assert.equal(fired.filter((s) => s.type === 'volume_spike').length, 0, 'the spiking window is still open');
    fired.push(...tr.onTick(tick('M', 6010, [4000, 100], [5800, 100])));
    const spike = fired.find((s) => s.type === 'volume_spike');
    assert.ok(spike, JSON.stringify(fired));
    assert.equal(spike.direction, 'yes');
    assert.equal(spike.firedAtMs, 6000, 'fires at the close of the window it describes');
    assert.equal(spike.midAtFire, 4100);
    assert.deepEqual(spike.inputs.baselineVolumes, [20, 20, 20, 20]);
  });

  it('fires order-book imbalance and market-maker withdrawal', () => {
    const tr = new MarketSignalTracker('M', 'cat', thresholds());
    const out = [];
    for (let w = 0; w < 5; w++) out.push(...tr.onTick(tick('M', w * 1000, [4900, 300], [5000, 300], [{ ts: w * 1000, price: 4950, count: 40, takerSide: 'yes' }])));
    // Spread widens ×5, depth collapses, no trades; and bids dominate the book.
    out.push(...tr.onTick(tick('M', 5000, [4500, 900], [5000, 20])));
    out.push(...tr.onTick(tick('M', 6000, [4500, 900], [5000, 20])));
    const types = out.map((s) => s.type);
    assert.ok(types.includes('mm_withdrawal'), types.join());
    assert.ok(types.includes('book_imbalance'), types.join());
    assert.equal(out.find((s) => s.type === 'book_imbalance')!.direction, 'yes');
    assert.equal(out.find((s) => s.type === 'mm_withdrawal')!.direction, undefined);
  });

  it('recognises an iceberg: a bid level refilled after being eaten, more traded than ever shown', () => {
    const tr = new MarketSignalTracker('M', 'cat', thresholds({ icebergMinRefills: 3 }));
    let ts = 0;
    const out = [];
    for (let round = 0; round < 4; round++) {
      out.push(...tr.onTick(tick('M', (ts += 50), [4000, 100], [5900, 50])));
      out.push(...tr.onTick(tick('M', (ts += 50), [4000, 10], [5900, 50], [{ ts, price: 4000, count: 90, takerSide: 'no' }])));
    }
    out.push(...tr.onTick(tick('M', (ts += 50), [4000, 100], [5900, 50])));
    out.push(...tr.onTick(tick('M', 2000, [4000, 100], [5900, 50])));
    const ice = out.find((s) => s.type === 'iceberg');
    assert.ok(ice, out.map((s) => s.type).join());
    assert.equal(ice.direction, 'yes');
    assert.equal(ice.inputs.refills, 4);
    assert.equal(ice.inputs.traded, 360);
  });
});

describe('signal engine', () => {
  const correlation = { sampleMs: 1000, windowsMs: [20_000, 120_000], maxLagSamples: 3 };

  it('finds a cross-market leak: three markets of one event start moving together after moving independently', () => {
    const rand = rng(11);
    const engine = new SignalEngine({ thresholdsFor: () => thresholds({ correlationMinVolumeRatio: 1.2 }), correlation, categoryOf: kalshiCategory, groupOf: kalshiEvent });
    const markets = ['EV-24-A', 'EV-24-B', 'EV-24-C', 'OTHER-1-X'];
    const mids = markets.map(() => 5000);
    const fired = [];
    for (let s = 0; s < 200; s++) {
      const leak = s >= 150;
      const common = Math.round((rand() - 0.5) * 200);
      for (let i = 0; i < markets.length; i++) {
        const own = Math.round((rand() - 0.5) * 200);
        mids[i] = Math.min(9000, Math.max(1000, mids[i]! + (leak && i < 3 ? common + Math.round(own / 10) : own)));
        const trades = [{ ts: s * 1000 + 500, price: mids[i]!, count: leak ? 50 : 10, takerSide: 'yes' as const }];
        fired.push(...engine.onTicks([tick(markets[i]!, s * 1000 + 500, [mids[i]! - 50, 100], [10_000 - mids[i]! - 50, 100], trades)]));
      }
    }
    const spikes = fired.filter((f) => f.type === 'correlation_spike');
    assert.ok(spikes.length > 0, 'the leak is found');
    assert.ok(spikes.every((s) => s.markets.every((m) => m.startsWith('EV-24-'))), 'only the leaking event');
    assert.ok(spikes.every((s) => s.firedAtMs > 150_000), 'not before the leak starts');
    assert.ok(spikes.some((s) => s.priority === 'HIGH' && s.markets.length === 3));
    const first = spikes[0]!;
    assert.ok(typeof first.inputs.onsetMs === 'number' && typeof first.inputs.leadTimeMs === 'number');
  });

  it('stays quiet on the same markets when their moves are independent (shuffled)', () => {
    const rand = rng(12);
    const engine = new SignalEngine({ thresholdsFor: () => thresholds({ correlationMinVolumeRatio: 1.2 }), correlation, categoryOf: kalshiCategory, groupOf: kalshiEvent });
    const mids = [5000, 5000, 5000];
    const fired = [];
    for (let s = 0; s < 400; s++) {
      for (let i = 0; i < 3; i++) {
        mids[i] = Math.min(9000, Math.max(1000, mids[i]! + Math.round((rand() - 0.5) * 200)));
        fired.push(...engine.onTicks([tick(`EV-24-${i}`, s * 1000 + 500, [mids[i]! - 50, 100], [10_000 - mids[i]! - 50, 100], [{ ts: s * 1000 + 500, price: mids[i]!, count: s > 300 ? 40 : 10, takerSide: 'yes' }])]));
      }
    }
    assert.equal(fired.filter((f) => f.type === 'correlation_spike').length, 0);
  });

  it('applies the cooldown per type and market', () => {
    const engine = new SignalEngine({ thresholdsFor: () => thresholds({ cooldownMs: 10_000, imbalanceAbove: 0.5, imbalanceMinDepth: 1 }), correlation, categoryOf: () => 'c', groupOf: (m) => m });
    const fired = [];
    for (let s = 0; s < 30; s++) fired.push(...engine.onTicks([tick('M', s * 1000, [4000, 900], [5900, 10])]));
    const times = fired.filter((f) => f.type === 'book_imbalance').map((f) => f.firedAtMs);
    assert.deepEqual(times, [1000, 11000, 21000]);
  });
});

describe('signal engine checkpoints (snapshot → JSON → restore)', () => {
  const correlation = { sampleMs: 1000, windowsMs: [20_000, 120_000], maxLagSamples: 3 };
  const options = (windowsMs = correlation.windowsMs) => ({ thresholdsFor: () => thresholds({ correlationMinVolumeRatio: 1.2, cooldownMs: 3000, imbalanceMinDepth: 50 }), correlation: { ...correlation, windowsMs }, categoryOf: kalshiCategory, groupOf: kalshiEvent });

  /** Four markets of one event (leaking together from step 150, a fourth joining at step 90), one other with an iceberg bid; lopsided books, volume bursts. */
  function stream(): MarketTick[][] {
    const rand = rng(23);
    const markets = ['EV-24-A', 'EV-24-B', 'EV-24-C', 'EV-24-D', 'OTHER-1-X'];
    const mids = markets.map(() => 5000);
    const steps: MarketTick[][] = [];
    for (let s = 0; s < 260; s++) {
      const leak = s >= 150;
      const common = Math.round((rand() - 0.5) * 200);
      const ticks: MarketTick[] = [];
      for (let i = 0; i < markets.length; i++) {
        if (i === 3 && s < 90) continue;
        const own = Math.round((rand() - 0.5) * 200);
        mids[i] = Math.min(9000, Math.max(1000, mids[i]! + (leak && i < 4 ? common + Math.round(own / 10) : own)));
        const burst = s % 40 > 34 ? 8 : 1;
        const trades = [{ ts: s * 1000 + 500, price: mids[i]!, count: Math.round((5 + rand() * 20) * burst), takerSide: rand() < 0.7 ? ('yes' as const) : ('no' as const) }];
        const bidSize = s % 17 < 5 ? 400 : 20 + Math.round(rand() * 100);
        if (i === 4) {
          // A hidden buyer: the YES bid at 0.40 is eaten by NO takers and refilled, over and over.
          const eaten = s % 2 === 1;
          ticks.push(tick(markets[i]!, s * 1000 + 500, [4000, eaten ? 10 : 120], [5900, 80], eaten ? [{ ts: s * 1000 + 400, price: 4000, count: 110, takerSide: 'no' }] : []));
          continue;
        }
        ticks.push(tick(markets[i]!, s * 1000 + 500, [mids[i]! - 50, bidSize], [10_000 - mids[i]! - 50, 30 + Math.round(rand() * 60)], trades));
      }
      steps.push(ticks);
    }
    return steps;
  }

  it('a restored engine fires exactly what an uninterrupted one fires, restored at every 20th step', () => {
    const steps = stream();
    const reference = new SignalEngine(options());
    const expected = steps.map((ticks) => reference.onTicks(ticks));
    assert.ok(new Set(expected.flat().map((f) => f.type)).size >= 4, `a stream that fires several types: ${[...new Set(expected.flat().map((f) => f.type))].join(',')}`);
    for (const type of ['correlation_spike', 'iceberg', 'book_imbalance']) assert.ok(expected.flat().filter((f) => f.type === type).length >= 2, `${type} fires more than once`);

    let engine = new SignalEngine(options());
    const got = steps.map((ticks, s) => {
      if (s > 0 && s % 20 === 0) {
        // What a checkpoint does: to its bytes and back, into a fresh engine.
        const restored = new SignalEngine(options());
        restored.restore(throughCheckpoint(engine.snapshot()));
        engine = restored;
      }
      return engine.onTicks(ticks);
    });
    assert.deepEqual(got, expected);
    assert.deepEqual(engine.snapshot(), reference.snapshot());
  });

  it('a recording replayed again (time going back) starts over, also from a restored state, and fires what it fired the first time', () => {
    const steps = stream();
    const engine = new SignalEngine(options());
    const first = steps.map((ticks) => engine.onTicks(ticks));
    const restored = new SignalEngine(options());
    restored.restore(throughCheckpoint(engine.snapshot()));
    assert.deepEqual(
      steps.map((ticks) => restored.onTicks(ticks)),
      first,
    );
    // A tick late by less than a window is not a new stream: it counts in the window it lands in.
    const late = steps[100]![0]!;
    const carryOn = new SignalEngine(options());
    steps.slice(0, 120).forEach((ticks) => carryOn.onTicks(ticks));
    const before = carryOn.snapshot().trackers.find((t) => t.market === late.market)!.closed.length;
    carryOn.onTicks([{ ...late, ts: steps[119]![0]!.ts - 500 }]);
    assert.equal(carryOn.snapshot().trackers.find((t) => t.market === late.market)!.closed.length, before);
  });

  it('refuses a state from other correlation windows or a malformed one, and keeps its own', () => {
    const steps = stream().slice(0, 100);
    const engine = new SignalEngine(options());
    for (const ticks of steps) engine.onTicks(ticks);
    const before = encodeCheckpoint(engine.snapshot());
    const other = new SignalEngine(options([10_000, 120_000]));
    for (const ticks of steps) other.onTicks(ticks);
    assert.throws(() => engine.restore(other.snapshot()), /correlation windows of 10,120 samples; this engine uses 20,120/);
    type Broken = { groups: { matrix?: { moments: Float64Array | unknown[] } }[]; trackers: { closed: { volume: unknown }[] }[] };
    const broken = decodeCheckpoint(before) as Broken;
    broken.trackers[0]!.closed[0]!.volume = 'lots';
    assert.throws(() => engine.restore(broken), /invalid signal engine state: trackers\.0\.closed\.0\.volume/);
    const truncated = decodeCheckpoint(before) as Broken;
    const matrix = truncated.groups.find((g) => g.matrix)!.matrix!;
    matrix.moments = (matrix.moments as Float64Array).subarray(1);
    assert.throws(() => engine.restore(truncated), /expected \d+ and \d+/);
    const notFinite = decodeCheckpoint(before) as Broken;
    (notFinite.groups.find((g) => g.matrix)!.matrix!.moments as Float64Array)[3] = Number.NaN;
    assert.throws(() => engine.restore(notFinite), /invalid signal engine state: groups\.\d+\.matrix\.moments\.3: not a finite number/);
    // A state as JSON (number lists, as checkpoints before the binary form held) still restores.
    const asJson = JSON.parse(JSON.stringify(decodeCheckpoint(before), (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v))) as unknown;
    const fromJson = new SignalEngine(options());
    fromJson.restore(asJson);
    assert.ok(encodeCheckpoint(fromJson.snapshot()).equals(before), 'restored from number lists, exactly');
    assert.throws(() => engine.restore({ version: 2 }), /invalid signal engine state: version/);
    assert.ok(encodeCheckpoint(engine.snapshot()).equals(before), 'a refused state changes nothing');
  });
});

describe('outcomes, performance matrix and weights', () => {
  it('measures moves in the signal direction', () => {
    assert.deepEqual(signalOutcome('yes', 5000, 5300), { move: 300, correct: true });
    assert.deepEqual(signalOutcome('no', 5000, 5300), { move: -300, correct: false });
    assert.deepEqual(signalOutcome('no', 5000, 5000), { move: 0, correct: null });
    assert.deepEqual(signalOutcome(undefined, 5000, 4800), { move: 200, correct: null });
    assert.equal(timeOfDay(Date.UTC(2026, 7, 10, 22, 30)), '18-24');
  });

  it('aggregates by type × category × time of day and shrinks thin cells toward no edge', () => {
    const at = (h: number) => Date.UTC(2026, 7, 10, h);
    const rows = [
      ...Array.from({ length: 30 }, (_, i) => ({ type: 'volume_spike', category: 'gold', firedAtMs: at(i % 2 ? 3 : 14), horizonMs: 600_000, move: i % 3 === 0 ? -100 : 200, correct: i % 3 !== 0 })),
      { type: 'iceberg', category: 'gold', firedAtMs: at(3), horizonMs: 600_000, move: 500, correct: true },
    ];
    const cells = performanceMatrix(rows);
    const all = cells.find((c) => c.type === 'volume_spike' && c.timeOfDay === 'all')!;
    assert.equal(all.count, 30);
    assert.equal(all.wins, 20);
    assert.ok(Math.abs(all.winRate! - 2 / 3) < 1e-12);
    assert.ok(Math.abs(all.meanMove - 100) < 1e-9);
    assert.equal(cells.filter((c) => c.type === 'volume_spike').length, 3, 'two time-of-day cells and the all-day cell');
    const weights = deriveWeights(cells, 600_000, 20);
    const vs = weights.find((w) => w.type === 'volume_spike')!;
    const ice = weights.find((w) => w.type === 'iceberg')!;
    assert.ok(Math.abs(vs.winRate - (20 + 10) / (30 + 20)) < 1e-12);
    assert.ok(Math.abs(vs.expectedMove - 60) < 1e-9);
    assert.ok(ice.weight < vs.weight, 'one lucky iceberg counts for less than thirty spikes');
  });

  it('turns a signal into an entry only when the model expects a positive move', () => {
    const signal = { key: 'k', type: 'volume_spike' as const, market: 'M', markets: ['M'], category: 'gold', direction: 'no' as const, strength: 5, confidence: 0.9, priority: 'HIGH' as const, firedAtMs: 0, inputs: {} };
    const book = { yesBids: [{ price: 4000, size: 10 }], noBids: [{ price: 5800, size: 10 }] };
    const rules = { minConfidence: 0.5, priorities: ['HIGH', 'MEDIUM'] as const, types: ['volume_spike'] as const };
    const weight = { type: 'volume_spike', category: 'gold', winRate: 0.6, expectedMove: 300, weight: 0.2, count: 50 };
    assert.deepEqual(actionableEntry(signal, book, [weight], rules), { outcome: 'no', ask: 6000, modelProbability: 5900 + 300, weight });
    assert.match((actionableEntry(signal, book, [{ ...weight, expectedMove: -10 }], rules) as { rejected: string }).rejected, /no positive edge/);
    assert.match((actionableEntry({ ...signal, confidence: 0.2 }, book, [weight], rules) as { rejected: string }).rejected, /confidence/);
    assert.match((actionableEntry(signal, { yesBids: [], noBids: [] }, [weight], rules) as { rejected: string }).rejected, /two-sided/);
  });
});
