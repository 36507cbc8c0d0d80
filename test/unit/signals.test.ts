import assert from 'node:assert/strict';
import { correlationSpikeConfig, DEFAULT_SPIKE, detectCorrelationSpikes } from '../../domain/signals/correlation-spike';
import { DEFAULT_THRESHOLDS } from '../../domain/signals/types';
import { bookImbalance, icebergLikelihood, marketMakerWithdrawal, outcomeAccumulation, volumeSpike } from '../../domain/signals/detectors';
import { pearsonTwoPass, RollingCorrelation } from '../../domain/signals/rolling-correlation';
import { seededRandom as rng } from '../../domain/random';

describe('rolling Pearson correlation', () => {
  it('matches a two-pass reference to 1e-9 at every step of a long random walk', () => {
    const rand = rng(42);
    const window = 240;
    const rolling = new RollingCorrelation(window);
    const xs: number[] = [];
    const ys: number[] = [];
    let x = 0.5;
    let y = 0.5;
    let worst = 0;
    for (let i = 0; i < 20_000; i++) {
      x += (rand() - 0.5) * 0.01;
      // y follows x in some stretches and wanders alone in others.
      y += (i % 3000 < 1500 ? (rand() - 0.5) * 0.002 + (xs.length ? x - xs[xs.length - 1]! : 0) : (rand() - 0.5) * 0.01);
      rolling.push(x, y);
      xs.push(x);
      ys.push(y);
      const ref = pearsonTwoPass(xs.slice(-window), ys.slice(-window));
      const got = rolling.correlation();
      if (ref === undefined) assert.equal(got, undefined);
      else worst = Math.max(worst, Math.abs(got! - ref));
    }
    assert.ok(worst < 1e-9, `max deviation ${worst}`);
  });

  it('handles constant series, tiny windows and bad input', () => {
    const r = new RollingCorrelation(3);
    r.push(1, 1);
    assert.equal(r.correlation(), undefined);
    r.push(1, 2);
    assert.equal(r.correlation(), undefined, 'x is constant');
    r.push(2, 3);
    assert.ok(Math.abs(r.correlation()! - pearsonTwoPass([1, 1, 2], [1, 2, 3])!) < 1e-12);
    assert.throws(() => r.push(Number.NaN, 1), /non-finite/);
    assert.throws(() => new RollingCorrelation(1), /at least 2/);
  });
});

describe('cross-market correlation spikes', () => {
  it('flags pairs whose correlation jumped from below 0.3 to above 0.7 with volume, grouped by market', () => {
    const spikes = detectCorrelationSpikes([
      { a: 'A', b: 'B', shortR: 0.82, baselineR: 0.1, volumeRatio: 2 },
      { a: 'B', b: 'C', shortR: 0.75, baselineR: 0.2, volumeRatio: 1.6 },
      { a: 'D', b: 'E', shortR: 0.9, baselineR: 0.05, volumeRatio: 3 },
      { a: 'F', b: 'G', shortR: 0.9, baselineR: 0.5, volumeRatio: 3 }, // already correlated: no spike
      { a: 'H', b: 'I', shortR: 0.9, baselineR: 0.1, volumeRatio: 1.1 }, // not confirmed by volume
    ]);
    assert.deepEqual(spikes.map((s) => [s.markets.join(','), s.priority]), [['A,B,C', 'HIGH'], ['D,E', 'MEDIUM']]);
  });

  it('takes its default rule from the detector thresholds (the numbers live once)', () => {
    assert.deepEqual(DEFAULT_SPIKE, { spikeAbove: DEFAULT_THRESHOLDS.correlationSpikeAbove, baselineBelow: DEFAULT_THRESHOLDS.correlationBaselineBelow, minVolumeRatio: DEFAULT_THRESHOLDS.correlationMinVolumeRatio });
    assert.equal(correlationSpikeConfig({ ...DEFAULT_THRESHOLDS, correlationSpikeAbove: 0.9 }).spikeAbove, 0.9);
  });
});

describe('single-market detectors', () => {
  it('volume spike against the mean of earlier windows', () => {
    assert.deepEqual(volumeSpike([10, 12, 8, 30], { minRatio: 2, minBaselineWindows: 3 }), { ratio: 3 });
    assert.equal(volumeSpike([10, 12, 8, 15], { minRatio: 2, minBaselineWindows: 3 }), undefined);
    assert.equal(volumeSpike([10, 30], { minRatio: 2, minBaselineWindows: 3 }), undefined, 'not enough history');
  });

  it('market-maker withdrawal needs two of three signs; confidence counts them', () => {
    const cfg = { spreadWidenRatio: 2, volumeDropRatio: 0.5, depthDropRatio: 0.5 };
    const base = { spread: 100, volume: 1000, topDepth: 500 };
    assert.deepEqual(marketMakerWithdrawal(base, { spread: 300, volume: 200, topDepth: 100 }, cfg)?.confidence, 1);
    assert.ok(Math.abs(marketMakerWithdrawal(base, { spread: 300, volume: 900, topDepth: 100 }, cfg)!.confidence - 2 / 3) < 1e-12);
    assert.equal(marketMakerWithdrawal(base, { spread: 300, volume: 900, topDepth: 450 }, cfg), undefined);
  });

  it('book imbalance over the top levels', () => {
    assert.equal(bookImbalance([300, 100, 999], [100, 100], 2), 0.3333333333333333);
    assert.equal(bookImbalance([], [], 3), undefined);
  });

  it('iceberg: repeated refills of a level that trades far more than it shows', () => {
    const refilled = icebergLikelihood({ sizes: [100, 20, 100, 10, 95, 5, 100, 30, 100], traded: 450 }, 'bid');
    assert.equal(refilled!.refills, 4);
    assert.ok(refilled!.probability > 0.8);
    assert.equal(icebergLikelihood({ sizes: [100, 80, 60, 40], traded: 60 }, 'ask'), undefined);
  });

  it('outcome accumulation: one side surges while the other stays flat', () => {
    assert.deepEqual(outcomeAccumulation([10, 10, 40], [10, 12, 11], 3, 1.5), { outcome: 'yes', ratio: 4 });
    assert.equal(outcomeAccumulation([10, 10, 40], [10, 10, 40], 3, 1.5), undefined, 'both surge: no accumulation');
  });
});
