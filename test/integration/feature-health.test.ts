import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import type { Alert } from '../../domain/alerts';
import { FeatureHealthMonitor } from '../../workers/feature-health';
import { partitionMembersKey } from '../../workers/market-data/partition-leases';
import { partitionQueueName } from '../../workers/market-data/partitions';
import { createRedis } from '../../workers/redis';
import { getHarness } from '../support/harness';

describe('feature health monitor (real Redis and Postgres)', function () {
  this.timeout(30_000);
  let redis: Redis;
  let database: DatabaseHandle;
  const cleanups: (() => Promise<unknown>)[] = [];
  before(async () => {
    const harness = await getHarness();
    redis = createRedis(harness.redisUrl, 'producer');
    database = openDatabase(harness.databaseUrl, { max: 2 });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    redis?.disconnect();
    await database?.close();
  });

  it('alerts once across processes when a feed goes silent and when it recovers, and sees ticks, history and lag', async () => {
    const harness = await getHarness();
    const config = harness.config({ 'marketData.partitions': 2, 'health.signalMinBaselinePerSec': 0.1 });
    const prefix = config.redis.keyPrefix;
    cleanups.push(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
    });
    const queues = [0, 1].map((p) => new Queue(partitionQueueName(config.marketData.queueBase, p), { connection: redis, prefix }));
    cleanups.push(() => Promise.all(queues.map((q) => q.close())));
    // This "process" is a live member, as the partition leases make it in the stack.
    await redis.zadd(partitionMembersKey(prefix, config.marketData.queueBase), Date.now() + 600_000, 'proc-a');

    let now = Date.now();
    const feed = { source: 'live-feed', published: { events: 0 }, closedAtMs: undefined as number | undefined };
    const alerts: Omit<Alert, 'atMs'>[] = [];
    const monitor = (processId: string) =>
      new FeatureHealthMonitor({ redis, db: database.db, config, partitionQueues: queues, sources: { feeds: () => (processId === 'proc-a' ? [feed] : []) }, processId: () => processId, alert: (a) => alerts.push(a), log: () => {}, nowMs: () => now });
    const a = monitor('proc-a');
    const b = monitor('proc-b');
    // No process holds partition leases here: those alerts are checked at the end.
    const feedAlerts = () => alerts.filter((x) => !x.title.startsWith('partition:'));
    const status = (reports: { feature: string; status: string }[], feature: string) => reports.find((r) => r.feature === feature)?.status;

    feed.published.events = 100;
    a.noteHistoryWritten();
    a.noteSignalTicks(1000);
    let reports = await a.check();
    assert.equal(status(reports, 'feed:live-feed'), 'ok');
    assert.equal(status(reports, 'price-history'), 'ok');
    assert.deepEqual(feedAlerts().map((x) => x.title), []);

    // 40 s without an event: down, alerted by whichever process sees it first, once.
    now += 40_000;
    reports = await a.check();
    assert.equal(status(reports, 'feed:live-feed'), 'down');
    reports = await b.check();
    assert.equal(status(reports, 'feed:live-feed'), 'down', 'another process judges the same feed from Redis');
    assert.deepEqual(feedAlerts().map((x) => [x.kind, x.severity, x.title]), [['feature_health', 'critical', 'feed:live-feed down']]);

    // Events again, but no history written since: the feed recovers and history is reported stalled.
    now += 30_000;
    feed.published.events = 200;
    reports = await a.check();
    assert.equal(status(reports, 'feed:live-feed'), 'ok');
    assert.equal(status(reports, 'price-history'), 'down');
    assert.ok(alerts.some((x) => x.title === 'feed:live-feed recovered (was down)' && x.severity === 'info'));
    assert.ok(alerts.some((x) => x.title === 'price-history down'));

    // Signal engine: a steady rate, then none.
    for (let i = 0; i < 6; i++) {
      now += 15_000;
      feed.published.events += 10;
      a.noteHistoryWritten();
      a.noteSignalTicks(1500);
      await a.check();
    }
    now += 15_000;
    feed.published.events += 10;
    await a.check();
    now += 15_000;
    feed.published.events += 10;
    reports = await a.check();
    assert.equal(status(reports, 'signal-engine'), 'down', JSON.stringify(reports.find((r) => r.feature === 'signal-engine')));

    // Partitions: no owner, and a batch waiting on partition 1.
    await queues[1]!.add('batch', {}, { jobId: 'waiting-batch' });
    reports = await a.check();
    assert.equal(status(reports, 'partition:0'), 'degraded');
    assert.equal(status(reports, 'partition:1'), 'down');
    assert.deepEqual(alerts.filter((x) => x.title.startsWith('partition:')).map((x) => x.title), ['partition:0 degraded', 'partition:1 degraded', 'partition:1 down']);

    // The publishing process is gone (no longer a member): its feed is down until dropped.
    await redis.zrem(partitionMembersKey(prefix, config.marketData.queueBase), 'proc-a');
    reports = await b.check();
    assert.match(reports.find((r) => r.feature === 'feed:live-feed')!.detail, /process is gone/);
  });
});
