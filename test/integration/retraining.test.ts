import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { retrainingRuns, signalOutcomes, signals } from '../../db/schema';
import { registerSignalConfig } from '../../db/signals-repo';
import { activeVersion, currentStatus } from '../../db/versions-repo';
import { ensureRetrainingSchedule } from '../../runtime/retraining-schedule';
import type { RetrainResult } from '../../workflows/retraining';
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

  /** Synthetic resolved outcomes (a test fixture, not market data): `n` volume spikes fired `minutesAgo`, moving `moves[i % len]` dollars. */
  async function addOutcomes(minutesAgo: number, n: number, moves: string[]) {
    const db = stack().database.db;
    const hash = await registerSignalConfig(db, { fixture: 'retraining-test' });
    for (let i = 0; i < n; i++) {
      const firedAt = new Date(Date.now() - minutesAgo * MIN + i * 1000);
      const [row] = await db
        .insert(signals)
        .values({ signalKey: uniqueName('sig'), type: 'volume_spike', marketTicker: `${category}-M`, markets: [`${category}-M`], category, direction: 'yes', strength: 3, confidence: 0.8, priority: 'HIGH', firedAt, midAtFire: '0.50000', inputs: { fixture: true }, configHash: hash, source: 'retraining-test' })
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

    // Training window (30–90 min ago): spikes were followed by +2¢ twice as often as by −1¢; the test window (0–30 min) agrees.
    await addOutcomes(80, 30, ['0.02', '0.02', '-0.01']);
    await addOutcomes(25, 15, ['0.02', '0.01', '-0.01']);
    const first = await triggerAndWait();
    assert.equal(first.status, 'promoted', first.reason);
    const active = await activeVersion(s.database.db, 'model', modelName);
    assert.equal(active?.version, first.modelVersion);
    const weights = (active!.content as { weights: { type: string; category: string; weight: number; expectedMove: number }[] }).weights;
    assert.ok(weights.some((w) => w.type === 'volume_spike' && w.category === category && w.weight > 0 && w.expectedMove > 0));

    const again = await triggerAndWait();
    assert.equal(again.status, 'unchanged', 'same data, same weights: no new version');

    // New training data shifts the weights, but the latest test window turns against the signal.
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
});
