import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { parsePolymarketUserMessage, tradeStatusMayFollow, type PolymarketUserOrder, type PolymarketUserTrade } from '../../venues/polymarket/user-messages';
import { PolymarketUserChannel } from '../../venues/polymarket/user-ws-client';
import { until } from '../fixtures/polymarket/support';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const spec = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', name), 'utf8')) as Record<string, unknown>;

/** Some spec fixtures are the message body without its `event_type`; the channel always sends it. */
function order(name: string): PolymarketUserOrder {
  const parsed = parsePolymarketUserMessage({ event_type: 'order', ...spec(name) });
  assert.ok(parsed.ok, parsed.ok ? '' : `${name}: ${parsed.error}`);
  assert.equal(parsed.value.kind, 'order');
  return (parsed.value as { order: PolymarketUserOrder }).order;
}
function trade(name: string): PolymarketUserTrade {
  const parsed = parsePolymarketUserMessage({ event_type: 'trade', ...spec(name) });
  assert.ok(parsed.ok, parsed.ok ? '' : `${name}: ${parsed.error}`);
  return (parsed.value as { trade: PolymarketUserTrade }).trade;
}

describe('Polymarket user channel: order messages', () => {
  it('an order through its life: placed, partly matched, matched, cancelled', () => {
    const placed = order('ws_user_order_msg.json');
    assert.deepEqual(
      { type: placed.type, status: placed.status, orderType: placed.order_type, side: placed.side, price: placed.price, size: placed.original_size, matched: placed.size_matched, ts: placed.timestamp },
      { type: 'PLACEMENT', status: { status: 'LIVE', reason: undefined }, orderType: 'GTC', side: 'BUY', price: '0.5', size: '100.0', matched: '0.0', ts: 1703875200001 },
    );
    assert.deepEqual(order('ws_user_order_placement.json').status.status, 'LIVE');
    const update = order('ws_user_order_update.json');
    assert.equal(update.type, 'UPDATE');
    assert.equal(update.size_matched, '25.0');
    assert.deepEqual(update.associate_trades, ['trade-0xabcdef1234']);
    const matched = order('ws_user_order_matched.json');
    assert.equal(matched.status.status, 'MATCHED');
    assert.equal(matched.size_matched, '100.0');
    const cancelled = order('ws_user_order_cancellation.json');
    assert.equal(cancelled.type, 'CANCELLATION');
    assert.equal(cancelled.status.status, 'CANCELED');
  });

  it('a killed FOK carries the venue reason in its status; a venue cancel is INVALID', () => {
    const killed = order('ws_user_order_fok_killed.json');
    assert.equal(killed.status.status, 'CANCELED');
    assert.equal(killed.status.reason, "order couldn't be fully filled. FOK orders are fully filled or killed.");
    assert.equal(killed.size_matched, '0', 'the venue sends "" before any match');
    assert.equal(killed.order_type, 'FOK');
    const venueCancel = order('ws_user_order_venue_cancel.json');
    assert.equal(venueCancel.status.status, 'INVALID');
    assert.equal(venueCancel.type, 'CANCELLATION');
  });

  it('refuses what the spec does not allow, saying why', () => {
    const base = { event_type: 'order', ...spec('ws_user_order_msg.json') };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, status: 'SOMETHING' }, /unknown order status SOMETHING/],
      [{ ...base, price: '1.2' }, /price must be inside \(0, 1\)/],
      [{ ...base, price: '0.5000001' }, /price/],
      [{ ...base, original_size: '-1' }, /original_size/],
      [{ ...base, side: 'HOLD' }, /side/],
      [{ ...base, order_type: 'IOC' }, /order_type/],
      [{ ...base, type: 'AMEND' }, /type/],
      [{ ...base, id: undefined }, /id/],
      [{ ...base, timestamp: 'yesterday' }, /timestamp/],
    ];
    for (const [msg, why] of cases) {
      const parsed = parsePolymarketUserMessage(msg);
      assert.equal(parsed.ok, false, JSON.stringify(msg).slice(0, 80));
      assert.match((parsed as { error: string }).error, why);
    }
    assert.deepEqual(parsePolymarketUserMessage({}), { ok: false, error: 'message has no event_type' });
    assert.deepEqual(parsePolymarketUserMessage({ event_type: 'subscribed' }), { ok: true, value: { kind: 'ignored', eventType: 'subscribed' } });
  });
});

describe('Polymarket user channel: trade messages', () => {
  it('parses a confirmed taker trade with its maker orders', () => {
    const t = trade('ws_user_trade.json');
    assert.equal(t.status, 'CONFIRMED');
    assert.equal(t.trader_side, 'TAKER');
    assert.equal(t.size, '25.0');
    assert.equal(t.price, '0.5');
    assert.equal(t.match_time, Date.parse('2024-01-01T00:00:00Z'));
    assert.equal(t.maker_orders.length, 1);
    assert.equal(t.maker_orders[0]!.matched_amount, '25.0000');
    assert.equal(t.taker_order_id, '0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef12');
    assert.equal(trade('ws_user_trade_msg.json').id, 'trade-0xabcdef1234');
  });

  it('reads the venue match time in Unix seconds as well as ISO-8601', () => {
    const t = trade('ws_user_trade_msg.json');
    const parsed = parsePolymarketUserMessage({ event_type: 'trade', ...spec('ws_user_trade_msg.json'), match_time: '1703875200', last_update: '1703875210' });
    assert.ok(parsed.ok && parsed.value.kind === 'trade');
    assert.equal(parsed.value.trade.match_time, 1_703_875_200_000);
    assert.equal(parsed.value.trade.last_update, 1_703_875_210_000);
    assert.notEqual(t.match_time, parsed.value.trade.match_time);
    const bad = parsePolymarketUserMessage({ event_type: 'trade', ...spec('ws_user_trade_msg.json'), match_time: 'soon' });
    assert.equal(bad.ok, false);
  });

  it('every documented status parses; anything else is refused', () => {
    for (const status of ['MATCHED', 'MINED', 'CONFIRMED', 'RETRYING', 'FAILED']) {
      const parsed = parsePolymarketUserMessage({ event_type: 'trade', ...spec('ws_user_trade_msg.json'), status });
      assert.ok(parsed.ok && parsed.value.kind === 'trade' && parsed.value.trade.status === status, status);
    }
    const bad = parsePolymarketUserMessage({ event_type: 'trade', ...spec('ws_user_trade_msg.json'), status: 'SETTLED' });
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /status/);
  });

  it('status moves forward only: MATCHED → MINED → CONFIRMED, or to RETRYING / FAILED; CONFIRMED and FAILED are final', () => {
    assert.ok(tradeStatusMayFollow('MATCHED', 'MINED'));
    assert.ok(tradeStatusMayFollow('MINED', 'CONFIRMED'));
    assert.ok(tradeStatusMayFollow('MATCHED', 'CONFIRMED'));
    assert.ok(tradeStatusMayFollow('MATCHED', 'RETRYING'));
    assert.ok(tradeStatusMayFollow('RETRYING', 'CONFIRMED'));
    assert.ok(tradeStatusMayFollow('RETRYING', 'FAILED'));
    assert.ok(tradeStatusMayFollow('MINED', 'FAILED'));
    assert.equal(tradeStatusMayFollow('CONFIRMED', 'FAILED'), false);
    assert.equal(tradeStatusMayFollow('FAILED', 'CONFIRMED'), false);
    assert.equal(tradeStatusMayFollow('MINED', 'MATCHED'), false);
    assert.equal(tradeStatusMayFollow('MATCHED', 'MATCHED'), false, 'a repeat is not a move');
  });
});

describe('PolymarketUserChannel against a local WebSocket server', function () {
  this.timeout(10_000);

  it('authenticates in its subscription, delivers order and trade messages, answers heartbeats, reports bad frames, resubscribes after a drop', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const received: string[] = [];
    let socket: WebSocket | undefined;
    server.on('connection', (ws) => {
      socket = ws;
      ws.on('message', (d) => {
        const text = String(d);
        received.push(text);
        if (text === 'PING') return ws.send('PONG');
        if ((JSON.parse(text) as { type?: string }).type === 'user') ws.send(JSON.stringify([spec('ws_user_order_msg.json'), spec('ws_user_trade_msg.json')]));
      });
    });
    const kinds: string[] = [];
    const malformed: string[] = [];
    let reconnects = 0;
    const channel = new PolymarketUserChannel({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
      creds: { key: 'key-1', secret: 'c2VjcmV0', passphrase: 'phrase' },
      markets: ['0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917'],
      onMessage: (msg) => {
        const parsed = parsePolymarketUserMessage(msg);
        kinds.push(parsed.ok ? parsed.value.kind : `bad: ${parsed.error}`);
      },
      onMalformed: (_raw, error) => malformed.push(error),
      onReconnect: () => reconnects++,
      pingIntervalMs: 30,
      reconnect: { initialMs: 20, maxMs: 50 },
    });
    await channel.start();
    await until(() => kinds.length === 2, 'the first messages');
    assert.deepEqual(kinds, ['order', 'trade']);
    assert.deepEqual(JSON.parse(received[0]!), { auth: { apiKey: 'key-1', secret: 'c2VjcmV0', passphrase: 'phrase' }, markets: ['0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917'], type: 'user' });
    await until(() => received.includes('PING'), 'a heartbeat');
    socket!.send('{"event_type":');
    await until(() => malformed.length === 1, 'the bad frame');
    assert.match(malformed[0]!, /^invalid JSON/);
    socket!.terminate();
    await until(() => kinds.length === 4, 'messages after the reconnect');
    assert.equal(reconnects, 1);
    assert.equal(channel.counters.connects, 2);
    await channel.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});
