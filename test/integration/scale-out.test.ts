import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { MarketEvent } from '../../domain/market-data/events';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { listRecordedMarkets } from '../../venues/replay/gold-feed';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { partitionOf } from '../../workers/market-data/partitions';
import { createRedis } from '../../workers/redis';
import { getHarness, SHARED_DATA_DIR, uniqueName } from '../support/harness';
import { auditCheckpoints, divergedBooks, killWorker, openWalkingPosition, owners, positionVerdict, publishAll, referenceBooks, spawnScaleWorker, stopWorker, waitForBalance, WALK_BOOK, type ScaleEnv, type ScaleWorker } from '../support/scale-out';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');

describe('scale-out: 3 worker processes share the partitions, one is killed, one joins (real Redis/Postgres/Temporal)', function () {
  this.timeout(600_000);
  let redis: Redis;
  let database: DatabaseHandle;
  let bundleDir: string;
  const workers: ScaleWorker[] = [];
  const lines: string[] = [];

  before(async () => {
    const harness = await getHarness();
    redis = createRedis(harness.redisUrl, 'producer');
    database = openDatabase(harness.databaseUrl, { max: 2 });
    bundleDir = mkdtempSync(path.join(tmpdir(), 'kestrel-scale-'));
    writeFileSync(path.join(bundleDir, 'workflows.js'), harness.workflowBundle.code);
  });

  after(async () => {
    await Promise.all(workers.map(killWorker));
    if (redis) {
      const env = envOf;
      if (env) {
        const keys = await redis.keys(`${env.redisPrefix}:*`);
        for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      }
      redis.disconnect();
    }
    await database?.close();
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  let envOf: ScaleEnv | undefined;

  it('applies every event exactly once and in order, rebuilds identical books, finishes every position without duplicate orders', async () => {
    const harness = await getHarness();
    const positionMarkets = ['SCALE-A', 'SCALE-B'].map((m) => uniqueName(m).toUpperCase());
    const env: ScaleEnv = (envOf = {
      databaseUrl: harness.databaseUrl,
      redisUrl: harness.redisUrl,
      temporalAddress: harness.temporalAddress,
      taskQueue: uniqueName('tq-scale'),
      redisPrefix: uniqueName('kestrel-scale'),
      queueBase: 'md',
      partitions: 6,
      leaseTtlMs: 1500,
      workflowBundlePath: path.join(bundleDir, 'workflows.js'),
      seedBooks: Object.fromEntries(positionMarkets.map((m) => [m, WALK_BOOK])),
    });
    const log = (line: string) => lines.push(line);

    const events: MarketEvent[] = [];
    // Three recorded markets on three different partitions, so the kill and the join move work that exists.
    const markets: string[] = [];
    for (const m of listRecordedMarkets(GOLD)) if (markets.length < 3 && !markets.some((o) => partitionOf(o, env.partitions) === partitionOf(m, env.partitions))) markets.push(m);
    await replayKalshiRecording({ dataDir: GOLD, markets, pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
    const reference = referenceBooks(events);

    workers.push(...(await Promise.all([0, 1, 2].map(() => spawnScaleWorker(env, log)))));
    await waitForBalance(redis, env, workers.map((w) => w.owner));
    const held = await owners(redis, env);
    assert.deepEqual(workers.map((w) => held.filter((o) => o === w.owner).length), [2, 2, 2], 'three processes take two partitions each');

    const positions = await Promise.all(positionMarkets.map((m) => openWalkingPosition(harness.env.client, env.taskQueue, m)));

    // The recording is published slowly enough to kill a process a third of the way in and start one two thirds in.
    // The victim: the owner of the partition being fed at that moment (the markets trade one after another).
    let busiest = -1;
    let victim = workers[0]!;
    let killed = false;
    let failover: Promise<number> | undefined;
    let joining: Promise<ScaleWorker> | undefined;
    const source = 'scale-test';
    const { publisher, batchEvents, lastBatch } = await publishAll(redis, env, source, events, {
      batchSize: 500,
      pace: { every: 2000, pauseMs: 250 },
      onProgress: async (published) => {
        if (!killed && published >= events.length / 3) {
          busiest = partitionOf(events[published - 1]!.m, env.partitions);
          const holder = (await owners(redis, env))[busiest];
          victim = workers.find((w) => w.owner === holder) ?? victim;
          await killWorker(victim);
          killed = true;
          // From the kill until the survivors hold every partition.
          failover = waitForBalance(redis, env, workers.filter((w) => w !== victim).map((w) => w.owner), 20_000);
        }
        if (!joining && published >= (2 * events.length) / 3) joining = spawnScaleWorker(env, log);
      },
    });
    const failoverMs = await failover!;
    assert.ok(failoverMs <= env.leaseTtlMs * 3, `the victim's partitions were taken over within ${failoverMs} ms`);
    await publisher.waitUntilApplied(redis, 20);
    const joiner = await joining!;
    workers.push(joiner);
    const live = workers.filter((w) => w !== victim);
    await waitForBalance(redis, env, live.map((w) => w.owner));
    assert.ok((await owners(redis, env)).includes(joiner.owner), 'the process that joined took a share');
    await publisher.close();

    const audit = auditCheckpoints(workers.flatMap((w) => w.checkpoints), source, lastBatch, batchEvents);
    assert.equal(audit.batches, lastBatch.reduce((n, last) => n + last + 1, 0));
    assert.deepEqual({ lost: audit.lostEvents, duplicate: audit.duplicateEvents, outOfOrder: audit.outOfOrder }, { lost: 0, duplicate: 0, outOfOrder: 0 }, JSON.stringify(audit));
    // The victim had checkpointed the partition being fed before it died, and another process went on from there.
    const victimLast = Math.max(...victim.checkpoints.filter((c) => c.partition === busiest).map((c) => c.batchSeq));
    assert.ok(victimLast >= 0 && victimLast < lastBatch[busiest]!, `victim checkpointed ${busiest} up to ${victimLast} of ${lastBatch[busiest]}`);
    assert.ok(live.some((w) => w.checkpoints.some((c) => c.partition === busiest && c.batchSeq === victimLast + 1)), 'a survivor continued the partition right after the victim\'s last checkpoint');
    assert.deepEqual(await divergedBooks(redis, env, reference), []);

    for (const handle of positions) assert.deepEqual(await positionVerdict(handle, database.db), { finished: true, duplicateOrders: 0, status: 'closed' }, handle.workflowId);

    // Each process said what it owns as that changed.
    for (const w of workers) assert.ok(w.lines.some((l) => l.startsWith(`market-data partitions owned by ${w.owner}: [`)), `${w.owner} logged its partitions`);
    await Promise.all(live.map(stopWorker));
    assert.deepEqual(await owners(redis, env), Array.from({ length: env.partitions }, () => null), 'a stopped process releases its leases');
  });
});
