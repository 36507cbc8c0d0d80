import assert from 'node:assert/strict';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { aggregateDailyHistory, applyHistoryRetention, upsertMarketSnapshot } from '../../db/market-data-repo';
import { marketSnapshots, priceHistory, priceHistoryDaily } from '../../db/schema';
import { priceText } from '../../domain/fixed-point';
import { PACKED_FORMAT, packEvents } from '../../domain/market-data/batch-codec';
import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEventBatch } from '../../domain/market-data/events';
import { readRecording, recordedFiles } from '../../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../../venues/replay/kalshi-book-replay';
import { readGoldMarketMetadata } from '../../venues/replay/gold-metadata';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { createBookWorker, topOfBookKey, type BookWorkerResult } from '../../workers/market-data/book-worker';
import { startHistoryMaintenance } from '../../workers/market-data/maintenance';
import { partitionOf, partitionQueueName } from '../../workers/market-data/partitions';
import { MarketDataPublisher, type MarketEventJob } from '../../workers/market-data/publisher';
import { createRedis } from '../../workers/redis';
import { getHarness, SHARED_DATA_DIR, uniqueName } from '../support/harness';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const MARKETS = ['KXGOLD15M-26AUG050000-00', 'KXGOLD15M-26AUG050800-00'];
const PARTITIONS = 2;

describe('market data: replay → BullMQ partitions → books, history, top of book (real Redis/Postgres)', function () {
  this.timeout(180_000);
  let database: DatabaseHandle;
  let redis: Redis;
  let workerConn: Redis;
  const prefix = uniqueName('kestrel-md');
  const queueBase = 'md';
  const source = uniqueName('replay');
  let workers: ReturnType<typeof createBookWorker>[] = [];
  let store: BookStore;
  let publisher: MarketDataPublisher;

  before(async () => {
    const harness = await getHarness();
    database = openDatabase(harness.databaseUrl, { max: 4 });
    redis = createRedis(harness.redisUrl, 'producer');
    workerConn = createRedis(harness.redisUrl, 'worker');
    store = new BookStore({ historyCapacity: 5000, sampleMs: 1000 });
    workers = Array.from({ length: PARTITIONS }, (_, partition) => createBookWorker({ connection: workerConn, redis, prefix, queueBase, partition, db: database.db, store }));
    publisher = new MarketDataPublisher({ connection: redis, prefix, queueBase, partitions: PARTITIONS, source, batchSize: 2000, maxDelayMs: 50, attempts: 3 });
  });
  after(async () => {
    for (const w of workers) {
      w.closing.abort();
      await w.worker.close();
    }
    await publisher?.close();
    await database?.close();
    redis?.disconnect();
    workerConn?.disconnect();
  });

  it('rebuilds the same books as a direct replay and persists sampled history', async () => {
    const stats = await replayKalshiRecording({ dataDir: GOLD, markets: MARKETS, pace: { kind: 'fast' }, emit: (e) => publisher.publish(e) });
    await publisher.flush();
    assert.equal(stats.malformed, 0);
    assert.ok(publisher.published.batches > 10, `batches: ${publisher.published.batches}`);
    assert.equal(publisher.published.events, stats.events);

    // Wait for every partition queue to drain.
    for (let i = 0; ; i++) {
      const counts = await Promise.all(publisher.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'failed')));
      if (counts.every((c) => !c.waiting && !c.active && !c.delayed)) {
        assert.ok(counts.every((c) => !c.failed), JSON.stringify(counts));
        break;
      }
      assert.ok(i < 1200, 'queues did not drain');
      await new Promise((r) => setTimeout(r, 100));
    }

    // Reference: the same recordings replayed directly, in process.
    const reference = new KalshiBookReplayer({ expectFilteredGaps: true });
    for (const market of MARKETS) {
      reference.beginStream();
      for (const file of recordedFiles(GOLD, market)) for await (const rec of readRecording(file)) reference.apply(rec);
    }
    for (const market of MARKETS) {
      const expected = reference.book(market);
      const actual = store.state(market).book;
      assert.deepEqual(actual.levels('yes'), expected.levels('yes'), `${market} yes ladder`);
      assert.deepEqual(actual.levels('no'), expected.levels('no'), `${market} no ladder`);
      const top = await redis.hgetall(topOfBookKey(prefix, market));
      const refTop = expected.top();
      assert.equal(top.yesBid, refTop.yesBid ? priceText(refTop.yesBid.price) : '');
      assert.equal(top.yesAsk, refTop.yesAsk ? priceText(refTop.yesAsk.price) : '');
      assert.equal(top.stale, '');
    }

    const ringPoints = MARKETS.reduce((n, m) => n + store.state(m).history.length, 0);
    const [row] = await database.db.select({ n: sql<string>`count(*)` }).from(priceHistory).where(eq(priceHistory.source, source));
    assert.ok(MARKETS.every((m) => store.state(m).history.length < 5000), 'rings did not wrap, so they hold every point');
    assert.equal(Number(row!.n), ringPoints, 'every sampled point persisted exactly once');
  });

  it('skips a redelivered batch (at or below the partition checkpoint) without touching the books', async () => {
    const p = partitionOf(MARKETS[0]!, PARTITIONS);
    const queue = publisher.queues[p]!;
    const [done] = await queue.getJobs(['completed'], 0, 0);
    assert.ok(done, 'a completed batch exists');
    const before = store.state(MARKETS[0]!).book.levels('yes');
    const events = new QueueEvents(partitionQueueName(queueBase, p), { connection: { url: (await getHarness()).redisUrl }, prefix });
    await events.waitUntilReady();
    try {
      const again = await queue.add('market-events', done.data, { jobId: uniqueName('redelivery') });
      const result = (await again.waitUntilFinished(events, 30_000)) as BookWorkerResult;
      assert.equal(result.skipped, true);
    } finally {
      await events.close();
    }
    assert.deepEqual(store.state(MARKETS[0]!).book.levels('yes'), before);
  });

  /** Adds a job that must fail for good on its first try (5 attempts allowed), and returns it failed. */
  const failedOnce = async (queue: MarketDataPublisher['queues'][number], data: MarketEventJob, name: string) => {
    const job = await queue.add('market-events', data, { jobId: uniqueName(name), attempts: 5 });
    for (let i = 0; !(await job.isFailed()); i++) {
      assert.ok(i < 100, `${name} job was not failed`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const failed = (await queue.getJob(job.id!))!;
    assert.equal(failed.attemptsMade, 1);
    return failed;
  };

  it('fails a batch with a malformed envelope once, keeping its data, and keeps processing the partition', async () => {
    const queue = publisher.queues[0]!;
    const bad = { source, partition: 0, batchSeq: 'next', events: [{ t: 'delta', m: 'X', ts: 1, side: 'yes', price: '0.5', delta: '1' }] } as unknown as MarketEventBatch;
    const failed = await failedOnce(queue, bad, 'bad');
    assert.match(failed.failedReason, /malformed market-event batch/);
    assert.deepEqual(failed.data, bad);
  });

  it('fails a packed batch whose text is damaged once, before any book sees it', async () => {
    const queue = publisher.queues[0]!;
    const packed = packEvents([{ t: 'snapshot', m: 'PACKED-DAMAGED', ts: 1, yes: [['0.4000', '1.00']], no: [] }]);
    const bad: MarketEventJob = { source: uniqueName('damaged'), partition: 0, batchSeq: 0, format: PACKED_FORMAT, count: 1, packed: packed.slice(0, -4) };
    const failed = await failedOnce(queue, bad, 'damaged');
    assert.match(failed.failedReason, /malformed market-event batch .*packed batch/);
    assert.ok(!store.markets.has('PACKED-DAMAGED'));
  });

  it('applies a batch around its bad events: each is refused alone, with its market stale and its raw payload logged', async () => {
    const queue = publisher.queues[0]!;
    const otherSource = uniqueName('mixed');
    const good = 'FUZZ-GOOD';
    const hurt = 'FUZZ-HURT';
    const mixed = {
      source: otherSource,
      partition: 0,
      batchSeq: 0,
      events: [
        { t: 'snapshot', m: good, ts: 1, yes: [['0.4000', '1.00']], no: [['0.5000', '1.00']] },
        { t: 'snapshot', m: hurt, ts: 1, yes: [['0.4000', '1.00']], no: [['0.5000', '1.00']] },
        { t: 'delta', m: hurt, ts: 2, side: 'yes', price: '0.12345', delta: '1' },
        { t: 'delta', m: 'X'.repeat(100_000), ts: 2, side: 'yes', price: '0.4000', delta: '1' },
        { t: 'trade', m: good, ts: 2, id: 't', yesPrice: '1.5000', count: '1', takerSide: 'yes' },
        { t: 'delta', m: good, ts: 2, side: 'yes', price: '0.4000', delta: '2.00' },
      ],
    } as unknown as MarketEventBatch;
    const events = new QueueEvents(partitionQueueName(queueBase, 0), { connection: { url: (await getHarness()).redisUrl }, prefix });
    await events.waitUntilReady();
    try {
      const job = await queue.add('market-events', mixed, { jobId: uniqueName('mixed') });
      const result = (await job.waitUntilFinished(events, 30_000)) as BookWorkerResult;
      assert.equal(result.invalid, 2, 'the off-grid delta and the 100k-character ticker never reach a book');
      assert.equal(result.refused, 1, 'the trade priced outside (0, 1) is refused by the book store');
      assert.equal(result.applied, 3);
    } finally {
      await events.close();
    }
    assert.equal(store.state(good).book.sizeAt('yes', 4000), 3_000_000);
    assert.ok(!store.state(good).book.stale);
    assert.match(store.state(hurt).book.staleBecause ?? '', /0\.12345/);
    assert.match(await redis.hget(topOfBookKey(prefix, hurt), 'stale') ?? '', /refused/);
  });

  it('rolls history up by day and applies retention', async () => {
    const day = new Date(1785901540000).toISOString().slice(0, 10);
    await aggregateDailyHistory(database.db, day);
    const rows = await database.db.select().from(priceHistoryDaily).where(eq(priceHistoryDaily.source, source));
    const first = rows.find((r) => r.marketTicker === MARKETS[0]);
    assert.ok(first, 'daily row for the first market');
    assert.ok(first.points > 0);
    assert.ok(Number(first.lowMid) <= Number(first.highMid));
    const deleted = await applyHistoryRetention(database.db, Date.parse('2026-09-01T00:00:00Z'), 7);
    assert.ok(deleted > 0);
    const [left] = await database.db.select({ n: sql<string>`count(*)` }).from(priceHistory).where(eq(priceHistory.source, source));
    assert.equal(Number(left!.n), 0);
    assert.equal((await database.db.select().from(priceHistoryDaily).where(eq(priceHistoryDaily.source, source))).length, rows.length, 'aggregates survive retention');
  });

  it('schedules history maintenance with BullMQ; each run covers yesterday and today (UTC)', async () => {
    const harness = await getHarness();
    const conn = createRedis(harness.redisUrl, 'worker');
    // The clock sits right after the recorded day, so the roll-up covers it and nothing is old enough to prune.
    const { queue, worker } = await startHistoryMaintenance({ connection: redis, workerConnection: conn, prefix, db: database.db, clock: { nowMs: () => Date.parse('2026-08-06T01:00:00Z') }, everyMs: 200, retentionDays: 3650, log: () => {} });
    try {
      for (let i = 0; (await queue.getJobCounts('completed')).completed === 0; i++) {
        assert.ok(i < 100, 'maintenance never ran');
        await new Promise((r) => setTimeout(r, 50));
      }
      const [job] = await queue.getJobs(['completed'], 0, 0);
      assert.deepEqual(job!.returnvalue.days, ['2026-08-05', '2026-08-06']);
    } finally {
      await worker.close();
      await queue.close();
      conn.disconnect();
    }
  });

  it('keeps SCD-2 market snapshots: unchanged is a no-op, a change versions the row', async () => {
    const meta = { venue: 'kalshi', marketTicker: 'SCD-TEST', eventTicker: 'SCD', status: 'active', attributes: { floor_strike: 4128.56, title: 'Gold up?' } };
    assert.equal(await upsertMarketSnapshot(database.db, meta, 1_000), 'inserted');
    assert.equal(await upsertMarketSnapshot(database.db, { ...meta, attributes: { title: 'Gold up?', floor_strike: 4128.56 } }, 2_000), 'unchanged');
    assert.equal(await upsertMarketSnapshot(database.db, { ...meta, status: 'finalized', attributes: { ...meta.attributes, result: 'no' } }, 3_000), 'versioned');
    const rows = await database.db.select().from(marketSnapshots).where(eq(marketSnapshots.marketTicker, 'SCD-TEST')).orderBy(marketSnapshots.effectiveTs);
    assert.equal(rows.length, 2);
    assert.deepEqual([rows[0]!.rowCurrentInd, rows[0]!.expirationTs?.getTime()], [false, 3_000]);
    assert.deepEqual([rows[1]!.rowCurrentInd, rows[1]!.expirationTs, rows[1]!.status], [true, null, 'finalized']);
    assert.deepEqual(rows[1]!.attributes, { floor_strike: 4128.56, title: 'Gold up?', result: 'no' });
    const gold = readGoldMarketMetadata(GOLD, 'KXGOLD15M-26AUG050000-00')!;
    assert.equal(gold.meta.status, 'finalized');
    assert.equal(gold.meta.attributes.result, 'no');
    // Other suites replay this market too (shared test database): the first upsert may find it already there.
    assert.ok(['inserted', 'unchanged'].includes(await upsertMarketSnapshot(database.db, gold.meta, gold.observedAtMs)));
    assert.equal(await upsertMarketSnapshot(database.db, gold.meta, gold.observedAtMs + 1), 'unchanged');
    const [json] = await database.db.execute<{ result: string }>(sql`select attributes->>'result' as result from market_snapshots where market_ticker = 'SCD-TEST' and row_current_ind`);
    assert.equal(json!.result, 'no', 'attributes are real jsonb, queryable by key');
  });
});
