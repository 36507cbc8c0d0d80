import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { upsertMarketSnapshot } from '../../db/market-data-repo';
import { explainOrder } from '../../db/provenance';
import { strategyRuns } from '../../db/schema';
import { createVersion, transitionVersion } from '../../db/versions-repo';
import { Dec } from '../../domain/decimal';
import { tickAt } from '../../domain/signals/tick';
import type { Game } from '../../domain/sports/games';
import type { SportsModelContent } from '../../domain/sports/live-model';
import { defaultSuiteParams, GameModels } from '../../domain/sports/model-suite';
import { loadActiveGameModel, modelEdgeSignalsFromTicks } from '../../workers/sports/model-edge-source';
import { positionQuery, requestExitUpdate } from '../../workflows/position';
import { signalsSignal, strategyQuery, strategyWorkflow, type StrategyInput } from '../../workflows/strategy';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';

/** An active model version learned from games where OKC always wins. */
async function activateOkcModel(db: Database, modelName: string) {
  const params = defaultSuiteParams('nba');
  const models = new GameModels(params);
  for (let i = 0; i < 60; i++) {
    const other = ['HOU', 'LAL', 'BOS'][i % 3]!;
    const date = new Date(Date.parse('2024-11-01T00:00:00Z') + i * 86_400_000).toISOString().slice(0, 10);
    const game: Game = { line: i + 2, date, season: 2025, neutral: false, playoff: false, home: i % 2 ? 'OKC' : other, away: i % 2 ? other : 'OKC', score: i % 2 ? { home: 120, away: 100 } : { home: 100, away: 120 } };
    models.record(game);
  }
  const content: SportsModelContent = { kind: 'sports-ensemble', league: 'nba', trainedFrom: '2024-11-01', trainedThrough: '2024-12-30', params, state: models.exportState(), regression: null };
  const version = await createVersion(db, 'model', modelName, content as unknown as Record<string, unknown>);
  for (const to of ['training', 'validating', 'active']) await transitionVersion(db, 'model', version.id, to, 'test');
  return version;
}

const RUNNING_MODEL = uniqueName('nba-ensemble');

describe('sports live path: active model version → model-edge signal → strategy and position workflows (real Temporal)', function () {
  this.timeout(120_000);
  const stack = useStack({ 'sports.model': RUNNING_MODEL, 'sports.modelRefreshMs': 50, 'signals.batchMs': 50 });

  it('prices a Kalshi game market with the active model version, enters with Kelly sizing, and the position records the model version', async () => {
    const db = stack().database.db;
    const modelName = uniqueName('nba-ensemble');
    const version = await activateOkcModel(db, modelName);
    const model = (await loadActiveGameModel(db, modelName))!;
    assert.equal(model.versionId, version.id);

    // The Kalshi market: OKC to beat HOU, offered at 0.55 (NO bids at 0.45).
    const market = 'KXNBAGAME-25OCT21HOUOKC-OKC';
    const book = stack().books.state(market);
    book.book.applySnapshot([level('0.53', 500)], [level('0.45', 500)], Date.now());
    book.receivedAtMs = Date.now();
    const tick = tickAt(stack().books, market, Date.now(), [])!;
    const closeTimeMs = Date.now() + 6 * 3_600_000;
    const { signals, rejected } = modelEdgeSignalsFromTicks([tick], model, { minEdge: new Dec('0.05'), minConfidence: 0.7 }, () => closeTimeMs);
    assert.deepEqual(rejected, {});
    assert.equal(signals.length, 1);
    const signal = signals[0]!;
    assert.deepEqual([signal.outcome, signal.ask, signal.type], ['yes', '0.5500', 'model_edge']);
    assert.ok(Number(signal.modelProbability) > 0.8, signal.reason);
    assert.match(signal.reason, new RegExp(`${modelName} v1\\.0: P\\(OKC\\) 0\\.\\d{3} vs ask 0\\.55, edge 0\\.\\d{4}`));

    // The same strategy workflow as every other strategy, Kelly-sized, paper venue, risk-checked entries.
    const strategyId = uniqueName('model-edge');
    const input: StrategyInput = {
      strategyId,
      version: 'v1.0',
      modelVersionId: model.versionId,
      rules: { minEdge: '0.05', maxConcurrent: 5, size: '50', entrySlippageTicks: 1, tick: '0.01', takerFeeRate: '0.07', entryTimeoutMs: 2000, sizing: { kind: 'kelly', kellyFraction: '0.25', capital: '1000' } },
      position: { cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 }, planConfig: { timeoutsMs: { CRITICAL: 100, HIGH: 100, MEDIUM: 100, LOW: 100 } } },
    };
    const handle = await stack().temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: stack().config.temporal.taskQueue, workflowId: `strategy/${strategyId}` });
    await handle.signal(signalsSignal, [signal, signal]);
    const state = await waitFor(() => handle.query(strategyQuery), (s) => s.decisions.length >= 1, 'decision');
    assert.equal(state.decisions[0]!.decision, 'entered', state.decisions[0]!.why);
    assert.match(state.decisions[0]!.why, /edge 0\.\d{4} \(.*P\(OKC\)/);
    const positionId = `position/${strategyId}/${market}/1`;
    const position = stack().temporal.workflow.getHandle(positionId);
    await waitFor(() => position.query(positionQuery), (p) => p.status === 'open', 'position open');
    await position.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await position.result();
    const why = (await explainOrder(db, `${positionId}/entry/attempt-1`))!;
    assert.deepEqual([why.model?.name, why.model?.version, why.signalId], [modelName, 'v1.0', signal.signalId]);
    assert.ok(Number(why.size) > 0 && Number(why.size) <= 50, `Kelly size ${why.size}`);
  });

  it("on the running path: market data for a game market reaches the signal worker, the active model prices it, and a subscribed model-edge strategy enters", async () => {
    const db = stack().database.db;
    const version = await activateOkcModel(db, RUNNING_MODEL);
    const market = 'KXNBAGAME-25OCT22LALOKC-OKC';
    await upsertMarketSnapshot(db, { venue: 'kalshi', marketTicker: market, eventTicker: 'KXNBAGAME-25OCT22LALOKC', status: 'active', attributes: { close_time: new Date(Date.now() + 6 * 3_600_000).toISOString() } }, Date.now());
    const strategyId = uniqueName('model-edge-live');
    const workflowId = `strategy/${strategyId}`;
    const input: StrategyInput = {
      strategyId,
      version: 'v1.0',
      modelVersionId: version.id,
      rules: { minEdge: '0.05', maxConcurrent: 5, size: '10', entrySlippageTicks: 1, tick: '0.01', takerFeeRate: '0.07', entryTimeoutMs: 2000 },
      position: { cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 }, planConfig: { timeoutsMs: { CRITICAL: 100, HIGH: 100, MEDIUM: 100, LOW: 100 } } },
    };
    const handle = await stack().temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: stack().config.temporal.taskQueue, workflowId });
    await db.insert(strategyRuns).values({ workflowId, strategyVersionId: 0, venue: 'paper', feed: 'live', signalTypes: ['model_edge'], categories: [], status: 'running' });
    // The book arrives like any feed's: published into the partitions, applied by the book worker.
    const publisher = stack().createPublisher(uniqueName('game-feed'));
    await publisher.publish({ t: 'snapshot', m: market, ts: Date.now(), yes: [['0.5300', '500.00']], no: [['0.4500', '500.00']] });
    await publisher.flush();
    const state = await waitFor(() => handle.query(strategyQuery), (s) => s.decisions.length >= 1, 'a model-edge decision from the running pipeline');
    assert.equal(state.decisions[0]!.decision, 'entered', state.decisions[0]!.why);
    assert.match(state.decisions[0]!.why, new RegExp(`${RUNNING_MODEL} v1\\.0: P\\(OKC\\)`));
    const position = stack().temporal.workflow.getHandle(`position/${strategyId}/${market}/1`);
    await waitFor(() => position.query(positionQuery), (p) => p.status === 'open', 'position open');
    await position.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await position.result();
    // `kestrel why` on the entry: the model version, and the recorded signal with its probability and edge.
    const why = (await explainOrder(db, `position/${strategyId}/${market}/1/entry/attempt-1`))!;
    assert.deepEqual([why.model?.name, why.model?.version, why.signal?.type], [RUNNING_MODEL, 'v1.0', 'model_edge']);
    const inputs = why.signal!.inputs as { modelProbability: string; ask: string; edge: string };
    assert.equal(inputs.edge, new Dec(inputs.modelProbability).minus(inputs.ask).toFixed(4));
    assert.match(why.signal!.reason!, /P\(OKC\) 0\.\d{3} vs ask 0\.\d{2}, edge 0\.\d{4}/);
    await db.update(strategyRuns).set({ status: 'stopped' }).where(eq(strategyRuns.workflowId, workflowId));
  });
});
