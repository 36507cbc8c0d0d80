import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MarketEvent } from '../../domain/market-data/events';
import { PolymarketMarketDataClient } from '../../venues/polymarket/ws-client';
import { until } from '../fixtures/polymarket/support';

const book = (ts: number, bids: [string, string][], asks: [string, string][]) => ({ event_type: 'book', asset_id: 'A', market: '0xm', bids: bids.map(([price, size]) => ({ price, size })), asks: asks.map(([price, size]) => ({ price, size })), timestamp: String(ts) });
const change = (ts: number, side: 'BUY' | 'SELL', price: string, size: string, bestBid: string, bestAsk: string) => ({ event_type: 'price_change', market: '0xm', price_changes: [{ asset_id: 'A', price, side, size, best_bid: bestBid, best_ask: bestAsk }], timestamp: String(ts) });

describe('PolymarketMarketDataClient: consistency and resync on the live channel', function () {
  this.timeout(10_000);

  it('takes a burst crossed mid-batch; a batch that ends inconsistent stales the asset downstream and resubscribes it once', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const received: unknown[] = [];
    let socket: WebSocket | undefined;
    server.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (d) => {
        const text = String(d);
        if (text === 'PING') return;
        const cmd = JSON.parse(text) as { type?: string; operation?: string };
        received.push(cmd);
        if (cmd.type === 'market') ws.send(JSON.stringify(book(1000, [['0.40', '10']], [['0.45', '5'], ['0.47', '5']])));
        if (cmd.operation === 'subscribe') ws.send(JSON.stringify(book(3000, [['0.46', '3']], [['0.48', '5']])));
      });
    });
    const events: MarketEvent[] = [];
    const client = new PolymarketMarketDataClient({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, assets: ['A'], pingIntervalMs: 1000, resyncBackoff: { initialMs: 60_000, maxMs: 60_000 } });
    await client.start((e) => events.push(e));
    await until(() => events.length === 1, 'the first book');
    // A taker burst (one timestamp): crossed after its first message, consistent at its end.
    socket!.send(JSON.stringify([change(2000, 'BUY', '0.46', '8', '0.46', '0.47'), change(2000, 'SELL', '0.45', '0', '0.46', '0.47')]));
    socket!.send(JSON.stringify(change(2000, 'BUY', '0.46', '3', '0.46', '0.47')));
    await until(() => events.length === 4, 'the burst');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(client.counters.resyncs, 0, 'no resync for a burst consistent at its end');
    assert.ok(!events.some((e) => e.t === 'stale'));
    // The venue's best ask moved to 0.48 with no change telling us: inconsistent at the end of its batch.
    for (let i = 0; i < 5; i++) socket!.send(JSON.stringify(change(2500, 'BUY', '0.41', String(i + 1), '0.46', '0.48')));
    await until(() => events.some((e) => e.t === 'stale'), 'the stale mark');
    await until(() => events.filter((e) => e.t === 'snapshot').length === 2, 'the fresh book after resubscribing');
    const stale = events.find((e) => e.t === 'stale') as Extract<MarketEvent, { t: 'stale' }>;
    assert.equal(stale.m, 'A');
    assert.match(stale.reason, /venue reports best bid\/ask 0\.46\/0\.48/);
    assert.deepEqual(
      received.filter((c) => (c as { operation?: string }).operation),
      [
        { assets_ids: ['A'], operation: 'unsubscribe' },
        { assets_ids: ['A'], operation: 'subscribe' },
      ],
    );
    assert.equal(client.counters.resyncs, 1);
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
