import assert from 'node:assert/strict';
import path from 'node:path';
import { BookStore } from '../../domain/market-data/book-store';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { PolymarketSampleMarketData } from '../../venues/replay/market-data';
import { replayPolymarketJsonl } from '../../venues/replay/polymarket-samples';
import { SHARED_DATA_DIR } from '../support/harness';
import { useStack } from '../support/stack';

/** Recorded Polymarket messages enter the pipeline the way every feed does: a MarketDataClient into the partitions. */
describe('Polymarket samples through the market-data pipeline (real BullMQ, Redis)', function () {
  this.timeout(60_000);
  const stack = useStack();

  it('the partitions build the books the book sync builds from the raw messages', async () => {
    const files = ['polymarket_book.jsonl', 'polymarket_trade.jsonl'].map((f) => path.join(SHARED_DATA_DIR, 'polymarket-ws-samples', f));
    const publisher = stack().createPublisher(`polymarket-samples-${Date.now()}`);
    const client = new PolymarketSampleMarketData({ files });
    await client.start((e) => publisher.publish(e));
    await publisher.flush();
    await publisher.waitUntilApplied(stack().redis, 50);
    assert.ok(client.counters.events > 0);
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 100, sampleMs: 0 }), { requestResync: () => {} });
    for (const f of files) replayPolymarketJsonl(f, (m) => sync.handle(m));
    for (const [asset, state] of sync.store.markets) assert.deepEqual(stack().books.markets.get(asset)?.book.top(), state.book.top(), asset);
  });
});
