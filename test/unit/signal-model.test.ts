import assert from 'node:assert/strict';
import { retrainReport } from '../../cli/commands/retrain';
import { actionableEntry } from '../../domain/signals/actionable';
import { fitAndScore, fitSignalModel, parseSignalModel, scoreSignalModel, signalPnl, type SignalModelFitSettings } from '../../domain/signals/model';
import { deriveWeights, performanceMatrix, promotionDecision, type OutcomeRow } from '../../domain/signals/performance';

const H = 600_000;
const settings: SignalModelFitSettings = {
  horizonMs: H,
  priorCount: 4,
  minCount: 10,
  confidenceGrid: [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
  takerFeeRate: '0.07',
  rules: { minConfidence: 0.6, priorities: ['HIGH', 'MEDIUM'], types: ['volume_spike', 'iceberg', 'book_imbalance'] },
};

/** Constructed outcomes (test fixtures, not market data): `n` YES signals fired at a 0.5000 mid, zero spread, resolved by price. */
function rows(n: number, o: { type?: string; category?: string; confidence: number; move: number; priority?: string; spreadAtFire?: number }): OutcomeRow[] {
  return Array.from({ length: n }, (_, i) => ({ type: o.type ?? 'volume_spike', category: o.category ?? 'gold', firedAtMs: i * 60_000, horizonMs: H, move: o.move, correct: o.move > 0, direction: 'yes' as const, midAtFire: 5000, spreadAtFire: o.spreadAtFire ?? 0, confidence: o.confidence, priority: o.priority ?? 'HIGH', resolvedBy: 'price' as const }));
}

describe('the signal model: thresholds and weights fitted on P&L after fees', () => {
  it('prices one signal as a contract bought at the ask and sold at the bid (or settled), after Kalshi fees', () => {
    const base = { type: 'volume_spike', category: 'gold', firedAtMs: 0, horizonMs: H, correct: true, confidence: 0.9, priority: 'HIGH' };
    // Ask 0.5100 (fee 0.07·0.51·0.49 → $0.0175), bid at the horizon 0.5900 (fee → $0.0170): 800 − 175 − 170.
    assert.equal(signalPnl({ ...base, direction: 'yes', midAtFire: 5000, spreadAtFire: 200, move: 1000, resolvedBy: 'price' }, '0.07'), 455);
    // Settled YES: paid $1, no exit fee: 10000 − 5100 − 175.
    assert.equal(signalPnl({ ...base, direction: 'yes', midAtFire: 5000, spreadAtFire: 200, move: 5000, resolvedBy: 'settlement' }, '0.07'), 4725);
    // A NO signal at a YES mid of 0.30: NO ask 0.7100 (fee $0.0145), NO bid 0.7400 at the horizon (fee $0.0135): 300 − 145 − 135.
    assert.equal(signalPnl({ ...base, direction: 'no', midAtFire: 3000, spreadAtFire: 200, move: 500, resolvedBy: 'price' }, '0.07'), 20);
  });

  it('chooses per cell the threshold with the best shrunk P&L per signal, and the live rule applies it', () => {
    const train = [...rows(20, { confidence: 0.6, move: -300 }), ...rows(12, { confidence: 0.85, move: 1500 })];
    const [w] = fitSignalModel(train, settings);
    // Every threshold from 0.65 to 0.85 keeps exactly the 12 winners; the lowest of the tied ones is chosen.
    assert.equal(w!.minConfidence, 0.65);
    assert.equal(w!.count, 12);
    // Winners: 6500 − 5000 − 175 − 160 = 1165 each, shrunk by 4 pseudo-signals: 12·1165/16.
    assert.equal(w!.expectedPnl, (12 * 1165) / 16);
    assert.equal(w!.weight, 12 / 16);
    const signal = { key: 'k', type: 'volume_spike' as const, market: 'M', markets: ['M'], category: 'gold', direction: 'yes' as const, strength: 5, confidence: 0.62, priority: 'HIGH' as const, firedAtMs: 0, inputs: {} };
    const book = { yesBids: [{ price: 4900, size: 10 }], noBids: [{ price: 4900, size: 10 }] };
    const rules = { minConfidence: 0.6, priorities: ['HIGH', 'MEDIUM'] as const, types: ['volume_spike'] as const };
    assert.match((actionableEntry(signal, book, [w!], rules) as { rejected: string }).rejected, /confidence 0\.62 < the model's threshold 0\.65/);
    assert.equal((actionableEntry({ ...signal, confidence: 0.9 }, book, [w!], rules) as { outcome: string }).outcome, 'yes');
    // Scoring uses the same rule: only the 12 winners are acted on.
    assert.deepEqual(scoreSignalModel([w!], train, settings), { edge: 1165, acted: 12, totalPnl: 12 * 1165 });
  });

  it('gives a cell below the minimum count no weight, however good it looks', () => {
    const [w] = fitSignalModel(rows(9, { type: 'iceberg', confidence: 0.9, move: 3000 }), settings);
    assert.equal(w!.weight, 0);
    assert.equal(w!.count, 9);
    assert.equal(scoreSignalModel([w!], rows(9, { type: 'iceberg', confidence: 0.9, move: 3000 }), settings).acted, 0);
  });

  it('gives no weight to a signal that is always right by less than the fees (the mid-to-mid weights did)', () => {
    const train = rows(30, { type: 'book_imbalance', confidence: 0.9, move: 300 });
    // 5300 − 5000 − 175 − 175 = −50 per signal after fees.
    assert.equal(fitSignalModel(train, settings)[0]!.weight, 0);
    assert.ok(deriveWeights(performanceMatrix(train), H, 4)[0]!.weight > 0, 'the old win-rate weight trusts it');
  });

  it('fits only signals the static rules let through (priority, type, the confidence floor)', () => {
    assert.deepEqual(fitSignalModel([...rows(30, { confidence: 0.9, move: 1500, priority: 'LOW' }), ...rows(30, { type: 'mm_withdrawal', confidence: 0.9, move: 1500 }), ...rows(30, { confidence: 0.5, move: 1500 })], settings), []);
  });

  it('chooses thresholds on the training outcomes only: any test window leaves the fit as it is', () => {
    const train = [...rows(20, { confidence: 0.6, move: -300 }), ...rows(12, { confidence: 0.85, move: 1500 })];
    const quiet = rows(5, { confidence: 0.9, move: -200 });
    // A test window where the low-confidence signals pay handsomely: it would move the threshold if it leaked.
    const loud = [...rows(60, { confidence: 0.6, move: 2500 }), ...rows(10, { confidence: 0.9, move: -2000 })];
    const a = fitAndScore(train, quiet, settings);
    const b = fitAndScore(train, loud, settings);
    assert.deepEqual(a.weights, b.weights);
    assert.deepEqual(a.inSample, b.inSample);
    assert.notDeepEqual(a.outOfSample, b.outOfSample);
    assert.equal(fitSignalModel([...train, ...loud], settings)[0]!.minConfidence, 0.6, 'had the test window been fitted on, the threshold would differ');
    assert.equal(a.weights[0]!.minConfidence, 0.65);
  });

  it('reads a stored model version only if it holds weights, with a clear error otherwise', () => {
    assert.equal(parseSignalModel({ weights: [{ type: 'iceberg', category: 'gold', winRate: 0.5, expectedMove: 10, weight: 0.3, count: 12, minConfidence: 0.7 }], horizonMs: H }, 'v1.0').length, 1);
    assert.throws(() => parseSignalModel({ weights: [{ type: 'iceberg' }] }, 'model version v1.3'), /model version v1\.3 is not a signal model .*weights\.0\.category/);
    assert.throws(() => parseSignalModel([0.1, 0.2], 'v2.0'), /v2\.0 is not a signal model/);
  });

  it('promotes only a positive out-of-sample edge within the shortfall of in-sample that beats the active version on the same window', () => {
    const rule = { maxShortfall: 0.2 };
    assert.equal(promotionDecision({ inSample: 100, outOfSample: 85 }, undefined, rule).promote, true);
    const overfit = promotionDecision({ inSample: 100, outOfSample: 79 }, undefined, rule);
    assert.equal(overfit.promote, false);
    assert.match(overfit.reason, /more than 20% below in-sample/);
    const loses = promotionDecision({ inSample: 100, outOfSample: 90 }, { version: 'v1.0', outOfSample: 95 }, rule);
    assert.equal(loses.promote, false);
    assert.match(loses.reason, /does not beat the active version v1\.0, which made \$0\.0095 per signal on the same test window/);
    assert.equal(promotionDecision({ inSample: 100, outOfSample: 96 }, { version: 'v1.0', outOfSample: 95 }, rule).promote, true);
    assert.match(promotionDecision({ inSample: 100, outOfSample: 0 }, undefined, rule).reason, /no out-of-sample edge/);
    assert.match(promotionDecision({ inSample: 0, outOfSample: 0, inSampleSignals: 0, outOfSampleSignals: 0 }, undefined, rule).reason, /would act on no signal/);
    assert.match(promotionDecision({ inSample: 120, outOfSample: 0, inSampleSignals: 14, outOfSampleSignals: 0 }, undefined, rule).reason, /acted on no signal in the test window/);
  });
});

describe('kestrel retrain now: what it says', () => {
  it('names the version signal strategies trade under, or says plainly that none passed the gate and why', () => {
    assert.equal(retrainReport('signal-weights', { status: 'promoted', reason: 'out-of-sample $0.0100 per signal after fees (in-sample $0.0110); there was no active version', runId: 1, modelVersion: 'v1.2' }, 'v1.2'), 'promoted signal-weights v1.2: it passed the gate with out-of-sample $0.0100 per signal after fees (in-sample $0.0110); there was no active version. Signal strategies trade under signal-weights v1.2.');
    assert.equal(retrainReport('signal-weights', { status: 'rejected', reason: 'the model acted on no signal in the test window: there is no out-of-sample evidence for it', runId: 2, modelVersion: 'v1.3' }, undefined), 'no version passed the gate: signal-weights v1.3 was fitted and rejected because the model acted on no signal in the test window: there is no out-of-sample evidence for it. There is no active signal-weights version, so signal strategies will not enter.');
    assert.match(retrainReport('m', { status: 'insufficient_data', reason: 'not enough data: 3 training and 1 test outcomes', runId: 3 }, 'v1.0'), /^no version was made: not enough data: .*\. Signal strategies trade under m v1\.0\.$/);
  });
});
