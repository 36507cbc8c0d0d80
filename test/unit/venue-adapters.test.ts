import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Dec } from '../../domain/decimal';
import type { MarketEvent } from '../../domain/market-data/events';
import { fromKalshiOrder, toCreateOrderV2, yesBookOrder } from '../../venues/kalshi/execution';
import { PolymarketMarketDataClient } from '../../venues/polymarket/ws-client';
import { until } from '../support/wait';

describe('Kalshi execution mapping (execution port)', () => {
  it('maps a port order to a V2 order on the YES book', () => {
    const base = { clientOrderId: 'wf-1/attempt-1', positionId: 'p', purpose: 'exit' as const, market: 'M', size: '4', tif: 'ioc' as const };
    assert.deepEqual(toCreateOrderV2({ ...base, outcome: 'yes', action: 'sell', limitPrice: '0.56' }), { ticker: 'M', client_order_id: 'wf-1/attempt-1', side: 'ask', count: '4.00', price: '0.5600', time_in_force: 'immediate_or_cancel', self_trade_prevention_type: 'taker_at_cross', post_only: undefined, reduce_only: undefined });
    // Buying NO at 0.30 is selling YES at 0.70; selling NO is buying YES.
    assert.deepEqual(yesBookOrder('no', 'buy', '0.30'), { side: 'ask', price: '0.7000' });
    assert.deepEqual(yesBookOrder('no', 'sell', '0.30'), { side: 'bid', price: '0.7000' });
    assert.deepEqual(yesBookOrder('yes', 'buy', '0.4512'), { side: 'bid', price: '0.4512' });
    assert.throws(() => toCreateOrderV2({ ...base, outcome: 'yes', action: 'buy', limitPrice: '0.5', size: '1.005' }), /more than 2 decimals/);
  });

  it("reads a venue order and its fills back in the held outcome's prices, with the venue's fees", () => {
    const order = { order_id: 'o-1', client_order_id: 'c', ticker: 'M', status: 'executed' as const, book_side: 'ask' as const, outcome_side: 'no' as const, yes_price_dollars: '0.7000', no_price_dollars: '0.3000', fill_count_fp: '4.00', remaining_count_fp: '0.00', initial_count_fp: '4.00', taker_fees_dollars: '0.0600', maker_fees_dollars: '0.0000' };
    const fill = (id: string, yes: string, count: string, ts: number) => ({ fill_id: id, trade_id: `t${id}`, order_id: 'o-1', market_ticker: 'M', book_side: 'ask' as const, count_fp: count, yes_price_dollars: yes, no_price_dollars: new Dec(1).minus(yes).toFixed(4), is_taker: true, fee_cost: '0.0300', ts });
    const state = fromKalshiOrder('c', 'no', order, [fill('2', '0.7100', '1.00', 2), fill('1', '0.7000', '3.00', 1)]);
    assert.equal(state.status, 'filled');
    assert.equal(state.venueOrderId, 'o-1');
    assert.deepEqual(state.fills.map((f) => [f.price, f.size, f.tsMs]), [['0.3000', '3.000000', 1000], ['0.2900', '1.000000', 2000]]);
    assert.equal(state.averagePrice, '0.297500');
    assert.equal(state.fees, '0.060000');
  });
});

describe('PolymarketMarketDataClient against a local WebSocket server', function () {
  this.timeout(10_000);
  it('subscribes, answers heartbeats, handles arrays, counts malformed frames and resubscribes after a drop', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const received: string[] = [];
    let socket: WebSocket | undefined;
    server.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (d) => {
        const text = d.toString();
        received.push(text);
        if (text === 'PING') return ws.send('PONG');
        const sub = JSON.parse(text) as { type?: string };
        if (sub.type === 'market') ws.send(JSON.stringify([{ event_type: 'book', asset_id: 'A', bids: [{ price: '.48', size: '30' }], asks: [{ price: '.52', size: '25' }], timestamp: '1' }]));
      });
    });
    const events: MarketEvent[] = [];
    const malformed: string[] = [];
    const client = new PolymarketMarketDataClient({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, assets: ['A'], pingIntervalMs: 50, reconnect: { initialMs: 20, maxMs: 50 }, onMalformed: (raw) => malformed.push(raw) });
    await client.start((e) => events.push(e));
    await until(() => events.length === 1, 'book');
    assert.deepEqual(JSON.parse(received[0]!), { assets_ids: ['A'], type: 'market' });
    await until(() => received.includes('PING'), 'heartbeat');
    socket!.send('garbage');
    await until(() => malformed.length === 1, 'malformed');
    socket!.terminate();
    await until(() => events.length === 2, 'book after reconnect');
    assert.equal(client.counters.connects, 2);
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
