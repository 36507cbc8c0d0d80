import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { retrainingRuns, signalOutcomes, signals } from '../../db/schema';
import { registerSignalConfig } from '../../db/signals-repo';
import { activeVersion, currentStatus } from '../../db/versions-repo';
import { ensureRetrainingSchedule, retrainInput } from '../../runtime/retraining-schedule';
import { retrainSignalWeightsWorkflow, type RetrainResult } from '../../workflows/retraining';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { waitFor } from '../support/wait';

const MIN = 60_000;

describe('scheduled retraining (Temporal Schedule, overlap SKIP) with walk-forward promotion', function () {
  this.timeout(120_000);
  const modelName = uniqueName('weights');
  const category = uniqueName('cat').toLowerCase();
  const stack = useStack({
    'retraining.scheduleId': uniqueName('retrain'),
    'retraining.modelName': modelName,
    'retraining.everyMs': 3_600_000,
    'retraining.trainWindowMs': 60 * MIN,
    'retraining.testWindowMs': 30 * MIN,
    'retraining.horizonMs': 10 * MIN,
    'retraining.minOutcomes': 10,
    'signals.weightPriorCount': 4,
  });

  /**
   * Synthetic resolved outcomes (a test fixture, not market data): `n` signals (volume spikes unless
   * `type` says otherwise) fired `minutesAgo` (before `nowMs`), at a $0.50 mid, moving `moves[i % len]` dollars.
   * After Kalshi's taker fees on the way in and out, +$0.10 makes $0.0657, +$0.05 $0.0151, −$0.05 −$0.0849
   * (so ['0.10', '0.10', '-0.05'] makes $0.0155 per signal).
   */
  async function addOutcomes(minutesAgo: number, n: number, moves: string[], opts: { nowMs?: number; type?: string; category?: string } = {}) {
    const db = stack().database.db;
    const hash = await registerSignalConfig(db, { fixture: 'retraining-test' });
    const cat = opts.category ?? category;
    for (let i = 0; i < n; i++) {
      const firedAt = new Date((opts.nowMs ?? Date.now()) - minutesAgo * MIN + i * 1000);
      const [row] = await db
        .insert(signals)
        .values({ signalKey: uniqueName('sig'), type: opts.type ?? 'volume_spike', marketTicker: `${cat}-M`, markets: [`${cat}-M`], category: cat, direction: 'yes', strength: 3, confidence: 0.8, priority: 'HIGH', firedAt, midAtFire: '0.50000', inputs: { fixture: true }, configHash: hash, source: 'retraining-test' })
        .returning({ id: signals.id });
      const move = moves[i % moves.length]!;
      await db.insert(signalOutcomes).values({ signalId: row!.id, horizonMs: 10 * MIN, dueAt: new Date(firedAt.getTime() + 10 * MIN), resolvedAt: new Date(), priceAfter: '0.5', move, correct: Number(move) > 0 ? true : Number(move) < 0 ? false : null, resolvedBy: 'price' });
    }
  }

  async function triggerAndWait(): Promise<RetrainResult> {
    const s = stack();
    const handle = s.temporal.schedule.getHandle(s.config.retraining.scheduleId);
    const before = (await handle.describe()).info.recentActions.length;
    await handle.trigger();
    const desc = await waitFor(() => handle.describe(), (d) => d.info.recentActions.length > before, 'a scheduled run');
    const action = desc.info.recentActions[desc.info.recentActions.length - 1]!.action;
    return (await s.temporal.workflow.getHandle(action.workflow.workflowId).result()) as RetrainResult;
  }

  it('creates the schedule once (overlap SKIP), records an insufficient-data run, then promotes, keeps, and rejects versions on their out-of-sample edge', async () => {
    const s = stack();
    assert.deepEqual(await ensureRetrainingSchedule(s.temporal, s.config), { scheduleId: s.config.retraining.scheduleId, created: true });
    assert.equal((await ensureRetrainingSchedule(s.temporal, s.config)).created, false, 'idempotent');
    const desc = await s.temporal.schedule.getHandle(s.config.retraining.scheduleId).describe();
    assert.equal(desc.policies.overlap, 'SKIP');
    assert.equal(desc.spec.intervals?.[0]?.every, 3_600_000);

    const empty = await triggerAndWait();
    assert.equal(empty.status, 'insufficient_data');

    // Training window (30–90 min ago): spikes were followed by +10¢ twice as often as by −5¢; the test window (0–30 min) agrees.
    await addOutcomes(80, 30, ['0.10', '0.10', '-0.05']);
    await addOutcomes(25, 15, ['0.10', '0.10', '-0.05']);
    const first = await triggerAndWait();
    assert.equal(first.status, 'promoted', first.reason);
    const active = await activeVersion(s.database.db, 'model', modelName);
    assert.equal(active?.version, first.modelVersion);
    const weights = (active!.content as { weights: { type: string; category: string; weight: number; expectedMove: number; minConfidence: number }[] }).weights;
    assert.ok(weights.some((w) => w.type === 'volume_spike' && w.category === category && w.weight > 0 && w.expectedMove > 0 && w.minConfidence === s.config.signals.actionableMinConfidence), JSON.stringify(weights));

    const again = await triggerAndWait();
    assert.equal(again.status, 'unchanged', 'same data, same weights: no new version');

    // New training data shifts the weights, but the latest test window turns against the signal (after fees).
    await addOutcomes(70, 10, ['0.01']);
    await addOutcomes(10, 30, ['-0.03']);
    const third = await triggerAndWait();
    assert.equal(third.status, 'rejected', third.reason);
    const rejected = (await s.database.db.select().from(retrainingRuns).where(eq(retrainingRuns.id, third.runId)))[0]!;
    assert.equal(await currentStatus(s.database.db, 'model', rejected.modelVersionId!), 'deprecated');
    assert.equal((await activeVersion(s.database.db, 'model', modelName))?.version, first.modelVersion, 'the active version stays');

    const runs = await s.database.db.select().from(retrainingRuns).where(eq(retrainingRuns.modelName, modelName)).orderBy(retrainingRuns.id);
    assert.deepEqual(runs.map((r) => r.status), ['insufficient_data', 'promoted', 'unchanged', 'rejected']);
    assert.ok(runs[1]!.outOfSample! > 0 && runs[3]!.outOfSample! < 0);
  });

  /** One run of the workflow as of an exchange time, on its own model name (windows from the stack's config: 60 min training, 30 min test). */
  async function retrainAsOf(model: string, asOfMs: number): Promise<RetrainResult> {
    const s = stack();
    return s.temporal.workflow.execute(retrainSignalWeightsWorkflow, { args: [{ ...retrainInput(s.config, { asOfMs }), modelName: model }], taskQueue: s.config.temporal.taskQueue, workflowId: uniqueName('retrain-gate') });
  }

  // Each case in a day of 2012 of its own, so no other case's outcomes fall in its windows.
  const someDay2012 = () => Date.UTC(2012, 0, 1) + Math.floor(Math.random() * 360) * 86_400_000;

  it('rejects a candidate that loses to the active version on the same test window', async () => {
    const model = uniqueName('gate-active');
    const cat = uniqueName('gate').toLowerCase();
    const t = someDay2012();
    // As of t: spikes pay in training ($0.0155) and somewhat less in the test window ($0.0133) → v1.0 promoted (no active version).
    await addOutcomes(80, 30, ['0.10', '0.10', '-0.05'], { nowMs: t, category: cat });
    await addOutcomes(25, 15, ['0.10', '0.08', '0.06', '0.05', '-0.05'], { nowMs: t, category: cat });
    const first = await retrainAsOf(model, t);
    assert.equal(first.status, 'promoted', first.reason);
    const [firstRun] = await stack().database.db.select().from(retrainingRuns).where(eq(retrainingRuns.id, first.runId));
    assert.equal(firstRun!.outOfSample!.toFixed(1), '133.0', "v1.0's score on its own test window");
    // As of t + 60 min: the spikes go on as before, and book imbalances that pay a little less join in.
    // The candidate acts on both; the active version, judged on the same test window, on the spikes alone.
    const t2 = t + 60 * MIN;
    await addOutcomes(55, 15, ['0.10', '0.10', '-0.05'], { nowMs: t2, category: cat });
    await addOutcomes(58, 30, ['0.05'], { nowMs: t2, category: cat, type: 'book_imbalance' });
    await addOutcomes(25, 15, ['0.10', '0.10', '-0.05'], { nowMs: t2, category: cat });
    await addOutcomes(28, 15, ['0.05'], { nowMs: t2, category: cat, type: 'book_imbalance' });
    const second = await retrainAsOf(model, t2);
    assert.equal(second.status, 'rejected', second.reason);
    assert.match(second.reason, new RegExp(`does not beat the active version ${first.modelVersion}, which made \\$0\\.0155 per signal on the same test window`));
    const [run] = await stack().database.db.select().from(retrainingRuns).where(eq(retrainingRuns.id, second.runId));
    // Both scored on the candidate's window: $0.0153 per signal for the candidate, $0.0155 for the active version (spikes only).
    // Against the active version's stored score from its own window ($0.0133) the candidate would have been promoted.
    assert.equal(run!.inSample!.toFixed(1), '147.5');
    assert.equal(run!.outOfSample!.toFixed(1), '153.0');
    assert.equal(run!.activeOutOfSample!.toFixed(1), '155.0');
    assert.equal((await activeVersion(stack().database.db, 'model', model))?.version, first.modelVersion, 'the active version stays');
  });

  it('rejects a candidate whose out-of-sample edge is more than 20% below its in-sample edge', async () => {
    const model = uniqueName('gate-shortfall');
    const cat = uniqueName('gate').toLowerCase();
    const t = someDay2012();
    await addOutcomes(80, 30, ['0.10', '0.10', '-0.05'], { nowMs: t, category: cat });
    // Out of sample still positive ($0.0069 per signal) but far below in-sample ($0.0155).
    await addOutcomes(25, 18, ['0.10', '0.05', '0.05', '0.05', '0.05', '-0.05'], { nowMs: t, category: cat });
    const result = await retrainAsOf(model, t);
    assert.equal(result.status, 'rejected', result.reason);
    assert.match(result.reason, /out-of-sample \$0\.0069 per signal is more than 20% below in-sample \$0\.0155 \(retraining\.maxShortfall\)/);
    assert.equal(await activeVersion(stack().database.db, 'model', model), undefined);
  });
});
