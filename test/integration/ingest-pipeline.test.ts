import assert from 'node:assert/strict';
import { QueueEvents } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { tradePrints } from '../../db/schema';
import type { TradeBatch } from '../../domain/market-data/trade';
import { enqueueTradeBatch, jobIdForBatch } from '../../workers/ingest-queue';
import { replayTradesIntoQueue } from '../../runs/replay-trades';
import { startStack, type Stack } from '../../runtime/stack';
import { getHarness, type Harness } from '../support/harness';

const MARKET = 'KXGOLD15M-26AUG050000-00';

describe('BullMQ → Temporal → Postgres ingestion (real services)', function () {
  this.timeout(180_000);
  let harness: Harness;
  let stack: Stack;
  let events: QueueEvents;

  before(async () => {
    harness = await getHarness();
    stack = await startStack(harness.config(), { workflowBundle: harness.workflowBundle });
    events = new QueueEvents(stack.config.ingest.queueName, { connection: { url: stack.config.redis.url }, prefix: stack.config.redis.keyPrefix });
    await events.waitUntilReady();
  });
  after(async () => {
    await events?.close();
    await stack?.shutdown();
  });

  it('processes a recorded gold-market trade batch: job → workflow → activity → row', async () => {
    const summary = await replayTradesIntoQueue({ dataDir: stack.config.replay.dataDir, marketTicker: MARKET, batchSize: 250, attempts: 2, queue: stack.ingestQueue });
    assert.ok(summary.trades > 100, `expected real trades in the recording, got ${summary.trades}`);
    assert.equal(summary.malformed.length, 0);
    assert.equal(summary.batches, Math.ceil(summary.trades / 250));

    const results = await Promise.all(summary.jobIds.map(async (id) => (await stack.ingestQueue.getJob(id))!.waitUntilFinished(events, 120_000)));
    const inserted = results.reduce((n, r: { inserted: number }) => n + r.inserted, 0);
    assert.equal(inserted, summary.trades);

    const [row] = await stack.database.db
      .select({ n: sql<string>`count(*)`, volume: sql<string>`sum(${tradePrints.count})` })
      .from(tradePrints)
      .where(eq(tradePrints.marketTicker, MARKET));
    assert.equal(Number(row!.n), summary.trades);

    // Each batch ran as a Temporal workflow whose id is derived from the batch id.
    const handle = stack.temporal.workflow.getHandle(`ingest-trades/${MARKET}-t0`);
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.equal(description.type, 'ingestTradeBatchWorkflow');
  });

  it('stores prices and sizes exactly as recorded (numeric, not float)', async () => {
    const rows = await stack.database.db.select().from(tradePrints).where(eq(tradePrints.tradeId, 'f195de40-6a3f-418b-1a7e-9d89fee559c0'));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.yesPrice, '0.6800');
    assert.equal(rows[0]!.count, '46.020000', 'sizes are stored at 6 decimals (Polymarket share precision)');
    assert.equal(rows[0]!.exchangeTs.getTime(), 1785901540722);
  });

  it('is idempotent: replaying the same feed and re-running a finished batch write nothing twice', async () => {
    const before = await countRows(stack);
    const again = await replayTradesIntoQueue({ dataDir: stack.config.replay.dataDir, marketTicker: MARKET, batchSize: 250, attempts: 2, queue: stack.ingestQueue });
    // Same job ids: BullMQ keeps the completed jobs, so nothing new is queued.
    const counts = await stack.ingestQueue.getJobCounts('waiting', 'active', 'delayed');
    assert.deepEqual(counts, { waiting: 0, active: 0, delayed: 0 });
    assert.equal(again.jobIds[0], jobIdForBatch(`${MARKET}-t0`));

    // A redelivered batch under a new job id maps to the same (completed) workflow id.
    const first = (await stack.ingestQueue.getJob(jobIdForBatch(`${MARKET}-t0`)))!;
    const redelivered = await stack.ingestQueue.add('ingest-trades', first.data, { jobId: 'redelivery-1', attempts: 1 });
    const result = await redelivered.waitUntilFinished(events, 60_000);
    assert.equal(result.batchId, `${MARKET}-t0`);
    assert.equal(await countRows(stack), before);
  });

  it('rejects a malformed job without retrying and keeps it, with its data, in the failed set', async () => {
    const bad = { batchId: 'bad-1', marketTicker: MARKET, trades: [{ venue: 'kalshi', tradeId: 'x', marketTicker: MARKET, yesPrice: 0.5, count: '1', takerSide: 'yes', exchangeTsMs: 1 }] };
    const job = await stack.ingestQueue.add('ingest-trades', bad as unknown as TradeBatch, { jobId: 'malformed-1', attempts: 5 });
    await assert.rejects(job.waitUntilFinished(events, 30_000), /malformed ingest job malformed-1: trades\.0\.yesPrice/);
    const failed = (await stack.ingestQueue.getJob('malformed-1'))!;
    assert.equal(failed.attemptsMade, 1, 'unrecoverable: no retries');
    assert.deepEqual(failed.data, bad);
  });

  it('enqueues a batch under an id derived from its batch id', async () => {
    const batch: TradeBatch = {
      batchId: 'manual:1',
      marketTicker: 'TEST-MKT',
      trades: [{ venue: 'sim', tradeId: 'manual-1', marketTicker: 'TEST-MKT', yesPrice: '0.4200', count: '3.00', takerSide: 'no', exchangeTsMs: 1_700_000_000_000 }],
    };
    const id = await enqueueTradeBatch(stack.ingestQueue, batch, 2);
    assert.equal(id, 'batch_manual_1');
    const result = await (await stack.ingestQueue.getJob(id))!.waitUntilFinished(events, 60_000);
    assert.deepEqual(result, { batchId: 'manual:1', inserted: 1, duplicates: 0 });
  });
});

async function countRows(stack: Stack): Promise<number> {
  const [row] = await stack.database.db.select({ n: sql<string>`count(*)` }).from(tradePrints);
  return Number(row!.n);
}
