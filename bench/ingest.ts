import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase, runMigrations } from '../db/admin';
import { openDatabase } from '../db/client';
import { BookStore } from '../domain/market-data/book-store';
import { packEvents } from '../domain/market-data/batch-codec';
import type { MarketEvent } from '../domain/market-data/events';
import { NO_PRICE } from '../domain/market-data/price-history';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { replayKalshiRecording } from '../venues/replay/replay-source';
import { createBookWorker } from '../workers/market-data/book-worker';
import { MarketDataPublisher } from '../workers/market-data/publisher';
import { createRedis } from '../workers/redis';
import { percentile } from './percentile';

/**
 * End-to-end ingestion throughput: recorded gold-feed events → publisher (batches) → BullMQ
 * partition queues → book workers → books + sampled history in Postgres + top of book in Redis.
 * Measured in the same run as a raw Redis pipeline of the same events as JSON (the floor any
 * Redis-based ingestion pays), printed as a ratio; also, for reference, the raw pipeline of the
 * same batches in the packed form the publisher sends. Also: memory of 500 markets × 1000 history points.
 */
export async function benchIngest(opts: { dataDir: string; markets?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const adminUrl = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/kestrel_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const maintenanceDb = new URL(adminUrl).pathname.slice(1);

  // History memory: 500 markets × 1000 points.
  global.gc?.();
  const before = process.memoryUsage();
  const big = new BookStore({ historyCapacity: 1000, sampleMs: 0 });
  for (let m = 0; m < 500; m++) {
    const state = big.state(`M${m}`);
    for (let i = 0; i < 1000; i++) state.history.push({ ts: i, bid: 4000, ask: 4100, last: NO_PRICE, volume: i });
  }
  global.gc?.();
  const after = process.memoryUsage();

  const events: MarketEvent[] = [];
  const markets = listRecordedMarkets(opts.dataDir).slice(0, opts.markets ?? 4);
  await replayKalshiRecording({ dataDir: opts.dataDir, markets, pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
  opts.log(`loaded ${events.length} events from ${markets.length} markets`);

  const redis = createRedis(redisUrl, 'producer');
  const workerConn = createRedis(redisUrl, 'worker');
  const prefix = `kestrel-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const batchSize = 2000;

  // Baseline: the same events, serialised the same way, pushed with raw pipelines in the same batch size.
  const baselineKey = `${prefix}:baseline`;
  let started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += batchSize) {
    const pipeline = redis.pipeline();
    pipeline.rpush(baselineKey, JSON.stringify(events.slice(i, i + batchSize)));
    await pipeline.exec();
  }
  const baselineSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await redis.del(baselineKey);
  // For reference: the same batches in the packed form the publisher now sends (not what the ratio is taken against).
  started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += batchSize) {
    const pipeline = redis.pipeline();
    pipeline.rpush(baselineKey, packEvents(events.slice(i, i + batchSize)));
    await pipeline.exec();
  }
  const packedBaselineSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  await redis.del(baselineKey);

  await ensureDatabase(dbUrl.toString(), maintenanceDb);
  const database = openDatabase(dbUrl.toString(), { max: 8 });
  const partitions = 4;
  const store = new BookStore({ historyCapacity: 1000, sampleMs: 1000 });
  const source = 'bench';
  try {
    await runMigrations(dbUrl.toString());
    const workers = Array.from({ length: partitions }, (_, partition) => createBookWorker({ connection: workerConn, redis, prefix, queueBase: 'md', partition, db: database.db, store }));
    const publisher = new MarketDataPublisher({ connection: redis, prefix, queueBase: 'md', partitions, source, batchSize, maxDelayMs: 20, attempts: 3 });
    started = process.hrtime.bigint();
    for (const e of events) {
      // As a feed's loop would: wait only when the publisher asks to.
      const wait = publisher.publish(e);
      if (wait) await wait;
    }
    await publisher.waitUntilApplied(redis, 5);
    const pipelineSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Per batch, from its job being added (publish) to its job finishing (books applied, history and tops written): read from the kept completed jobs after the run, so measuring adds no load to it.
    // A checkpoint is written just before its job is marked completed: wait for the last marks.
    for (let i = 0; i < 200; i++) {
      const counts = await Promise.all(publisher.queues.map((q) => q.getJobCountByTypes('completed')));
      if (counts.reduce((a, b) => a + b, 0) >= publisher.published.batches) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const latencies = (await Promise.all(publisher.queues.map((q) => q.getJobs(['completed'])))).flat().map((job) => job.finishedOn! - job.timestamp).sort((a, b) => a - b);
    if (latencies.length !== publisher.published.batches) throw new Error(`found ${latencies.length} completed batches of ${publisher.published.batches} published`);
    for (const w of workers) await w.worker.close();
    await publisher.close();

    return {
      bench: 'ingest',
      events: events.length,
      partitions,
      batchSize,
      pipelineEventsPerSecond: Math.round(events.length / pipelineSeconds),
      rawRedisPipelineEventsPerSecond: Math.round(events.length / baselineSeconds),
      ratioToRawRedis: Number((baselineSeconds / pipelineSeconds).toFixed(3)),
      rawRedisPackedEventsPerSecond: Math.round(events.length / packedBaselineSeconds),
      ratioToRawRedisPacked: Number((packedBaselineSeconds / pipelineSeconds).toFixed(3)),
      pipelineSeconds: Number(pipelineSeconds.toFixed(2)),
      batches: latencies.length,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      historyPointsPersisted: Number((await database.sql`select count(*)::int as n from price_history`)[0]!.n),
      history500x1000TypedArrayMb: Number((big.historyBytes() / 2 ** 20).toFixed(1)),
      history500x1000HeapDeltaMb: Number(((after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 2 ** 20).toFixed(1)),
    };
  } finally {
    await database.close();
    await dropDatabase(dbUrl.toString(), maintenanceDb);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    workerConn.disconnect();
  }
}
