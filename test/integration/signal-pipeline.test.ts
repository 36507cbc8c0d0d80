import assert from 'node:assert/strict';
import { and, eq, inArray } from 'drizzle-orm';
import { upsertMarketSnapshot } from '../../db/market-data-repo';
import { positions, signalOutcomes, signals, strategyRuns } from '../../db/schema';
import { RecordedSettlements } from '../../db/settlements';
import { resolveDueOutcomes } from '../../db/signals-repo';
import { createVersion, transitionVersion } from '../../db/versions-repo';
import { Dec } from '../../domain/decimal';
import type { MarketEvent } from '../../domain/market-data/events';
import { seededRandom } from '../../domain/random';
import type { MarketTick } from '../../domain/signals/types';
import { createRedis } from '../../workers/redis';
import { decodeCheckpoint } from '../../workers/signals/checkpoint-codec';
import { engineCheckpointKey } from '../../workers/signals/engine-checkpoint';
import { createSignalEngine } from '../../domain/signals/settings';
import { SIGNAL_MODEL, startSignalPipeline, type SignalPipeline } from '../../workers/signals/pipeline';
import { enqueueTicks, tickToWire, type SignalTickBatch } from '../../workers/signals/signal-queue';
import { signalShardOf, type ShardOwnership } from '../../workers/signals/shards';
import { partitionLeaseKey } from '../../workers/market-data/partition-leases';
import type { StrategyInput } from '../../workflows/strategy';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { waitFor } from '../support/wait';
import { stopStrategyUpdate, strategyQuery, strategyWorkflow } from '../../workflows/strategy';
import { positionQuery, requestExitUpdate } from '../../workflows/position';

/** Activates a model version whose weights say `type` is followed by a +$0.08 move (a test model, not a trained one). */
async function activateWeights(db: Parameters<typeof createVersion>[0], category: string) {
  const v = await createVersion(db, 'model', SIGNAL_MODEL, { weights: [{ type: 'book_imbalance', category, winRate: 0.6, expectedMove: 800, weight: 0.2, count: 100 }] });
  for (const to of ['training', 'validating', 'active']) await transitionVersion(db, 'model', v.id, to, 'test');
  return v;
}

describe('signal pipeline: BullMQ signal worker → Postgres → batched to strategies (real services)', function () {
  this.timeout(90_000);
  const stack = useStack({
    'signals.thresholds.windowMs': 1000,
    'signals.thresholds.baselineWindows': 2,
    'signals.thresholds.imbalanceMinDepth': 10,
    'signals.thresholds.cooldownMs': 60_000,
    'signals.horizonsMs': '1000,3000',
    'signals.actionableTypes': 'book_imbalance',
    'signals.batchMs': 200,
    'signals.correlation.sampleMs': 1000,
    'signals.correlation.windowsMs': '5000,20000',
  });

  it('detects an order-book imbalance, persists it with its inputs and config, sends it to the subscribed strategy once, and resolves its outcomes', async () => {
    const s = stack();
    const db = s.database.db;
    const market = `${uniqueName('SIGT')}-26NOV23-T1`;
    const category = market.split('-')[0]!.toLowerCase();
    const now = Date.now();
    await upsertMarketSnapshot(db, { venue: 'sim', marketTicker: market, status: 'active', attributes: { close_time: new Date(now + 3_600_000).toISOString() } }, now);
    const model = await activateWeights(db, category);

    const strategyId = uniqueName('sigstrat');
    const input: StrategyInput = {
      strategyId,
      version: 'v1.0',
      rules: { minEdge: '0.02', maxConcurrent: 1, size: '5', entrySlippageTicks: 1, tick: '0.01', takerFeeRate: '0.07', entryTimeoutMs: 2000 },
      position: { cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } },
    };
    const workflowId = `strategy/${strategyId}`;
    const strategy = await s.temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: s.config.temporal.taskQueue, workflowId });
    await db.insert(strategyRuns).values({ workflowId, strategyVersionId: 0, venue: 'paper', feed: 'test', signalTypes: ['book_imbalance'], categories: [], status: 'running' });

    // A bid-heavy book (YES bids 600 vs asks 30 at the top three levels), then quiet deltas that close windows.
    const publisher = s.createPublisher(uniqueName('sigsrc'));
    const events: MarketEvent[] = [{ t: 'snapshot', m: market, ts: now, yes: [['0.50', '300'], ['0.49', '200'], ['0.48', '100']], no: [['0.48', '10'], ['0.47', '10'], ['0.46', '10']] }];
    for (let k = 1; k <= 12; k++) events.push({ t: 'delta', m: market, ts: now + k * 500, side: 'yes', price: '0.40', delta: k % 2 ? '1' : '-1' });
    // One batch per event, as a live feed trickles in (a batch becomes one tick per market).
    for (const e of events) {
      await publisher.publish(e);
      await publisher.flush();
    }

    const [row] = await waitFor(() => db.select().from(signals).where(and(eq(signals.marketTicker, market), eq(signals.type, 'book_imbalance'))), (r) => r.length > 0, 'imbalance signal persisted');
    assert.equal(row!.direction, 'yes');
    assert.equal(row!.actionable, true);
    assert.equal(row!.configHash, s.signals.configHash);
    assert.equal(row!.midAtFire, '0.51000');
    assert.deepEqual((row!.inputs as { bidSizes: number[] }).bidSizes.length, 3);

    const snap = await waitFor(() => strategy.query(strategyQuery), (x) => x.decisions.length > 0, 'strategy decided on the signal');
    assert.equal(snap.decisions.length, 1, 'one actionable signal, sent once');
    assert.equal(snap.decisions[0]!.signalId, `signal:${row!.id}`);
    assert.equal(snap.decisions[0]!.decision, 'entered', snap.decisions[0]!.why);
    const position = s.temporal.workflow.getHandle(snap.positions[0]!.positionId);
    await waitFor(() => position.query(positionQuery), (p) => p.status === 'open', 'position open');
    await position.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'test over' }] });
    await position.result();
    await strategy.executeUpdate(stopStrategyUpdate);
    // Provenance: the position names the model version whose weights made the signal actionable, and the signal row.
    const [recorded] = await db.select({ modelVersionId: positions.modelVersionId, signalId: positions.signalId }).from(positions).where(eq(positions.positionId, snap.positions[0]!.positionId));
    assert.deepEqual(recorded, { modelVersionId: model.id, signalId: `signal:${row!.id}` });

    // Outcomes: price history reaches past +1 s and +3 s; the mid stayed at 0.51.
    const resolved = await resolveDueOutcomes(db, new RecordedSettlements(db));
    assert.ok(resolved.resolved >= 2, JSON.stringify(resolved));
    const outcomes = await db.select().from(signalOutcomes).where(eq(signalOutcomes.signalId, row!.id)).orderBy(signalOutcomes.horizonMs);
    assert.deepEqual(
      outcomes.map((o) => [o.horizonMs, o.resolvedBy, new Dec(o.move!).toString(), o.correct]),
      [
        [1000, 'price', '0', null],
        [3000, 'price', '0', null],
      ],
    );
  });

  it('rejects a malformed tick batch without losing it (failed job kept with its data)', async () => {
    const s = stack();
    const job = await s.signals.queue.add('ticks', { source: 'x', partition: 0, batchSeq: 1, ticks: [{ m: 'M', ts: 1, yesBids: [['1.5x', '1']], noBids: [], trades: [] }] } as never);
    const failed = await waitFor(() => s.signals.queue.getJob(job.id!), (j) => j?.failedReason !== undefined && j.failedReason !== '', 'job failed');
    assert.match(failed!.failedReason, /malformed tick batch/);
    assert.equal(await failed!.getState(), 'failed');
    assert.equal(failed!.attemptsMade, 1, 'not retried: retrying cannot fix it');
  });

  /** Three markets of one event: independent walks, with stretches where they move together on heavier volume. */
  function tickBatches(event: string, count: number, startMs: number): MarketTick[][] {
    const rand = seededRandom(5);
    const markets = ['A', 'B', 'C'].map((x) => `${event}-${x}`);
    const mids = markets.map(() => 5000);
    return Array.from({ length: count }, (_, step) => {
      const together = (step >= 28 && step < 40) || (step >= 96 && step < 108);
      const common = Math.round((rand() - 0.5) * 300);
      return markets.map((market, i) => {
        mids[i] = Math.min(9000, Math.max(1000, mids[i]! + (together ? common : Math.round((rand() - 0.5) * 300))));
        const ts = startMs + step * 1000 + 500;
        return { market, ts, yesBids: [{ price: mids[i]! - 50, size: 40 + Math.round(rand() * 40) }], noBids: [{ price: 10_000 - mids[i]! - 50, size: 40 + Math.round(rand() * 40) }], trades: [{ ts, price: mids[i]!, count: together ? 60 : 10, takerSide: 'yes' as const }] };
      });
    });
  }

  it('carries the engine across restarts: a checkpoint at shutdown, and after a crash the last checkpoint plus the batches completed since', async () => {
    const s = stack();
    const db = s.database.db;
    // Baselines longer than a run between restarts: an engine that forgot them would see other things.
    const signalConfig = { ...s.config.signals, queueName: uniqueName('sigckpt'), checkpointMs: 3_600_000, thresholds: { ...s.config.signals.thresholds, baselineWindows: 20 }, correlation: { ...s.config.signals.correlation, windowsMs: [5000, 60_000] } };
    const config = { ...s.config, signals: signalConfig };
    const event = `${uniqueName('CKPT')}-26NOV23`;
    const batches = tickBatches(event, 120, Date.now() - 200_000);
    const markets = batches[0]!.map((t) => t.market);
    const key = engineCheckpointKey(config.redis.keyPrefix, config.signals.queueName);
    const connections: ReturnType<typeof createRedis>[] = [];
    const start = (c = config) => {
      const workerConnection = createRedis(c.redis.url, 'worker');
      connections.push(workerConnection);
      return startSignalPipeline({ config: c, db, books: s.books, temporal: s.temporal, connection: s.redis, workerConnection, log: () => {} });
    };
    const feed = async (pipeline: SignalPipeline, from: number, to: number) => {
      for (let b = from; b < to; b++) await enqueueTicks(pipeline.queue, { source: 'ckpt-test', partition: 0, batchSeq: b, ticks: batches[b]!.map(tickToWire) });
      await waitFor(() => pipeline.queue.getJobCounts('completed', 'failed'), (c) => c.completed === to && c.failed === 0, `batches up to ${to} done`);
    };
    try {
      const first = await start();
      assert.equal(first.shards.restored(0)!.outcome, 'fresh');
      await feed(first, 0, 40);
      await first.close(); // checkpoint at batch 40
      const atForty = await s.redis.getBuffer(key);
      assert.ok(atForty, 'a checkpoint was written at shutdown');

      const second = await start();
      assert.deepEqual({ ...second.shards.restored(0)!, epoch: undefined }, { outcome: 'restored', epoch: undefined, checkpointSeq: 40, replayed: 0, missing: 0 });
      await feed(second, 40, 80);
      await second.close();
      // A crash after batch 80: its last checkpoint is the one at 40; batches 41..80 completed since.
      await s.redis.set(key, atForty);

      const third = await start();
      assert.deepEqual({ ...third.shards.restored(0)!, epoch: undefined }, { outcome: 'restored', epoch: undefined, checkpointSeq: 40, replayed: 40, missing: 0 });
      await feed(third, 80, 120);
      await third.close();

      // The same ticks through one engine that never stopped.
      const reference = createSignalEngine(config.signals);
      const expected = batches.flatMap((ticks) => reference.onTicks(ticks)).map((x) => x.key).sort();
      const stored = (await db.select({ key: signals.signalKey }).from(signals).where(inArray(signals.marketTicker, markets))).map((r) => r.key).sort();
      const firedAfterCrash = (keys: string[]) => keys.filter((k) => Number(k.split(':').pop()) > batches[79]![0]!.ts);
      assert.ok(firedAfterCrash(expected).some((k) => k.startsWith('correlation_spike:')), 'cross-market spikes after the crash');
      assert.deepEqual(stored, expected);
      // An engine started empty after the crash fires differently (its volume baseline is not full for 20 windows).
      const forgetful = createSignalEngine(config.signals);
      const forgetfulKeys = batches.slice(80).flatMap((ticks) => forgetful.onTicks(ticks)).map((x) => x.key);
      assert.notDeepEqual(forgetfulKeys.sort(), firedAfterCrash(expected));

      // A checkpoint that cannot be used is kept aside, said so, and the engine starts empty.
      await s.redis.set(key, '{"detection": "other", "epoch": "x", "seq": 1, "savedAtMs": 0, "engine": {}}');
      const fourth = await start();
      assert.equal(fourth.shards.restored(0)!.outcome, 'discarded');
      assert.match(fourth.shards.restored(0)!.why ?? '', /detection settings changed/);
      assert.equal(await s.redis.get(key), null);
      const kept = await s.redis.keys(`${key}:discarded:*`);
      assert.equal(kept.length, 1);
      await fourth.close();
      await s.redis.del(key, ...kept);

      // While running, a checkpoint is taken once checkpointMs has passed since the last (here 1 ms: nearly every batch).
      const often = { ...config, signals: { ...signalConfig, queueName: uniqueName('sigckpt'), checkpointMs: 1 } };
      const fifth = await start(often);
      await feed(fifth, 0, 10);
      const saved = await s.redis.getBuffer(engineCheckpointKey(often.redis.keyPrefix, often.signals.queueName));
      const running = (saved ? decodeCheckpoint(saved) : {}) as { seq?: number; epoch?: string };
      assert.ok(running.seq !== undefined && running.seq >= 1 && running.seq <= 10, `a checkpoint while running (${running.seq})`);
      assert.equal(running.epoch, fifth.shards.restored(0)!.epoch);
      await fifth.close();
      await s.redis.del(engineCheckpointKey(often.redis.keyPrefix, often.signals.queueName));
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });
  it('shards by event: 2 shards, markets of two events, each shard consumed and checkpointed on its own; a new owner of one shard restores it exactly', async () => {
    const s = stack();
    const db = s.database.db;
    const signalConfig = { ...s.config.signals, queueName: uniqueName('sigshard'), shards: 2, checkpointMs: 3_600_000, thresholds: { ...s.config.signals.thresholds, baselineWindows: 20 }, correlation: { ...s.config.signals.correlation, windowsMs: [5000, 60_000] } };
    const config = { ...s.config, signals: signalConfig };
    // One event per shard (the shard is a hash of the event ticker).
    const eventOn = (shard: number) => {
      for (;;) {
        const event = `${uniqueName('SHRD')}-26NOV23`;
        if (signalShardOf(`${event}-A`, 2) === shard) return event;
      }
    };
    const events = [eventOn(0), eventOn(1)];
    const startMs = Date.now() - 200_000;
    const perEvent = events.map((e) => tickBatches(e, 120, startMs));
    // Each applied market-data batch carries ticks of both events, as one book-worker batch would.
    const batches = perEvent[0]!.map((ticks, b) => [...ticks, ...perEvent[1]![b]!]);
    const marketsOf = (shard: number) => perEvent[shard]![0]!.map((t) => t.market);
    /** This process owns exactly these shards (another process would own the rest). */
    const owning = (owned: number[]): ShardOwnership => {
      let handlers: Parameters<ShardOwnership['start']>[0] | undefined;
      return {
        async start(h) {
          handlers = h;
          for (const shard of owned) await h.acquired(shard);
        },
        async close() {
          for (const shard of owned) await handlers?.released(shard);
        },
      };
    };
    const connections: ReturnType<typeof createRedis>[] = [];
    const start = (ownership: ShardOwnership) => {
      const workerConnection = createRedis(config.redis.url, 'worker');
      connections.push(workerConnection);
      return startSignalPipeline({ config, db, books: s.books, temporal: s.temporal, connection: s.redis, workerConnection, ownership, log: () => {} });
    };
    const completed = (pipeline: SignalPipeline, shard: number, count: number) =>
      waitFor(() => pipeline.queues[shard]!.getJobCounts('completed', 'failed'), (c) => c.completed === count && c.failed === 0, `shard ${shard}: ${count} batches done`);
    const feed = async (pipeline: SignalPipeline, from: number, to: number) => {
      for (let b = from; b < to; b++) await pipeline.shards.enqueue({ source: 'shard-test', partition: 0, batchSeq: b }, batches[b]!.map(tickToWire));
    };
    const checkpointMarkets = async (pipeline: SignalPipeline, shard: number) => {
      const bytes = await s.redis.getBuffer(pipeline.shards.checkpointKey(shard));
      assert.ok(bytes, `shard ${shard} has a checkpoint`);
      const checkpoint = decodeCheckpoint(bytes) as { seq: number; shards: number; engine: { trackers: { market: string }[] } };
      return { seq: checkpoint.seq, shards: checkpoint.shards, markets: checkpoint.engine.trackers.map((t) => t.market).sort() };
    };
    try {
      const first = await start(owning([0, 1]));
      assert.deepEqual(first.shards.ownedShards(), [0, 1]);
      assert.notEqual(first.shards.checkpointKey(0), first.shards.checkpointKey(1));
      await feed(first, 0, 40);
      await Promise.all([completed(first, 0, 40), completed(first, 1, 40)]);
      // Each shard's queue holds only its own event's markets.
      for (const shard of [0, 1]) {
        const jobs = await first.queues[shard]!.getJobs(['completed']);
        const seen = new Set(jobs.flatMap((j) => (j.data as SignalTickBatch).ticks.map((t) => t.m)));
        assert.deepEqual([...seen].sort(), marketsOf(shard).sort(), `shard ${shard} queue`);
      }

      // Shard 1 changes hands (its process stops): it checkpoints alone; shard 0 runs on.
      await first.shards.released(1);
      assert.deepEqual(first.shards.ownedShards(), [0]);
      assert.deepEqual(await checkpointMarkets(first, 1), { seq: 40, shards: 2, markets: marketsOf(1).sort() });
      assert.equal(await s.redis.exists(first.shards.checkpointKey(0)), 0, 'shard 0 has not checkpointed yet');
      await feed(first, 40, 80);
      await completed(first, 0, 80);
      assert.equal((await first.queues[1]!.getJobCounts('waiting')).waiting, 40, 'shard 1 waits for an owner');

      // Another process takes shard 1: it restores exactly the checkpoint, then catches up on what waited.
      const second = await start(owning([1]));
      assert.deepEqual(second.shards.ownedShards(), [1]);
      assert.deepEqual({ ...second.shards.restored(1)!, epoch: undefined }, { outcome: 'restored', epoch: undefined, checkpointSeq: 40, replayed: 0, missing: 0 });
      await completed(second, 1, 80);
      await feed(first, 80, 120);
      await Promise.all([completed(first, 0, 120), completed(second, 1, 120)]);
      await Promise.all([first.close(), second.close()]);
      assert.deepEqual(await checkpointMarkets(first, 0), { seq: 120, shards: 2, markets: marketsOf(0).sort() });
      assert.deepEqual(await checkpointMarkets(second, 1), { seq: 120, shards: 2, markets: marketsOf(1).sort() });

      // The two shards together fired exactly what one engine over all the ticks fires.
      const reference = createSignalEngine(config.signals);
      const expected = batches.flatMap((ticks) => reference.onTicks(ticks)).map((x) => x.key).sort();
      const stored = (await db.select({ key: signals.signalKey }).from(signals).where(inArray(signals.marketTicker, [...marketsOf(0), ...marketsOf(1)]))).map((r) => r.key).sort();
      for (const event of events) assert.ok(expected.some((k) => k.startsWith('correlation_spike:') && k.includes(event)), `correlation spikes inside ${event}`);
      assert.deepEqual(stored, expected);

      // Another shard count puts markets on other shards: the old checkpoints are not used.
      const resharded = { ...config, signals: { ...signalConfig, shards: 1, queueName: first.shards.queueName(1) } };
      const workerConnection = createRedis(config.redis.url, 'worker');
      connections.push(workerConnection);
      const third = await startSignalPipeline({ config: resharded, db, books: s.books, temporal: s.temporal, connection: s.redis, workerConnection, log: () => {} });
      assert.equal(third.shards.restored(0)!.outcome, 'discarded');
      assert.match(third.shards.restored(0)!.why ?? '', /signals.shards changed since the checkpoint \(2, now 1\)/);
      await third.close();
    } finally {
      await Promise.all(connections.map((c) => c.quit()));
    }
  });

  it('takes its shards by Redis lease, and a process that lost a shard\'s lease writes no checkpoint for it', async () => {
    const s = stack();
    const config = { ...s.config, signals: { ...s.config.signals, queueName: uniqueName('siglease'), shards: 2, checkpointMs: 3_600_000 } };
    const workerConnection = createRedis(config.redis.url, 'worker');
    const lines: string[] = [];
    try {
      const pipeline = await startSignalPipeline({ config, db: s.database.db, books: s.books, temporal: s.temporal, connection: s.redis, workerConnection, log: (line) => lines.push(line) });
      assert.deepEqual(pipeline.shards.ownedShards(), [0, 1], 'the only live process takes every shard');
      assert.ok(lines.some((l) => /^signal shards owned by .*: \[0, 1\] of 2/.test(l)), lines.join('\n'));
      const leaseKeys = [0, 1].map((shard) => partitionLeaseKey(config.redis.keyPrefix, `signals:${config.signals.queueName}`, shard));
      const owner = await s.redis.get(leaseKeys[0]!);
      assert.ok(owner && owner === (await s.redis.get(leaseKeys[1]!)), 'both leases held by this process');
      // Shard 1 is taken over behind this process's back (it was cut off): its checkpoint stays the new owner's to write.
      await s.redis.set(leaseKeys[1]!, 'another-process', 'PX', 60_000);
      await pipeline.close();
      assert.ok(await s.redis.exists(pipeline.shards.checkpointKey(0)), 'shard 0 checkpointed at shutdown');
      assert.equal(await s.redis.exists(pipeline.shards.checkpointKey(1)), 0, 'no checkpoint written without the lease');
      assert.ok(lines.some((l) => /shard 1 checkpoint at release failed: not written: the shard's lease .* is no longer held/.test(l)), lines.join('\n'));
      await s.redis.del(leaseKeys[1]!, pipeline.shards.checkpointKey(0));
    } finally {
      await workerConnection.quit();
    }
  });
});
