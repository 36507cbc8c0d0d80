import assert from 'node:assert/strict';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEvent } from '../../domain/market-data/events';
import { readRecording, recordedFiles } from '../../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../../venues/replay/kalshi-book-replay';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { createBookWorker, topOfBookKey } from '../../workers/market-data/book-worker';
import { MarketDataPublisher } from '../../workers/market-data/publisher';
import { createRedis } from '../../workers/redis';
import { startStack, type Stack } from '../../runtime/stack';
import { getHarness, SHARED_DATA_DIR, uniqueName } from '../support/harness';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';
import { createLogger } from '../../observability/logger';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const MARKETS = ['KXGOLD15M-26AUG050000-00', 'KXGOLD15M-26AUG050800-00'];
const PARTITIONS = 2;

describe('Redis outage (private redis-server, killed and restarted empty)', function () {
  this.timeout(180_000);
  let redis: PrivateRedis;

  before(async () => {
    redis = await startPrivateRedis();
  });
  after(async () => {
    await redis?.kill();
  });

  describe('market-data publisher and book workers', () => {
    let database: DatabaseHandle;
    let producer: Redis;
    let workerConn: Redis;
    let workers: ReturnType<typeof createBookWorker>[] = [];
    let publisher: MarketDataPublisher | undefined;
    const prefix = uniqueName('kestrel-outage');

    before(async () => {
      database = openDatabase((await getHarness()).databaseUrl, { max: 4 });
      producer = createRedis(redis.url, 'producer');
      workerConn = createRedis(redis.url, 'worker');
    });
    after(async () => {
      for (const w of workers) {
        w.closing.abort();
        await w.worker.close();
      }
      await publisher?.close();
      await database?.close();
      producer?.disconnect();
      workerConn?.disconnect();
    });

    it('holds the feed back at its bound while Redis is down, re-adds the batches Redis lost, and rebuilds the same books', async () => {
      const store = new BookStore({ historyCapacity: 5000, sampleMs: 1000 });
      workers = Array.from({ length: PARTITIONS }, (_, partition) => createBookWorker({ connection: workerConn, redis: producer, prefix, queueBase: 'md', partition, db: database.db, store }));
      const maxPendingEvents = 3000;
      publisher = new MarketDataPublisher({ connection: producer, prefix, queueBase: 'md', partitions: PARTITIONS, source: uniqueName('outage'), batchSize: 500, maxDelayMs: 20, attempts: 3, maxPendingEvents, retry: { initialMs: 20, maxMs: 200 } });
      const events: MarketEvent[] = [];
      await replayKalshiRecording({ dataDir: GOLD, markets: MARKETS, pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
      const outageAt = Math.floor(events.length / 3);
      assert.ok(events.length - outageAt > 2 * maxPendingEvents, `enough events after the outage to fill the bound: ${events.length}`);

      let restarted: Promise<void> = Promise.resolve();
      for (const [i, event] of events.entries()) {
        if (i === outageAt) {
          await redis.kill();
          const p = publisher;
          // Redis comes back only once the feed is held back, so the bound is what stopped it.
          restarted = waitFor(() => p.stats.backPressureWaits, (n) => n > 0, 'back-pressure on the feed', 60_000).then(() => redis.start());
        }
        await publisher.publish(event);
      }
      await restarted;
      await publisher.waitUntilApplied(producer, 20);

      assert.ok(publisher.stats.addRetries > 0, 'adds failed while Redis was down and were retried');
      assert.ok(publisher.stats.backPressureWaits > 0, 'the feed was held back');
      assert.equal(publisher.published.events, events.length, 'every event was added');
      const reference = new KalshiBookReplayer({ expectFilteredGaps: true });
      for (const market of MARKETS) {
        reference.beginStream();
        for (const file of recordedFiles(GOLD, market)) for await (const rec of readRecording(file)) reference.apply(rec);
      }
      for (const market of MARKETS) {
        const actual = store.state(market).book;
        assert.equal(actual.stale, false, `${market} is not stale (${actual.staleBecause ?? ''})`);
        assert.deepEqual(actual.levels('yes'), reference.book(market).levels('yes'), `${market} yes ladder`);
        assert.deepEqual(actual.levels('no'), reference.book(market).levels('no'), `${market} no ladder`);
      }
    });
  });

  describe('the stack', () => {
    let s: Stack | undefined;
    after(async () => {
      await s?.shutdown();
    });

    it('stays up, reports the outage in /health, and puts schedulers and top of book back when Redis returns empty', async () => {
      const harness = await getHarness();
      const config = harness.config({ 'redis.url': redis.url });
      s = await startStack(config, { workflowBundle: harness.workflowBundle, logger: createLogger({ level: 'silent' }) });
      const stack = s;
      const market = uniqueName('OUTAGE');
      const publisher = stack.createPublisher(uniqueName('outage-src'));
      await publisher.publish({ t: 'snapshot', m: market, ts: Date.now(), yes: [['0.40', '10']], no: [['0.55', '5']] });
      await publisher.waitUntilApplied(stack.redis);
      const topKey = topOfBookKey(config.redis.keyPrefix, market);
      assert.equal((await stack.redis.hgetall(topKey)).yesBid, '0.4000');

      await redis.kill();
      try {
        const down = await waitFor(() => stack.health(), (h) => h.checks.redis !== 'ok', '/health to report Redis down');
        assert.equal(down.ok, false);
        assert.match(String(down.checks.redis), /^failed: /);
        const reported = await waitFor(() => stack.health(), (h) => h.outages.redis.downForMs !== undefined, '/health to report the outage');
        assert.match(String(reported.checks.redis), /^failed: connection/);
      } finally {
        await redis.start();
      }

      const back = await waitFor(() => stack.health(), (h) => h.ok && h.outages.redis.emptyRecoveries > 0, 'Redis back and its state restored', 60_000);
      assert.equal(back.outages.redis.outages, 1);
      await waitFor(() => stack.redis.hgetall(topKey), (top) => top.yesBid === '0.4000', 'top of book re-created');
      const schedulers = await waitFor(async () => {
        const { Queue } = await import('bullmq');
        const maintenance = new Queue('kestrel-maintenance', { connection: stack.redis, prefix: config.redis.keyPrefix });
        const outcomes = new Queue(`${config.signals.queueName}-outcomes`, { connection: stack.redis, prefix: config.redis.keyPrefix });
        try {
          return [...(await maintenance.getJobSchedulers()), ...(await outcomes.getJobSchedulers())].map((j) => j.key);
        } finally {
          await Promise.all([maintenance.close(), outcomes.close()]);
        }
      }, (keys) => keys.length === 2, 'job schedulers re-created');
      assert.deepEqual(schedulers.sort(), ['history-maintenance', 'signal-outcomes']);
    });
  });
});
