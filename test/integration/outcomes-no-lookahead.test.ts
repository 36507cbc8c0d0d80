import assert from 'node:assert/strict';
import { and, eq, inArray } from 'drizzle-orm';
import { createRetrainingActivities, type WeightsFit } from '../../activities/retraining';
import { EXIT } from '../../cli/main';
import { signalFitSettings } from '../../config/signal-model';
import { parseAsOf } from '../../cli/commands/retrain';
import { insertPricePoints, upsertMarketSnapshot } from '../../db/market-data-repo';
import { retrainingRuns, signalOutcomes, signals } from '../../db/schema';
import { RecordedSettlements } from '../../db/settlements';
import { insertSignals, loadPerformanceMatrix, registerSignalConfig, resolveDueOutcomes } from '../../db/signals-repo';
import { ONE_DOLLAR } from '../../domain/fixed-point';
import type { PricePoint } from '../../domain/market-data/price-history';
import { signalOutcome } from '../../domain/signals/performance';
import type { DetectedSignal } from '../../domain/signals/types';
import { retrainInput } from '../../runtime/retraining-schedule';
import { retrainSignalWeightsWorkflow, type RetrainResult } from '../../workflows/retraining';
import { kestrel } from '../support/cli';
import { getHarness, uniqueName } from '../support/harness';
import { useStack } from '../support/stack';

const MIN = 60_000;
const HORIZONS = [10 * MIN, 30 * MIN];

/**
 * A synthetic recorded window (a fixture, not market data) in exchange time, in 2011 so that no other
 * suite's signals fall in its windows. Market A rises for two hours and closes at +150 min (YES);
 * market B falls, stops trading at +49 min and closes early at +50 min (NO). The metadata (status,
 * result, close time) is final from the start, as in a replay of a recording.
 */
function recordedWindow(t0: number, tag: string) {
  const a = `${tag}A-11MAR07-T1`;
  const b = `${tag}B-11MAR07-T1`;
  const catA = a.split('-')[0]!.toLowerCase();
  const catB = b.split('-')[0]!.toLowerCase();
  const markets = [
    { ticker: a, category: catA, closeMs: t0 + 150 * MIN, lastPointMs: t0 + 140 * MIN, result: 'yes' as const, mid: (ms: number) => 4000 + Math.round((20 * (ms - t0)) / MIN) },
    { ticker: b, category: catB, closeMs: t0 + 50 * MIN, lastPointMs: t0 + 49 * MIN, result: 'no' as const, mid: (ms: number) => 5000 - Math.round((30 * (ms - t0)) / MIN) },
  ];
  const points: { market: string; point: PricePoint }[] = [];
  for (const m of markets) {
    for (let ts = t0; ts <= m.lastPointMs; ts += MIN / 2) {
      const mid = m.mid(ts);
      points.push({ market: m.ticker, point: { ts, bid: mid - 100, ask: mid + 100, last: mid, volume: (ts - t0) * 10 } });
    }
  }
  const detected: (DetectedSignal & { actionable: boolean })[] = [];
  const signal = (market: (typeof markets)[number], type: 'volume_spike' | 'book_imbalance', direction: 'yes' | 'no', firedAtMs: number) =>
    detected.push({ key: `${type}:${market.ticker}:${firedAtMs}`, type, market: market.ticker, markets: [market.ticker], category: market.category, direction, strength: 3, confidence: 0.8, priority: 'HIGH', firedAtMs, midAtFire: market.mid(firedAtMs), inputs: { fixture: true }, actionable: false });
  // A: spikes (right: the market rises) every 2 min, imbalances (wrong) every 6 min.
  for (let k = 0; k <= 60; k++) signal(markets[0]!, 'volume_spike', 'yes', t0 + k * 2 * MIN + MIN / 2);
  for (let k = 0; k <= 20; k++) signal(markets[0]!, 'book_imbalance', 'no', t0 + k * 6 * MIN + MIN / 2);
  // B: spikes (right) every 4 min up to its early close; one at +39.5 min, due at +49.5 min, between B's last data and its close.
  for (let k = 1; k <= 11; k++) signal(markets[1]!, 'volume_spike', 'no', t0 + k * 4 * MIN);
  signal(markets[1]!, 'volume_spike', 'no', t0 + 39.5 * MIN);
  return { markets, points, detected };
}

type Window = ReturnType<typeof recordedWindow>;

/**
 * What an outcome is worth using only what the market's data held up to its due time: the mid at or
 * before it once there is data at or after it; the result if the market closed at or before it;
 * otherwise it can never be scored honestly and stays pending.
 */
function honestOutcome(w: Window, market: string, direction: 'yes' | 'no', firedAtMs: number, horizonMs: number): { by: 'price' | 'settlement'; move: number } | undefined {
  const m = w.markets.find((x) => x.ticker === market)!;
  const due = firedAtMs + horizonMs;
  const own = w.points.filter((p) => p.market === market);
  let after: number | undefined;
  let by: 'price' | 'settlement' | undefined;
  if (own.some((p) => p.point.ts >= due)) {
    after = own.filter((p) => p.point.ts <= due).at(-1)!.point.last;
    by = 'price';
  } else if (m.closeMs <= due) {
    after = m.result === 'yes' ? ONE_DOLLAR : 0;
    by = 'settlement';
  }
  if (after === undefined || !by) return undefined;
  return { by, move: signalOutcome(direction, m.mid(firedAtMs), after).move };
}

describe('outcomes, weights and retraining on the market clock: no look-ahead', function () {
  this.timeout(180_000);
  const modelName = uniqueName('asof-weights');
  const stack = useStack({
    'retraining.scheduleId': uniqueName('asof-retrain'),
    'retraining.modelName': modelName,
    'retraining.trainWindowMs': 60 * MIN,
    'retraining.testWindowMs': 30 * MIN,
    'retraining.horizonMs': 10 * MIN,
    'retraining.minOutcomes': 5,
    'signals.weightPriorCount': 4,
    // What is checked here is when outcomes become known, not whether the fixture's moves beat the fees.
    'fees.kalshiTakerRate': '0',
    // The stack's own outcome job would resolve the same rows at random moments; this test resolves step by step.
    'signals.outcomeEveryMs': 3_600_000,
  });

  it('replays a window step by step: outcomes resolve only from data up to their due time, and weights and a retraining run as of T are the same mid-replay and after it', async () => {
    const s = stack();
    const db = s.database.db;
    const t0 = Date.UTC(2011, 2, 7, 12) + Math.floor(Math.random() * 1000) * 86_400_000;
    const w = recordedWindow(t0, uniqueName('LA').replace(/[^A-Za-z0-9]/g, '').toUpperCase());
    const tickers = w.markets.map((m) => m.ticker);
    const categories = new Set(w.markets.map((m) => m.category));
    const configHash = await registerSignalConfig(db, { fixture: 'outcomes-no-lookahead' });
    for (const m of w.markets) {
      await upsertMarketSnapshot(db, { venue: 'kalshi', marketTicker: m.ticker, status: 'finalized', attributes: { close_time: new Date(m.closeMs).toISOString(), result: m.result } }, t0);
    }
    const settlements = new RecordedSettlements(db);
    const activities = createRetrainingActivities({ db });
    const cfg = s.config.retraining;
    const fitAsOf = (asOfMs: number, knownBy = true): Promise<WeightsFit> =>
      activities.fitSignalWeights({ trainFromMs: asOfMs - cfg.testWindowMs - cfg.trainWindowMs, testFromMs: asOfMs - cfg.testWindowMs, testToMs: asOfMs, horizonMs: cfg.horizonMs, priorCount: s.config.signals.weightPriorCount, fit: signalFitSettings(s.config), ...(knownBy ? { knownByMs: asOfMs } : {}) });
    const matrixAsOf = async (asOfMs: number) => (await loadPerformanceMatrix(db, { asOfMs })).filter((c) => categories.has(c.category));
    const outcomes = () =>
      db
        .select({ key: signals.signalKey, market: signals.marketTicker, direction: signals.direction, firedAt: signals.firedAt, horizonMs: signalOutcomes.horizonMs, dueAt: signalOutcomes.dueAt, resolvedBy: signalOutcomes.resolvedBy, move: signalOutcomes.move })
        .from(signalOutcomes)
        .innerJoin(signals, eq(signals.id, signalOutcomes.signalId))
        .where(inArray(signals.marketTicker, tickers));
    const expected = (o: Awaited<ReturnType<typeof outcomes>>[number]) => honestOutcome(w, o.market, o.direction as 'yes' | 'no', o.firedAt.getTime(), o.horizonMs);
    const actual = (o: Awaited<ReturnType<typeof outcomes>>[number]) => (o.resolvedBy === null ? undefined : { by: o.resolvedBy, move: Math.round(Number(o.move) * 10_000) });

    // The replay: one exchange minute per step, data and signals up to the clock, then the outcome job.
    const cuts = [t0 + 75 * MIN, t0 + 105 * MIN, t0 + 135 * MIN];
    const midReplay = new Map<number, { fit: WeightsFit; matrix: Awaited<ReturnType<typeof matrixAsOf>> }>();
    let runMidReplay: RetrainResult | undefined;
    const resolvedAtStep = new Map<string, number>();
    let prev = -Infinity;
    for (let clock = t0; clock <= t0 + 160 * MIN; clock += MIN) {
      const points = w.points.filter((p) => p.point.ts > prev && p.point.ts <= clock);
      if (points.length > 0) await insertPricePoints(db, 'lookahead-replay', points);
      const fired = w.detected.filter((d) => d.firedAtMs > prev && d.firedAtMs <= clock);
      if (fired.length > 0) await insertSignals(db, fired, { configHash, source: 'lookahead-replay', horizonsMs: HORIZONS });
      prev = clock;
      await resolveDueOutcomes(db, settlements);
      for (const o of await outcomes()) {
        const id = `${o.key}+${o.horizonMs}`;
        if (o.resolvedBy === null || resolvedAtStep.has(id)) continue;
        resolvedAtStep.set(id, clock);
        const at = `at ${(clock - t0) / MIN} min, ${id} (due at ${(o.dueAt.getTime() - t0) / MIN} min)`;
        assert.deepEqual(actual(o), expected(o), `${at}: resolved from data past its due time`);
        if (o.resolvedBy === 'price') assert.ok(o.dueAt.getTime() <= clock, `${at}: resolved by price before the data reached its due time`);
      }
      if (cuts.includes(clock)) {
        midReplay.set(clock, { fit: await fitAsOf(clock), matrix: await matrixAsOf(clock) });
        if (clock === cuts[1]) {
          runMidReplay = await s.temporal.workflow.execute(retrainSignalWeightsWorkflow, { args: [retrainInput(s.config, { asOfMs: clock })], taskQueue: s.config.temporal.taskQueue, workflowId: uniqueName('retrain-asof') });
        }
      }
    }

    // Every outcome ends as the data up to its due time says, and the unscorable ones are still pending.
    await resolveDueOutcomes(db, settlements);
    const final = await outcomes();
    assert.equal(final.length, w.detected.length * HORIZONS.length);
    for (const o of final) assert.deepEqual(actual(o), expected(o), `${o.key}+${o.horizonMs}`);
    const by = (kind: string | null) => final.filter((o) => o.resolvedBy === kind).length;
    assert.ok(by('price') > 100 && by('settlement') > 5 && by(null) >= 2, `price ${by('price')}, settlement ${by('settlement')}, pending ${by(null)}`);
    const quiet = final.find((o) => o.key === `volume_spike:${w.markets[1]!.ticker}:${t0 + 39.5 * MIN}` && o.horizonMs === 10 * MIN)!;
    assert.equal(quiet.resolvedBy, null, 'due after the last data and before the close: pending, not the final result');

    // Weights and the performance matrix as of each cut: the same with all the data in as they were mid-replay.
    for (const cut of cuts) {
      const then = midReplay.get(cut)!;
      assert.ok(then.fit.trainOutcomes >= cfg.minOutcomes && then.fit.testOutcomes >= cfg.minOutcomes, JSON.stringify(then.fit));
      assert.ok(then.fit.weights.some((x) => x.type === 'volume_spike' && x.weight > 0), 'the fit learnt something');
      assert.deepEqual(await fitAsOf(cut), then.fit, `weights as of +${(cut - t0) / MIN} min`);
      assert.deepEqual(await matrixAsOf(cut), then.matrix, `performance matrix as of +${(cut - t0) / MIN} min`);
    }
    // Selecting by fired time alone would score the test window with outcomes resolved after the cut.
    assert.notDeepEqual(await fitAsOf(cuts[1]!, false), midReplay.get(cuts[1]!)!.fit, 'the look-ahead this guards against is present in the data');

    // Retraining as of the cut, now through the CLI (--as-of, ISO-8601): the same windows, scores and weights (no new version).
    assert.ok(runMidReplay && runMidReplay.status !== 'insufficient_data', JSON.stringify(runMidReplay));
    const harness = await getHarness();
    const env = {
      DATABASE_URL: harness.databaseUrl,
      REDIS_URL: harness.redisUrl,
      TEMPORAL_ADDRESS: harness.temporalAddress,
      KESTREL__TEMPORAL__TASK_QUEUE: s.config.temporal.taskQueue,
      KESTREL__RETRAINING__MODEL_NAME: modelName,
      KESTREL__RETRAINING__TRAIN_WINDOW_MS: String(cfg.trainWindowMs),
      KESTREL__RETRAINING__TEST_WINDOW_MS: String(cfg.testWindowMs),
      KESTREL__RETRAINING__HORIZON_MS: String(cfg.horizonMs),
      KESTREL__RETRAINING__MIN_OUTCOMES: String(cfg.minOutcomes),
      KESTREL__SIGNALS__WEIGHT_PRIOR_COUNT: String(s.config.signals.weightPriorCount),
      KESTREL__FEES__KALSHI_TAKER_RATE: s.config.fees.kalshiTakerRate.toString(),
    };
    const cli = await kestrel(['retrain', 'now', '--as-of', new Date(cuts[1]!).toISOString(), '--json'], env);
    assert.equal(cli.code, EXIT.ok, cli.stderr);
    const after = JSON.parse(cli.stdout) as RetrainResult;
    assert.equal(after.status, 'unchanged', after.reason);
    const [a, b] = await db.select().from(retrainingRuns).where(and(eq(retrainingRuns.modelName, modelName), inArray(retrainingRuns.id, [runMidReplay.runId, after.runId]))).orderBy(retrainingRuns.id);
    const numbers = (r: typeof a) => ({ trainFrom: r!.trainFrom.getTime(), testFrom: r!.testFrom.getTime(), testTo: r!.testTo.getTime(), inSample: r!.inSample, outOfSample: r!.outOfSample, trainOutcomes: r!.trainOutcomes, testOutcomes: r!.testOutcomes });
    assert.deepEqual(numbers(b), numbers(a));
    assert.deepEqual(numbers(a), { ...numbers(a), trainFrom: cuts[1]! - 90 * MIN, testFrom: cuts[1]! - 30 * MIN, testTo: cuts[1]! }, 'windows in exchange time, ending at --as-of');
  });

  it('kestrel retrain now --as-of takes ISO-8601 or epoch ms, and rejects what is not a time (exit 2)', async () => {
    assert.equal(parseAsOf('1700000000000'), 1_700_000_000_000);
    assert.equal(parseAsOf('2024-05-01'), Date.UTC(2024, 4, 1));
    assert.equal(parseAsOf('2024-05-01T14:00:00.250+02:00'), Date.UTC(2024, 4, 1, 12, 0, 0, 250));
    assert.equal(parseAsOf('2024-02-29T23:59Z'), Date.UTC(2024, 1, 29, 23, 59));
    const harness = await getHarness();
    const env = { DATABASE_URL: harness.databaseUrl, REDIS_URL: harness.redisUrl, TEMPORAL_ADDRESS: harness.temporalAddress };
    for (const bad of ['yesterday', '2024-02-30', '2024-05-01T25:00Z', '2024-05-01T12:00', '1e12', '-5', '']) {
      const r = await kestrel(['retrain', 'now', `--as-of=${bad}`], env);
      assert.equal(r.code, EXIT.usage, `${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, /--as-of must be an ISO-8601 time .* or epoch milliseconds/);
    }
    assert.match((await kestrel(['retrain', 'now', '--as-of', '2024-05-01T12:00'], env)).stderr, /needs its time zone/);
    const elsewhere = await kestrel(['retrain', 'runs', '--as-of', '2024-05-01'], env);
    assert.equal(elsewhere.code, EXIT.usage);
    assert.match(elsewhere.stderr, /--as-of applies to `kestrel retrain now` only/);
  });

  it('outcomes that cannot be scored yet never hold the oldest places: a newer resolvable one still resolves', async () => {
    const db = stack().database.db;
    const t0 = Date.UTC(2012, 5, 4, 9) + Math.floor(Math.random() * 1000) * 86_400_000;
    const [quiet, busy] = ['Q', 'B'].map((k) => uniqueName(`STALL${k}`).replace(/[^A-Za-z0-9]/g, '').toUpperCase());
    const configHash = await registerSignalConfig(db, { fixture: 'outcomes-starvation' });
    // `quiet` goes silent before its outcomes fall due and closes long after them (and one market has no close at all):
    // none of its outcomes can be scored honestly yet. `busy` has data past its later outcome's due time.
    await upsertMarketSnapshot(db, { venue: 'kalshi', marketTicker: quiet!, status: 'open', attributes: { close_time: new Date(t0 + 600 * MIN).toISOString() } }, t0);
    await insertPricePoints(db, 'starvation', [
      { market: quiet!, point: { ts: t0, bid: 4900, ask: 5100, last: 5000, volume: 0 } },
      ...[0, 20, 40].map((m) => ({ market: busy!, point: { ts: t0 + m * MIN, bid: 5900 + m, ask: 6100 + m, last: 6000 + m, volume: m } })),
    ]);
    const fire = (market: string, atMs: number): DetectedSignal & { actionable: boolean } => ({ key: `volume_spike:${market}:${atMs}`, type: 'volume_spike', market, markets: [market], category: 'stall', direction: 'yes', strength: 3, confidence: 0.8, priority: 'HIGH', firedAtMs: atMs, midAtFire: 5000, inputs: { fixture: true }, actionable: false });
    await insertSignals(db, [fire(quiet!, t0 + MIN), fire(quiet!, t0 + 2 * MIN), fire(busy!, t0 + 5 * MIN)], { configHash, source: 'starvation', horizonsMs: [10 * MIN] });
    // With room for one outcome per run, the quiet market's older outcomes must not take it.
    await resolveDueOutcomes(db, new RecordedSettlements(db), 1);
    const rows = await db
      .select({ market: signals.marketTicker, resolvedBy: signalOutcomes.resolvedBy })
      .from(signalOutcomes)
      .innerJoin(signals, eq(signals.id, signalOutcomes.signalId))
      .where(inArray(signals.marketTicker, [quiet!, busy!]));
    assert.deepEqual(rows.filter((r) => r.market === busy).map((r) => r.resolvedBy), ['price']);
    assert.deepEqual(rows.filter((r) => r.market === quiet).map((r) => r.resolvedBy), [null, null]);
  });
});
