import assert from 'node:assert/strict';
import { upsertMarketSnapshot } from '../../db/market-data-repo';
import { explainOrder } from '../../db/provenance';
import { createVersion } from '../../db/versions-repo';
import type { EntrySignal, StrategyInput, StrategySnapshot } from '../../workflows/strategy';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level } from '../support/wait';
import { signalsSignal, stopStrategyUpdate, strategyQuery, strategyWorkflow } from '../../workflows/strategy';
import { positionQuery, requestExitUpdate } from '../../workflows/position';

const lv = level;

describe('strategy workflow (real Temporal)', function () {
  this.timeout(120_000);
  const stack = useStack();

  it('applies entry rules to batched signals and starts one child position per entry with a deterministic id', async () => {
    const strategyId = uniqueName('momentum');
    const m1 = uniqueName('S1');
    const m2 = uniqueName('S2');
    for (const m of [m1, m2]) {
      stack().books.state(m).book.applySnapshot([lv('0.50', 100)], [lv('0.48', 100)], Date.now());
      stack().books.state(m).receivedAtMs = Date.now();
    }
    const input: StrategyInput = {
      strategyId,
      version: 'v1.0',
      rules: { minEdge: '0.03', maxConcurrent: 5, size: '10', entrySlippageTicks: 1, tick: '0.01', takerFeeRate: '0.07', entryTimeoutMs: 1000 },
      position: { cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 }, planConfig: { timeoutsMs: { CRITICAL: 100, HIGH: 100, MEDIUM: 100, LOW: 100 } } },
    };
    const strategyVersion = await createVersion(stack().database.db, 'strategy', strategyId, { ...input.rules });
    const modelVersion = await createVersion(stack().database.db, 'model', `${strategyId}-model`, { kind: 'momentum' });
    input.strategyVersionId = strategyVersion.id;
    input.modelVersionId = modelVersion.id;
    await upsertMarketSnapshot(stack().database.db, { venue: 'kalshi', marketTicker: m1, status: 'active', attributes: { title: 'test market' } }, Date.now());
    const handle = await stack().temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: stack().config.temporal.taskQueue, workflowId: `strategy/${strategyId}` });
    const signal = (o: Partial<EntrySignal>): EntrySignal => ({ signalId: uniqueName('sig'), market: m1, outcome: 'yes', modelProbability: '0.60', ask: '0.52', closeTimeMs: Date.now() + 3_600_000, reason: 'test', ...o });
    const good = signal({});
    await handle.signal(signalsSignal, [good, signal({ market: m1 }), signal({ market: m2, modelProbability: '0.54' }), good]);

    let state: StrategySnapshot;
    for (let i = 0; ; i++) {
      state = (await handle.query(strategyQuery));
      if (state.decisions.length >= 3) break;
      assert.ok(i < 200, 'signals were not processed');
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.deepEqual(state.decisions.map((d) => d.decision), ['entered', 'rejected', 'rejected']);
    assert.match(state.decisions[1]!.why, /already holding/);
    // Edge on m2: 0.54 − 0.52 − fee 0.0175/contract = 0.0025 < 0.03.
    assert.match(state.decisions[2]!.why, /edge 0\.0025 < 0\.03/);
    assert.deepEqual(state.positions.map((p) => p.positionId), [`position/${strategyId}/${m1}/1`]);

    const position = stack().temporal.workflow.getHandle(`position/${strategyId}/${m1}/1`);
    for (let i = 0; ((await position.query(positionQuery))).status !== 'open'; i++) {
      assert.ok(i < 200, 'child never opened');
      await new Promise((r) => setTimeout(r, 25));
    }
    await position.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await position.result();
    for (let i = 0; ((await handle.query(strategyQuery))).positions[0]!.status !== 'closed'; i++) {
      assert.ok(i < 200, 'strategy never heard the position close');
      await new Promise((r) => setTimeout(r, 25));
    }
    // Every order is attributable end to end.
    const why = (await explainOrder(stack().database.db, `position/${strategyId}/${m1}/1/exit-1/attempt-1`))!;
    assert.equal(why.strategy!.version, 'v1.0');
    assert.equal(why.model!.name, `${strategyId}-model`);
    assert.equal(why.signalId, good.signalId);
    assert.equal(why.exitReason!.reason, 'manual: manual');
    assert.equal(why.marketSnapshot!.status, 'active');
    const entryWhy = (await explainOrder(stack().database.db, `position/${strategyId}/${m1}/1/entry/attempt-1`))!;
    assert.deepEqual([entryWhy.purpose, entryWhy.exitReason], ['entry', null]);

    const stopped = (await handle.executeUpdate(stopStrategyUpdate)) as StrategySnapshot;
    assert.equal(stopped.active, false);
    assert.equal(((await handle.result()) as StrategySnapshot).positions[0]!.status, 'closed');
  });
});
