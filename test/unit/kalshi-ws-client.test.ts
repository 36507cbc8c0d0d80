import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { MarketEvent } from '../../domain/market-data/events';
import { KalshiWsClient } from '../../venues/kalshi/ws-client';
import { loadKalshiCredentials, publicKeyOf, verifyKalshiSignature } from '../../venues/kalshi/signing';
import { until } from '../support/wait';

const MARKET = 'KXGOLD15M-TEST';
const snapshot = (sid: number, seq: number, bid: string) => ({ type: 'orderbook_snapshot', sid, seq, msg: { market_ticker: MARKET, yes_dollars_fp: [[bid, '10.00']], no_dollars_fp: [['0.5000', '5.00']] } });
const delta = (sid: number, seq: number) => ({ type: 'orderbook_delta', sid, seq, msg: { market_ticker: MARKET, price_dollars: '0.4000', delta_fp: '1.00', side: 'yes', ts_ms: 1 } });

describe('KalshiWsClient against a local WebSocket server', function () {
  this.timeout(20_000);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = loadKalshiCredentials('ws-key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const publicKey = publicKeyOf(credentials.privateKey);
  let server: WebSocketServer;
  let url: string;
  const handshakes: boolean[] = [];
  const commands: Record<string, unknown>[] = [];
  let socket: WebSocket | undefined;

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/trade-api/ws/v2' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/ws/v2`;
    server.on('connection', (ws, req) => {
      socket = ws;
      const h = req.headers;
      handshakes.push(h['kalshi-access-key'] === 'ws-key' && verifyKalshiSignature(publicKey, Number(h['kalshi-access-timestamp']), 'GET', '/trade-api/ws/v2', String(h['kalshi-access-signature'])));
      ws.on('message', (data) => {
        const cmd = JSON.parse(data.toString()) as { id: number; cmd: string; params: { channels?: string[]; sids?: number[]; action?: string } };
        commands.push(cmd);
        if (cmd.cmd === 'subscribe') {
          cmd.params.channels!.forEach((channel, i) => ws.send(JSON.stringify({ id: cmd.id, type: 'subscribed', msg: { channel, sid: i + 1 } })));
          ws.send(JSON.stringify(snapshot(1, 1, '0.4000')));
          ws.send(JSON.stringify(delta(1, 2)));
        }
        if (cmd.cmd === 'update_subscription' && cmd.params.action === 'get_snapshot') {
          ws.send(JSON.stringify({ id: cmd.id, type: 'ok', sid: 1, seq: 9, msg: { market_tickers: [MARKET] } }));
          ws.send(JSON.stringify(snapshot(1, 1, '0.4200')));
        }
      });
    });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('signs the handshake, subscribes, resyncs on a seq gap and restores subscriptions after a reconnect', async () => {
    const events: MarketEvent[] = [];
    const stale: string[] = [];
    const malformed: string[] = [];
    const client = new KalshiWsClient({
      url,
      credentials,
      clock: { nowMs: () => Date.now() },
      onEvent: (e) => events.push(e),
      onStale: (markets, reason) => stale.push(`${markets.join(',')}: ${reason}`),
      onMalformed: (raw, error) => malformed.push(`${raw} → ${error}`),
      reconnect: { initialMs: 50, maxMs: 200 },
      heartbeatTimeoutMs: 5000,
    });
    await client.connect();
    const sids = await client.subscribe(['orderbook_delta', 'trade'], [MARKET]);
    assert.deepEqual(sids, [1, 2]);
    await until(() => events.length === 2, 'snapshot and delta');
    assert.deepEqual(events.map((e) => e.t), ['snapshot', 'delta']);
    assert.deepEqual(handshakes, [true]);

    // A malformed frame is counted and skipped; the stream goes on.
    socket!.send('{not json');
    socket!.send(JSON.stringify({ type: 'orderbook_delta', sid: 1, seq: 3, msg: { market_ticker: MARKET, price_dollars: 'x', delta_fp: '1', side: 'yes' } }));
    await until(() => malformed.length === 2, 'malformed frames');
    assert.equal(client.counters.malformed, 2);

    // seq 3 was consumed by the malformed delta; 7 is a gap → stale + get_snapshot → fresh snapshot.
    socket!.send(JSON.stringify(delta(1, 7)));
    await until(() => events.filter((e) => e.t === 'snapshot').length === 2, 'resync snapshot');
    assert.match(stale[0]!, /seq gap on sid 1 at 7/);
    assert.ok(commands.some((c) => (c as { cmd: string; params?: { action?: string } }).cmd === 'update_subscription' && (c as { params: { action: string } }).params.action === 'get_snapshot'));
    assert.equal(events.filter((e) => e.t === 'delta').length, 1, 'the gapped delta was not applied');

    // Drop the connection: the client reconnects with a fresh signature and resubscribes.
    socket!.terminate();
    await until(() => handshakes.length === 2 && commands.filter((c) => (c as { cmd: string }).cmd === 'subscribe').length === 2, 'reconnect and resubscribe');
    assert.deepEqual(handshakes, [true, true]);
    await until(() => events.filter((e) => e.t === 'snapshot').length === 3, 'snapshot after reconnect');
    assert.ok(stale.some((s) => /disconnected/.test(s)));
    assert.equal(client.counters.connects, 2);
    await client.close();
  });
});
