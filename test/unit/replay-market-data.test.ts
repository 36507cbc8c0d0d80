import assert from 'node:assert/strict';
import path from 'node:path';
import { BookStore } from '../../domain/market-data/book-store';
import { toUnits, type MarketEvent } from '../../domain/market-data/events';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { listRecordedMarkets } from '../../venues/replay/gold-feed';
import { GoldReplayMarketData, PolymarketSampleMarketData } from '../../venues/replay/market-data';
import { replayPolymarketJsonl } from '../../venues/replay/polymarket-samples';
import { replayKalshiRecording } from '../../venues/replay/replay-source';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');

describe('recordings as market-data clients (the port live feeds use)', function () {
  this.timeout(60_000);

  it('the gold replay client delivers exactly the recording’s events, and stops when closed', async () => {
    const dataDir = path.join(SHARED, 'kalshi-gold15m-ws');
    const [market] = listRecordedMarkets(dataDir);
    const direct: MarketEvent[] = [];
    await replayKalshiRecording({ dataDir, markets: [market!], pace: { kind: 'fast' }, emit: async (e) => void direct.push(e) });
    const viaPort: MarketEvent[] = [];
    const client = new GoldReplayMarketData({ dataDir, markets: [market!], pace: { kind: 'fast' } });
    await client.start((e) => void viaPort.push(e));
    assert.ok(direct.length > 1000);
    assert.deepEqual(viaPort, direct);
    assert.equal(client.stats.events, direct.length);

    const stopped = new GoldReplayMarketData({ dataDir, markets: [market!], pace: { kind: 'fast' } });
    let seen = 0;
    await stopped.start(async (e) => {
      void e;
      if (++seen === 100) await stopped.close();
    });
    assert.ok(seen >= 100 && seen < direct.length, `stopped after ${seen}`);
  });

  it('the Polymarket sample client builds the same books the book sync builds from the raw messages', async () => {
    const files = ['polymarket_book.jsonl', 'polymarket_trade.jsonl'].map((f) => path.join(SHARED, 'polymarket-ws-samples', f));
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 100, sampleMs: 0 }), { requestResync: () => {} });
    for (const f of files) replayPolymarketJsonl(f, (m) => sync.handle(m));
    const store = new BookStore({ historyCapacity: 100, sampleMs: 0 });
    const client = new PolymarketSampleMarketData({ files });
    await client.start((e) => void store.applyAll([toUnits(e)]));
    assert.equal(client.counters.malformed, 0);
    assert.ok(client.counters.events > 0);
    assert.equal(store.markets.size, sync.store.markets.size);
    for (const [asset, state] of sync.store.markets) assert.deepEqual(store.state(asset).book.top(), state.book.top(), asset);
  });
});
