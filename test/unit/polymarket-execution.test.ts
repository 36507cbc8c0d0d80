import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ClobClient, getContractConfig, SignatureType } from '@polymarket/clob-client';
import { hashTypedData, recoverTypedDataAddress } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { ExchangeNotAvailable, InvalidOrder } from '../../domain/errors';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { InMemoryOrderIdStore, PolymarketExecutionClient } from '../../venues/polymarket/execution';
import type { PolymarketMarketRules } from '../../venues/polymarket/order-signing';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';
import { CTF_EXCHANGE_ORDER_STRUCT } from '../fixtures/polymarket/support';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const spec = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', name), 'utf8')) as Record<string, unknown>;

const CREDS = { key: '00000000-0000-0000-0000-00000000000a', secret: Buffer.from('kestrel-test-secret').toString('base64'), passphrase: 'pass' };

/**
 * A stand-in CLOB for the execution client's tests: it checks what the official client sends the way
 * the venue does (L2 HMAC headers; the order's EIP-712 signature against the exchange), keeps the
 * orders by their hash and answers in the venue's shapes. Behaviour per test: `mode`.
 */
class TestClob {
  server!: Server;
  url = '';
  readonly orders = new Map<string, { status: string; size: string; matched: string; price: string }>();
  readonly received: string[] = [];
  mode: { post: 'live' | 'matched' | 'tooEarly' | 'fokKilled' | 'dropAnswer'; heartbeat: 'ok' | 'fail' } = { post: 'live', heartbeat: 'ok' };
  signerAddress = '';
  private beats = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url!, 'http://x');
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    // L2 auth: HMAC-SHA256 (base64 secret) of timestamp + method + path + body, URL-safe base64.
    const expected = createHmac('sha256', Buffer.from(CREDS.secret, 'base64'))
      .update(`${String(req.headers.poly_timestamp)}${req.method}${url.pathname}${body}`)
      .digest('base64')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    if (req.headers.poly_signature !== expected || req.headers.poly_api_key !== CREDS.key) return send(401, { error: 'Unauthorized/Invalid api key' });
    this.received.push(`${req.method} ${url.pathname}`);
    if (req.method === 'POST' && url.pathname === '/v1/heartbeats') {
      if (this.mode.heartbeat === 'fail') return send(503, { error: 'Trading is currently disabled. Check polymarket.com for updates' });
      return send(200, { heartbeat_id: `hb-${++this.beats}` });
    }
    if (req.method === 'POST' && url.pathname === '/order') {
      if (this.mode.post === 'tooEarly') return send(425, { error: 'Too Early' });
      const { order, orderType } = JSON.parse(body) as { order: Record<string, string | number>; orderType: string };
      const message = { ...order, side: order.side === 'BUY' ? 0 : 1, salt: String(order.salt) };
      const typed = { domain: { name: 'Polymarket CTF Exchange', version: '1', chainId: 137, verifyingContract: getContractConfig(137).exchange as `0x${string}` }, types: { Order: CTF_EXCHANGE_ORDER_STRUCT }, primaryType: 'Order' as const, message: message as never };
      const signer = await recoverTypedDataAddress({ ...typed, signature: order.signature as `0x${string}` });
      if (signer.toLowerCase() !== this.signerAddress.toLowerCase()) return send(400, { error: 'invalid signature' });
      const id = hashTypedData(typed);
      if (this.orders.has(id)) return send(400, { success: false, errorMsg: 'INVALID_ORDER_DUPLICATED', orderID: null });
      if (this.mode.post === 'fokKilled' && orderType === 'FOK') return send(200, { success: false, errorMsg: 'FOK_ORDER_NOT_FILLED_ERROR', orderID: null });
      const size = (Number(order.side === 'BUY' ? order.takerAmount : order.makerAmount) / 1e6).toString();
      const matched = this.mode.post === 'matched';
      this.orders.set(id, { status: matched ? 'MATCHED' : 'LIVE', size, matched: matched ? size : '0', price: '0.55' });
      if (this.mode.post === 'dropAnswer') return void res.destroy();
      return send(200, { success: true, errorMsg: '', orderID: id, status: matched ? 'matched' : 'live' });
    }
    if (req.method === 'GET' && url.pathname.startsWith('/data/order/')) {
      const id = url.pathname.slice('/data/order/'.length);
      const o = this.orders.get(id);
      if (!o) return send(404, { error: 'order not found' });
      return send(200, { ...spec('http_open_order.json'), id, status: o.status, original_size: o.size, size_matched: o.matched, price: o.price });
    }
    if (req.method === 'DELETE' && url.pathname === '/order') {
      const { orderID } = JSON.parse(body) as { orderID: string };
      const o = this.orders.get(orderID);
      if (!o || o.status !== 'LIVE') return send(200, { canceled: [], not_canceled: { [orderID]: 'already canceled or matched' } });
      o.status = 'CANCELED';
      return send(200, { canceled: [orderID], not_canceled: {} });
    }
    send(404, { error: 'no such endpoint' });
  }
}

describe('PolymarketExecutionClient through the official ClobClient', function () {
  this.timeout(20_000);
  const clob = new TestClob();
  const { signer, address } = polymarketSignerFromKey(generatePrivateKey());
  const rules: PolymarketMarketRules = { tokens: { yes: '71321045679252212594626385532706912750332728571942532289631379312455583992563', no: '52114319501245915516055106046884209969926127482827954674443846427813813222426' }, tickSize: '0.01', negRisk: false, feeRateBps: '0' };
  const request = (over: Partial<OrderRequestWire> = {}): OrderRequestWire => ({ clientOrderId: 'pos-7:entry:1', positionId: 'pos-7', purpose: 'entry', market: rules.tokens.yes, outcome: 'yes', action: 'buy', limitPrice: '0.55', size: '10', tif: 'gtc', ...over });
  const client = (store = new InMemoryOrderIdStore()) =>
    new PolymarketExecutionClient({
      api: new ClobClient(clob.url, 137, signer, CREDS, SignatureType.EOA, undefined, undefined, false, undefined, undefined, false, undefined, true),
      account: { signer, maker: address, signerAddress: address, signatureType: SignatureType.EOA, chainId: 137 },
      rules: () => Promise.resolve(rules),
      orderIds: store,
      heartbeatMs: 30,
    });

  before(async () => {
    clob.signerAddress = address;
    await clob.start();
  });
  after(() => clob.stop());
  beforeEach(() => {
    clob.orders.clear();
    clob.received.length = 0;
    clob.mode = { post: 'live', heartbeat: 'ok' };
  });

  it('places a signed limit order once; a resend under the same client order id finds it instead of sending it again', async () => {
    const store = new InMemoryOrderIdStore();
    const first = client(store);
    const placed = await first.submit(request());
    assert.equal(placed.status, 'resting');
    assert.equal(placed.size, '10.000000');
    assert.match(placed.venueOrderId!, /^0x[0-9a-f]{64}$/);
    assert.ok(clob.orders.has(placed.venueOrderId!), 'the venue keeps it under the hash the client computed');
    // Another process (the same persisted ids) resends: it looks the order up and sends nothing.
    const restarted = client(store);
    const again = await restarted.submit(request());
    assert.equal(again.venueOrderId, placed.venueOrderId);
    assert.equal(clob.received.filter((r) => r === 'POST /order').length, 1);
    assert.deepEqual(await restarted.get('pos-7:entry:1'), again);
    assert.equal(await restarted.get('never-sent'), undefined);
  });

  it('a lost answer is retryable; the retry finds the order the venue took', async () => {
    const c = client();
    clob.mode.post = 'dropAnswer';
    await assert.rejects(c.submit(request()), (err: Error) => err instanceof ExchangeNotAvailable && err.retryable);
    clob.mode.post = 'live';
    const state = await c.submit(request());
    assert.equal(state.status, 'resting');
    assert.equal(clob.orders.size, 1);
    assert.equal(clob.received.filter((r) => r === 'POST /order').length, 1, 'nothing sent twice');
  });

  it('425 (engine restarting) is retryable and places nothing', async () => {
    clob.mode.post = 'tooEarly';
    await assert.rejects(client().submit(request()), (err: Error) => err instanceof ExchangeNotAvailable && err.retryable && /HTTP 425/.test(err.message));
    assert.equal(clob.orders.size, 0);
  });

  it('a FOK the venue kills comes back cancelled with nothing filled; post-only IOC is refused before sending', async () => {
    clob.mode.post = 'fokKilled';
    const state = await client().submit(request({ tif: 'fok', clientOrderId: 'pos-7:exit:1' }));
    assert.equal(state.status, 'canceled');
    assert.equal(state.filled, '0.000000');
    await assert.rejects(client().submit(request({ tif: 'ioc', postOnly: true, clientOrderId: 'pos-7:exit:2' })), InvalidOrder);
  });

  it('cancels a resting order', async () => {
    const c = client();
    await c.submit(request());
    const cancelled = await c.cancel('pos-7:entry:1');
    assert.equal(cancelled.status, 'canceled');
    assert.ok(clob.received.includes('DELETE /order'));
  });

  it('fills come from the user channel: MATCHED adds one with its taker fee, FAILED takes it back', async () => {
    clob.mode.post = 'matched';
    const c = client();
    const states: OrderStateWire[] = [];
    c.onOrderUpdate((s) => states.push(s));
    const placed = await c.submit(request());
    assert.equal(placed.status, 'filled', 'the venue matched it at once');
    const trade = { ...spec('ws_user_trade_msg.json'), taker_order_id: placed.venueOrderId, size: '10', price: '0.55', fee_rate_bps: '200', maker_orders: [] };
    assert.deepEqual(c.applyUserMessage({ ...trade, status: 'MATCHED' }), { ok: true, updated: ['pos-7:entry:1'] });
    assert.equal(states.at(-1)!.filled, '10.000000');
    assert.equal(states.at(-1)!.fees, '0.04950', '10 × 0.02 × 0.55 × 0.45');
    c.applyUserMessage({ ...trade, status: 'MINED' });
    c.applyUserMessage({ ...trade, status: 'FAILED' });
    const last = states.at(-1)!;
    assert.equal(last.filled, '0.000000', 'the failed trade reverted the fill');
    assert.equal(last.status, 'canceled');
    assert.equal(last.fees, '0.00000');
    assert.equal(c.applyUserMessage({ ...trade, status: 'CONFIRMED' }).ok, true);
    assert.equal(states.at(-1)!.filled, '0.000000', 'nothing follows FAILED');
    assert.deepEqual(c.applyUserMessage({ event_type: 'trade', id: 'x' }).ok, false);
  });

  it('stops trading when a heartbeat fails, and resumes on a new accepted chain', async () => {
    const c = client();
    await c.startHeartbeats();
    assert.equal(c.tradingStopped, undefined);
    clob.mode.heartbeat = 'fail';
    for (let i = 0; i < 100 && c.tradingStopped === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(c.tradingStopped ?? '', /^heartbeat failed: POST \/v1\/heartbeats: HTTP 503/);
    await assert.rejects(c.submit(request()), (err: Error) => err instanceof ExchangeNotAvailable && /trading is stopped/.test(err.message));
    assert.equal(clob.orders.size, 0);
    clob.mode.heartbeat = 'ok';
    for (let i = 0; i < 100 && c.tradingStopped !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(c.tradingStopped, undefined);
    assert.equal((await c.submit(request())).status, 'resting');
    await c.close();
  });
});
