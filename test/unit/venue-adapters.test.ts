import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { FixedClock } from '../../domain/clock';
import { Dec } from '../../domain/decimal';
import type { MarketEvent } from '../../domain/market-data/events';
import { KalshiExecutionClient } from '../../venues/kalshi/adapter';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials } from '../../venues/kalshi/signing';
import { generateKeyPairSync } from 'node:crypto';
import { PolymarketMarketDataClient } from '../../venues/polymarket/ws-client';
import { until } from '../support/wait';

describe('KalshiExecutionClient (execution port)', () => {
  let server: Server;
  let body: Record<string, unknown> = {};
  before(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        body = JSON.parse(text) as Record<string, unknown>;
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ order_id: 'o-1', client_order_id: body.client_order_id, fill_count: '4.00', remaining_count: '0.00', average_fill_price: '0.5600', average_fee_paid: '0.0173', ts_ms: 42 }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('maps a port order to a V2 order and the ack back to decimals', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rest = new KalshiRestClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/v2`,
      credentials: loadKalshiCredentials('k', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      clock: new FixedClock(0),
      limits: { read: { capacity: 100, refillPerSecond: 100 }, write: { capacity: 100, refillPerSecond: 100 } },
    });
    const ack = await new KalshiExecutionClient(rest).submit({ clientOrderId: 'wf-1/attempt-1', instrumentId: 'M', side: 'sell_yes', price: new Dec('0.56'), size: new Dec(4), timeInForce: 'ioc' });
    assert.deepEqual(body, { ticker: 'M', client_order_id: 'wf-1/attempt-1', side: 'ask', count: '4.00', price: '0.5600', time_in_force: 'immediate_or_cancel', self_trade_prevention_type: 'taker_at_cross' });
    assert.equal(ack.filledSize.toString(), '4');
    assert.equal(ack.fees.toFixed(4), '0.0692');
    assert.equal(ack.averageFillPrice!.toFixed(4), '0.5600');
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
    const client = new PolymarketMarketDataClient({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, pingIntervalMs: 50, reconnect: { initialMs: 20, maxMs: 50 }, onMalformed: (raw) => malformed.push(raw) });
    await client.subscribe(['A'], (e) => events.push(e));
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
