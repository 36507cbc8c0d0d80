import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import type { TradeBatch } from '../../domain/market-data/trade';
import { enqueueTradeBatch } from '../../workers/ingest-queue';
import { startStack } from '../../runtime/stack';
import { getHarness } from '../support/harness';

describe('stack shutdown (real services)', function () {
  this.timeout(120_000);

  it('drains in-flight work and stops in order: BullMQ, then Temporal, then pools', async () => {
    const harness = await getHarness();
    const lines: string[] = [];
    const stack = await startStack(harness.config(), { workflowBundle: harness.workflowBundle, log: (l) => lines.push(l) });
    const batch: TradeBatch = {
      batchId: `shutdown-${Date.now()}`,
      marketTicker: 'SHUTDOWN-TEST',
      trades: Array.from({ length: 50 }, (_, i) => ({ venue: 'sim' as const, tradeId: `shutdown-${Date.now()}-${i}`, marketTicker: 'SHUTDOWN-TEST', yesPrice: '0.5000', count: '1.00', takerSide: 'yes' as const, exchangeTsMs: 1_700_000_000_000 + i })),
    };
    await enqueueTradeBatch(stack.ingestQueue, batch, 1);
    // Wait until the worker has picked the job up, then shut down while it is in flight.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const counts = await stack.ingestQueue.getJobCounts('active', 'completed');
      if ((counts.active ?? 0) + (counts.completed ?? 0) > 0) break;
      assert.ok(Date.now() < deadline, 'job never became active');
      await new Promise((r) => setTimeout(r, 10));
    }
    await stack.shutdown();
    assert.deepEqual(lines.filter((l) => l.startsWith('shutdown:')), ['shutdown: bullmq workers closed', 'shutdown: temporal worker stopped', 'shutdown: database and redis pools closed']);

    // The in-flight job finished before the pools closed: all rows are there.
    const check = postgres(harness.databaseUrl, { max: 1 });
    try {
      const [row] = await check.unsafe<{ n: string }[]>(`select count(*) as n from trade_prints where market_ticker = 'SHUTDOWN-TEST'`);
      assert.equal(Number(row!.n), 50);
    } finally {
      await check.end();
    }
    // Closed pools refuse work; a second shutdown is a no-op.
    await assert.rejects(stack.database.db.execute(sql`select 1`));
    await stack.shutdown();
  });
});
