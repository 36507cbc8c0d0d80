import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import WebSocket from 'ws';
import { Dec } from '../../domain/decimal';
import { AuthenticationError, DuplicateOrder, ExchangeNotAvailable, InsufficientFunds, NetworkError, OrderNotFound } from '../../domain/errors';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { TokenBucket } from '../../domain/rate-limit/token-bucket';
import { KalshiRestClient, kalshiMarketSchema, orderbookResponseSchema } from '../../venues/kalshi/rest-client';
import { kalshiAuthHeaders, loadKalshiCredentials, type KalshiCredentials } from '../../venues/kalshi/signing';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import type { ObservedResponse } from '../../venues/kalshi/emulator/rest';
import type { EmulatorMarketMessage, EmulatorUserMessage } from '../../venues/kalshi/emulator/types';
import { EmulatorUsageError, parseEmulateArgs } from '../../venues/kalshi/emulator/cli';
import { GOLD_DATA_DIR, KalshiOpenApi } from '../support/kalshi-openapi';
import { waitFor } from '../support/wait';
import { z } from 'zod';

const MARKETS = ['KXGOLD15M-26AUG101800-00', 'KXGOLD15M-26AUG101815-15', 'KXGOLD15M-26AUG101830-30'];
const FIRST = MARKETS[0]!;

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}
const credentialsOf = (apiKeyId: string, privateKey: KeyObject): KalshiCredentials => loadKalshiCredentials(apiKeyId, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

describe('Kalshi emulator: REST API, auth, rate limits, faults (over real sockets)', function () {
  this.timeout(60_000);
  const openapi = new KalshiOpenApi();
  const observed: ObservedResponse[] = [];
  const logLines: string[] = [];
  const marketMessages: EmulatorMarketMessage[] = [];
  const userMessages: { apiKeyId: string; message: EmulatorUserMessage }[] = [];
  const alice = keyPair();
  const bob = keyPair();
  const aliceCreds = credentialsOf('alice-key', alice.privateKey);
  let emu: KalshiEmulator;
  let client: KalshiRestClient;
  let bobClient: KalshiRestClient;

  const newClient = (credentials: KalshiCredentials | undefined, extra: Partial<ConstructorParameters<typeof KalshiRestClient>[0]> = {}) =>
    new KalshiRestClient({ baseUrl: emu.restUrl, credentials, clock: { nowMs: () => Date.now() }, limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } }, backoff: { initialMs: 5, maxMs: 20 }, maxRetries: 3, requestTimeoutMs: 2000, ...extra });

  // Raw requests keep to the Basic tier like a well-behaved client, so only the rate-limit test meets 429s.
  const pacers = new Map<string, TokenBucket>();
  async function pace(key: string, write: boolean) {
    const id = `${key}:${write ? 'write' : 'read'}`;
    let bucket = pacers.get(id);
    if (!bucket) pacers.set(id, (bucket = new TokenBucket(write ? 100 : 200, write ? 100 : 200)));
    for (;;) {
      const taken = bucket.tryTake(10, Date.now());
      if (taken.ok) return;
      await new Promise((r) => setTimeout(r, taken.waitMs + 5));
    }
  }

  /** A signed raw request (for shapes our client does not send). */
  async function raw(method: string, path: string, body?: unknown, opts: { credentials?: KalshiCredentials | null; rawBody?: string; signal?: AbortSignal; unpaced?: boolean } = {}) {
    const credentials = opts.credentials === undefined ? aliceCreds : opts.credentials;
    if (!opts.unpaced) await pace(credentials?.apiKeyId ?? 'anonymous', method !== 'GET');
    const headers: Record<string, string> = body !== undefined || opts.rawBody !== undefined ? { 'content-type': 'application/json' } : {};
    const url = path.startsWith('/_emulator/') ? new URL(path, emu.restUrl).toString() : emu.restUrl + path;
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, { method, headers: credentials ? { ...headers, ...kalshiAuthHeaders(credentials, Date.now(), method, `/trade-api/v2${path.split('?')[0]}`) } : headers, body: opts.rawBody ?? (body === undefined ? undefined : JSON.stringify(body)), signal: opts.signal });
      const result = { status: response.status, body: (await response.json()) as Record<string, unknown> };
      // Our REST client shares the account's server-side bucket: a paced request backs off on 429 as a client would.
      if (result.status !== 429 || opts.unpaced || attempt >= 3 || /injected/.test(JSON.stringify(result.body))) return result;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  before(async () => {
    emu = await startKalshiEmulator({
      dataDir: GOLD_DATA_DIR,
      markets: MARKETS,
      speed: 0,
      accounts: [
        { apiKeyId: 'alice-key', publicKey: alice.publicKey, balance: '1000.00' },
        { apiKeyId: 'bob-key', publicKey: bob.publicKey, balance: '500.00' },
      ],
      observe: (r) => observed.push(r),
      log: (line) => logLines.push(line),
    });
    emu.exchange.onMarketMessage((m) => marketMessages.push(m));
    emu.exchange.onUserMessage((apiKeyId, message) => userMessages.push({ apiKeyId, message }));
    client = newClient(aliceCreds);
    bobClient = newClient(credentialsOf('bob-key', bob.privateKey));
    // One minute into the first window: a live book and recorded trades.
    await emu.advanceTo(emu.nowMs() + 60_000);
  });

  after(async () => {
    await emu?.close();
  });

  it('lists markets, events and series with cursor pagination and filters (our REST client)', async () => {
    const markets = [];
    for await (const m of client.markets({ limit: 1 })) markets.push(m);
    assert.deepEqual(markets.map((m) => m.ticker), MARKETS);
    assert.equal(observed.filter((r) => r.operationId === 'GetMarkets').length, 3, 'one page per market at limit 1');
    assert.deepEqual(markets.map((m) => m.status), ['active', 'initialized', 'initialized'], 'status follows the exchange clock');

    const open = [];
    for await (const m of client.markets({ status: 'open' })) open.push(m.ticker);
    assert.deepEqual(open, [FIRST]);
    const picked = [];
    for await (const m of client.markets({ tickers: `${MARKETS[2]},${MARKETS[1]}` })) picked.push(m.ticker);
    assert.deepEqual(picked.sort(), [MARKETS[1], MARKETS[2]]);
    const none = [];
    for await (const m of client.markets({ series_ticker: 'NOPE' })) none.push(m);
    assert.equal(none.length, 0);

    const events = [];
    for await (const e of client.events({ limit: 2 })) events.push(e.event_ticker);
    assert.deepEqual(events, MARKETS.map((t) => t.replace(/-\d\d$/, '')));
    const series = await client.series();
    assert.equal(series.series?.[0]?.ticker, 'KXGOLD15M');
    const event = await raw('GET', `/events/${FIRST.replace(/-\d\d$/, '')}?with_nested_markets=true`, undefined, { credentials: null });
    assert.equal(event.status, 200);
    assert.equal(((event.body.event as { markets: unknown[] }).markets).length, 1);
  });

  it('serves the live book and the recorded trades of the exchange clock', async () => {
    const market = kalshiMarketSchema.parse(((await raw('GET', `/markets/${FIRST}`, undefined, { credentials: null })).body as { market: unknown }).market);
    const book = await client.request('GET', '/markets/{ticker}/orderbook', `/markets/${FIRST}/orderbook`, orderbookResponseSchema, { query: { depth: 3 } });
    const yes = book.orderbook_fp!.yes_dollars!;
    const no = book.orderbook_fp!.no_dollars!;
    assert.equal(yes.length, 3);
    assert.ok(priceUnits(yes[0]![0]) < priceUnits(yes[2]![0]), 'levels ascend, best bid last');
    assert.equal(market.yes_bid_dollars, yes[2]![0], 'market best bid = book best bid');
    assert.equal(market.yes_ask_dollars, new Dec(1).minus(no[2]![0]).toFixed(4), 'market best ask = 1 - best NO bid');
    const snapshot = emu.exchange.snapshot(FIRST)!;
    assert.deepEqual((snapshot.yes_dollars_fp as string[][]).slice(-3), yes, 'the WS snapshot (ascending, as recorded) agrees with REST');

    const trades: { trade_id: string; created_time: string }[] = [];
    for await (const t of client.trades({ ticker: FIRST, limit: 50 })) trades.push(t);
    assert.ok(trades.length > 50, `a minute of the window has more than one page of trades (${trades.length})`);
    assert.ok(trades.every((t, i) => i === 0 || Date.parse(t.created_time) <= Date.parse(trades[i - 1]!.created_time)), 'newest first');
    assert.ok(trades.every((t) => Date.parse(t.created_time) <= emu.nowMs()), 'no trade from the future of the exchange clock');
    assert.equal(new Set(trades.map((t) => t.trade_id)).size, trades.length, 'pages do not overlap');
  });

  it('orders: an IOC takes the book, debits cost + fee, books the position and the fill', async () => {
    const before = new Dec((await raw('GET', '/portfolio/balance')).body.balance_dollars as string);
    const created = await client.createOrder({ ticker: FIRST, client_order_id: 'ioc-1', side: 'bid', count: '5', price: '0.9900', time_in_force: 'immediate_or_cancel' });
    assert.equal(created.fill_count, '5.00');
    assert.equal(created.remaining_count, '0.00');
    const fills = [];
    for await (const f of client.fills({ order_id: created.order_id })) fills.push(f as Record<string, string>);
    assert.ok(fills.length >= 1);
    const cost = fills.reduce((n, f) => n.plus(new Dec(f.count_fp!).times(f.yes_price_dollars!)), new Dec(0));
    const fees = fills.reduce((n, f) => n.plus(f.fee_cost!), new Dec(0));
    assert.ok(fees.gt(0), 'taker fee charged');
    const after = await raw('GET', '/portfolio/balance');
    assert.equal(after.body.balance_dollars, before.minus(cost).minus(fees).toFixed(4));
    const positions = [];
    for await (const p of client.positions({ ticker: FIRST })) positions.push(p as Record<string, unknown>);
    assert.equal(positions[0]!.position_fp, '5.00');
    assert.equal(positions[0]!.market_exposure_dollars, cost.toFixed(4));
    const fillMessages = userMessages.filter((u) => u.apiKeyId === 'alice-key' && u.message.type === 'fill');
    assert.equal(fillMessages.length, fills.length, 'every fill is also a private WS message');
    assert.ok(userMessages.some((u) => u.message.type === 'market_position' && u.message.msg.position_fp === '5.00'));
  });

  it('orders: an ask sells YES, which opens a NO position (negative position_fp) paid at 1 − price', async () => {
    const bobCreds = credentialsOf('bob-key', bob.privateKey);
    const before = new Dec((await raw('GET', '/portfolio/balance', undefined, { credentials: bobCreds })).body.balance_dollars as string);
    const sold = await bobClient.createOrder({ ticker: FIRST, client_order_id: 'bob-no', side: 'ask', count: '3', price: '0.0100', time_in_force: 'immediate_or_cancel' });
    assert.equal(sold.fill_count, '3.00');
    const positions = [];
    for await (const p of bobClient.positions({ ticker: FIRST })) positions.push(p as Record<string, string>);
    assert.equal(positions[0]!.position_fp, '-3.00');
    const fills = [];
    for await (const f of bobClient.fills({ ticker: FIRST })) fills.push(f);
    const noCost = fills.reduce((n, f) => n.plus(new Dec(f.count_fp).times(f.no_price_dollars)), new Dec(0));
    const fees = fills.reduce((n, f) => n.plus(f.fee_cost), new Dec(0));
    assert.equal(positions[0]!.market_exposure_dollars, noCost.toFixed(4));
    const after = new Dec((await raw('GET', '/portfolio/balance', undefined, { credentials: bobCreds })).body.balance_dollars as string);
    assert.equal(before.minus(after).toFixed(4), noCost.plus(fees).toFixed(4));
  });

  it('orders: selling more YES than held closes the position (realizing P&L) and opens NO with the rest', async () => {
    const positionOf = async () => {
      const found = [];
      for await (const p of client.positions({ ticker: FIRST })) found.push(p as Record<string, string>);
      return found[0]!;
    };
    const before = await positionOf();
    assert.equal(before.position_fp, '5.00', 'long 5 YES from the IOC above');
    const cashBefore = new Dec((await raw('GET', '/portfolio/balance')).body.balance_dollars as string);
    const sold = await client.createOrder({ ticker: FIRST, client_order_id: 'flip-1', side: 'ask', count: '7', price: '0.0100', time_in_force: 'immediate_or_cancel' });
    assert.equal(sold.fill_count, '7.00');
    const fills = [];
    for await (const f of client.fills({ order_id: sold.order_id })) fills.push(f);
    // Oracle: each fill first sells held YES at p, then buys NO at 1 − p.
    let held = new Dec(5);
    let cash = cashBefore;
    let proceeds = new Dec(0);
    let noCost = new Dec(0);
    for (const f of [...fills].reverse()) {
      const count = new Dec(f.count_fp);
      const closing = Dec.min(count, held);
      const opening = count.minus(closing);
      held = held.minus(closing);
      proceeds = proceeds.plus(closing.times(f.yes_price_dollars));
      noCost = noCost.plus(opening.times(f.no_price_dollars));
      cash = cash.plus(closing.times(f.yes_price_dollars)).minus(opening.times(f.no_price_dollars)).minus(f.fee_cost);
    }
    const after = await positionOf();
    assert.equal(after.position_fp, '-2.00');
    assert.equal(after.market_exposure_dollars, noCost.toFixed(4), 'exposure is what the NO contracts cost');
    assert.equal(after.realized_pnl_dollars, proceeds.minus(before.market_exposure_dollars!).toFixed(4), 'closing realizes proceeds minus cost');
    assert.equal((await raw('GET', '/portfolio/balance')).body.balance_dollars, cash.toFixed(4));
  });

  it('orders: GTC rests, then get, amend, decrease, cancel; duplicates and unknown ids are refused', async () => {
    const book = emu.exchange.market(FIRST).book.top();
    const restPrice = Math.max(100, book.yesBid!.price - 500);
    const price = new Dec(restPrice).div(10_000).toFixed(4);
    const created = await client.createOrder({ ticker: FIRST, client_order_id: 'gtc-1', side: 'bid', count: '10', price, time_in_force: 'good_till_canceled' });
    assert.equal(created.remaining_count, '10.00');
    await assert.rejects(client.createOrder({ ticker: FIRST, client_order_id: 'gtc-1', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled' }), DuplicateOrder);
    const got = await raw('GET', `/portfolio/orders/${created.order_id}`);
    assert.equal((got.body.order as Record<string, unknown>).status, 'resting');
    const lower = new Dec(restPrice - 100).div(10_000).toFixed(4);
    await client.amendOrder(created.order_id, { ticker: FIRST, side: 'bid', price: lower, count: '8' });
    const amended = (await raw('GET', `/portfolio/orders/${created.order_id}`)).body.order as Record<string, unknown>;
    assert.equal(amended.yes_price_dollars, lower);
    assert.equal(amended.remaining_count_fp, '8.00');
    const decreased = (await client.decreaseOrder(created.order_id, '3')) as Record<string, unknown>;
    assert.equal(decreased.remaining_count, '5.00');
    const canceled = await client.cancelOrder(created.order_id);
    assert.equal(canceled.reduced_by, '5.00');
    await assert.rejects(client.cancelOrder(created.order_id), OrderNotFound);
    await assert.rejects(client.cancelOrder('no-such-order'), OrderNotFound);
    const listed = await raw('GET', `/portfolio/orders?ticker=${FIRST}&status=canceled`);
    assert.ok((listed.body.orders as Record<string, unknown>[]).some((o) => o.order_id === created.order_id));
    const updates = userMessages.filter((u) => u.message.type === 'user_order' && u.message.msg.order_id === created.order_id).map((u) => u.message.msg.status);
    assert.equal(updates.at(-1), 'canceled');
  });

  it('batch create and batch cancel report per-order results', async () => {
    const price = new Dec(Math.max(100, emu.exchange.market(FIRST).book.top().yesBid!.price - 800)).div(10_000).toFixed(4);
    const batch = (await client.batchCreateOrders([
      { ticker: FIRST, client_order_id: 'b-1', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled' },
      { ticker: 'NO-SUCH-MARKET', client_order_id: 'b-2', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled' },
    ])) as { orders: { order_id?: string; error: { code: string } | null }[] };
    assert.equal(batch.orders.length, 2);
    assert.equal(batch.orders[0]!.error, null);
    assert.equal(batch.orders[1]!.error?.code, 'market_not_found');
    const canceled = await raw('DELETE', '/portfolio/events/orders/batched', { orders: [{ order_id: batch.orders[0]!.order_id }, { order_id: 'missing' }] });
    assert.equal(canceled.status, 200);
    const results = canceled.body.orders as { reduced_by: string; error: unknown }[];
    assert.equal(results[0]!.reduced_by, '1.00');
    assert.ok(results[1]!.error);
  });

  it('authenticates like Kalshi: 401 for a wrong key, an unknown key id, a stale timestamp or no signature', async () => {
    const impostor = keyPair();
    await assert.rejects(newClient(credentialsOf('alice-key', impostor.privateKey)).balance(), AuthenticationError);
    await assert.rejects(newClient(credentialsOf('nobody', impostor.privateKey)).balance(), AuthenticationError);
    await assert.rejects(newClient(aliceCreds, { clock: { nowMs: () => Date.now() - 120_000 } }).balance(), AuthenticationError);
    const unsigned = await raw('GET', '/portfolio/balance', undefined, { credentials: null });
    assert.equal(unsigned.status, 401);
    assert.equal((unsigned.body.error as Record<string, string>).code, 'unauthorized');
    assert.equal((await raw('GET', '/exchange/status', undefined, { credentials: null })).status, 200, 'public endpoints need no signature');
  });

  it('rate limits per account at the Basic tier and reports the limits', async () => {
    const limits = await client.accountLimits();
    assert.deepEqual(limits, { usage_tier: 'basic', read: { refill_rate: 200, bucket_capacity: 200 }, write: { refill_rate: 100, bucket_capacity: 100 } });
    await new Promise((r) => setTimeout(r, 1100));
    // 30 reads at 10 tokens against a 200-token bucket refilling 200/s: the burst cannot all pass.
    const bobCreds = credentialsOf('bob-key', bob.privateKey);
    const results = await Promise.all(Array.from({ length: 30 }, () => raw('GET', '/portfolio/balance', undefined, { credentials: bobCreds, unpaced: true })));
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length >= 5, `expected 429s, got ${limited.length}`);
    assert.equal((limited[0]!.body.error as Record<string, string>).code, 'too_many_requests');
    assert.ok(results.filter((r) => r.status === 200).length >= 20, 'the bucket capacity passes');
    // Another account has its own bucket.
    assert.equal((await raw('GET', '/portfolio/balance')).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
  });

  it('answers bad input with 400/404 in Kalshi\'s error shape, never crashing', async () => {
    const order = { ticker: FIRST, side: 'bid', count: '1', price: '0.5000', time_in_force: 'good_till_canceled', self_trade_prevention_type: 'taker_at_cross' };
    const cases: [string, string, unknown, number, string?][] = [
      ['POST', '/portfolio/events/orders', { ...order, price: '0.55555' }, 400],
      ['POST', '/portfolio/events/orders', { ...order, price: '0.5550' }, 400],
      ['POST', '/portfolio/events/orders', { ...order, count: '-1' }, 400],
      ['POST', '/portfolio/events/orders', { ...order, count: '1.005' }, 400],
      ['POST', '/portfolio/events/orders', { ...order, side: 'yes' }, 400],
      ['POST', '/portfolio/events/orders', { ...order, ticker: 'NOPE' }, 404],
      ['POST', '/portfolio/events/orders', [1, 2], 400],
      ['POST', '/portfolio/events/orders/x/decrease', { reduce_by: '1', reduce_to: '1' }, 400],
      ['GET', '/markets?limit=5000', undefined, 400],
      ['GET', '/markets?status=sideways', undefined, 400],
      ['GET', '/markets?cursor=garbage', undefined, 400],
      ['GET', `/markets/${FIRST}/orderbook?depth=101`, undefined, 400],
      ['GET', '/markets/NOPE', undefined, 404],
      ['GET', '/markets/%E0%A4%A', undefined, 400],
      ['POST', '/portfolio/events/orders', { ...order, side: 'ask', count: '5', reduce_only: true }, 400], // alice holds 2 NO: an ask has nothing to reduce
      ['GET', '/no/such/route', undefined, 404],
      ['PUT', '/markets', undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const r = await raw(method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
      const error = r.body.error as Record<string, string>;
      assert.ok(error?.code && error.message, `error shape for ${method} ${path}`);
    }
    // Reduce-only is capped by the position, as documented: alice holds 2 NO, so a bid of 5 rests for 2.
    const capped = await raw('POST', '/portfolio/events/orders', { ...order, price: '0.0100', count: '5', reduce_only: true });
    assert.equal(capped.status, 201, JSON.stringify(capped.body));
    const cappedOrder = capped.body as { order_id: string; fill_count: string; remaining_count: string };
    assert.equal(new Dec(cappedOrder.fill_count).plus(cappedOrder.remaining_count).toFixed(2), '2.00');
    assert.equal((await raw('DELETE', `/portfolio/events/orders/${cappedOrder.order_id}`)).status, 200);
    await assert.rejects(bobClient.createOrder({ ticker: FIRST, client_order_id: 'too-big', side: 'bid', count: '100000', price: '0.5000', time_in_force: 'good_till_canceled' }), InsufficientFunds);
    const badJson = await raw('POST', '/portfolio/events/orders', undefined, { rawBody: '{"ticker":' });
    assert.equal(badJson.status, 400);
    assert.equal((await raw('GET', '/exchange/status', undefined, { credentials: null })).status, 200, 'still serving');
  });

  it('fault: a burst of 429s and of 5xx, which our client retries through', async () => {
    const injected = { ...emu.faults.injected };
    const admin = await raw('POST', '/_emulator/faults', { rate_limit: 2 }, { credentials: null });
    assert.equal(admin.status, 200);
    assert.equal(((await client.balance()).balance > 0), true);
    assert.equal(emu.faults.injected.rateLimited, injected.rateLimited + 2);
    emu.faults.apply({ server_errors: 2, server_error_status: 503 });
    const status = await raw('GET', '/exchange/status', undefined, { credentials: null });
    assert.equal(status.status, 503);
    assert.equal((await client.balance()).balance > 0, true, 'the client retried through the second 503');
    assert.equal(emu.faults.injected.serverErrors, injected.serverErrors + 2);
    emu.faults.apply({ server_errors: 10 });
    await assert.rejects(newClient(aliceCreds, { maxRetries: 2 }).balance(), /HTTP 503/);
    emu.faults.apply({ server_errors: 0 });
    while (emu.faults.pending().server_errors > 0) await raw('GET', '/exchange/status', undefined, { credentials: null });
    assert.ok(logLines.some((l) => /^fault: 429 for GET/.test(l)) && logLines.some((l) => /^fault: 503 for GET/.test(l)), 'every injected fault is logged');
  });

  it('fault: an order is accepted but its response lost (socket destroyed, or the client times out)', async () => {
    const price = new Dec(Math.max(100, emu.exchange.market(FIRST).book.top().yesBid!.price - 600)).div(10_000).toFixed(4);
    const order = { ticker: FIRST, client_order_id: 'lost-1', side: 'bid', count: '2', price, time_in_force: 'good_till_canceled', self_trade_prevention_type: 'taker_at_cross' };
    emu.faults.apply({ lose_order_responses: 1, lose_mode: 'destroy' });
    await assert.rejects(raw('POST', '/portfolio/events/orders', order), /fetch failed/);
    const listed = (await raw('GET', `/portfolio/orders?ticker=${FIRST}&status=resting`)).body.orders as Record<string, unknown>[];
    assert.equal(listed.filter((o) => o.client_order_id === 'lost-1').length, 1, 'the order exists although its response was lost');

    // Our client times out; it does not resend an order (it may exist) but finds it by client order id.
    emu.faults.apply({ lose_order_responses: 1, lose_mode: 'hang' });
    const impatient = newClient(aliceCreds, { requestTimeoutMs: 300 });
    await assert.rejects(impatient.createOrder({ ticker: FIRST, client_order_id: 'lost-2', side: 'bid', count: '2', price, time_in_force: 'good_till_canceled' }), NetworkError);
    const found = [];
    for await (const o of client.orders({ ticker: FIRST, status: 'resting' })) if (o.client_order_id === 'lost-2') found.push(o);
    assert.equal(found.length, 1, 'the order was executed although the client never heard back');
    // Resending it anyway meets Kalshi's duplicate refusal, not a second order.
    await assert.rejects(client.createOrder({ ticker: FIRST, client_order_id: 'lost-2', side: 'bid', count: '2', price, time_in_force: 'good_till_canceled' }), DuplicateOrder);
    const again = (await raw('GET', `/portfolio/orders?ticker=${FIRST}&status=resting`)).body.orders as Record<string, unknown>[];
    assert.equal(again.filter((o) => o.client_order_id === 'lost-2').length, 1);
    assert.equal(emu.faults.injected.lostResponses, 2);
    for (const o of again) await client.cancelOrder(String(o.order_id));
  });

  it('fault: a paused exchange says so and refuses orders until resumed', async () => {
    const price = new Dec(Math.max(100, emu.exchange.market(FIRST).book.top().yesBid!.price - 600)).div(10_000).toFixed(4);
    const keep = await client.createOrder({ ticker: FIRST, client_order_id: 'pause-keep', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled' });
    const dropOnPause = await raw('POST', '/portfolio/events/orders', { ticker: FIRST, client_order_id: 'pause-drop', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled', self_trade_prevention_type: 'taker_at_cross', cancel_order_on_pause: true });
    assert.equal(dropOnPause.status, 201);
    await raw('POST', '/_emulator/faults', { pause_trading: true }, { credentials: null });
    const status = await raw('GET', '/exchange/status', undefined, { credentials: null });
    assert.deepEqual(status.body, { exchange_active: true, trading_active: false, exchange_estimated_resume_time: null });
    await assert.rejects(client.createOrder({ ticker: FIRST, client_order_id: 'paused-1', side: 'bid', count: '1', price, time_in_force: 'good_till_canceled' }), (e: Error) => e instanceof ExchangeNotAvailable && /trading_paused/.test(e.message));
    const dropped = (await raw('GET', `/portfolio/orders/${String(dropOnPause.body.order_id)}`)).body.order as Record<string, unknown>;
    assert.equal(dropped.status, 'canceled', 'cancel_order_on_pause orders are canceled by the pause');
    const kept = (await raw('GET', `/portfolio/orders/${keep.order_id}`)).body.order as Record<string, unknown>;
    assert.equal(kept.status, 'resting');
    emu.faults.apply({ pause_trading: false });
    assert.equal((await raw('GET', '/exchange/status', undefined, { credentials: null })).body.trading_active, true);
    await client.cancelOrder(keep.order_id);
  });

  it('fault: WebSocket disconnects and drops go to the WS server; the admin endpoint validates plans', async () => {
    const path = '/trade-api/ws/v2';
    const socket = new WebSocket(emu.wsUrl, { headers: kalshiAuthHeaders(aliceCreds, Date.now(), 'GET', path) });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const r = await raw('POST', '/_emulator/faults', { ws_disconnect: true, ws_drop_messages: 3 }, { credentials: null });
    assert.equal(r.status, 200);
    await closed;
    assert.ok(emu.faults.injected.wsDisconnects >= 1);
    assert.equal((await raw('POST', '/_emulator/faults', { explode: true }, { credentials: null })).status, 400);
    const state = await raw('GET', '/_emulator/state', undefined, { credentials: null });
    assert.equal(state.body.exchange_time_ms, emu.nowMs());
  });

  it('resting orders fill as maker from the recorded flow; GTC orders with expiration_time expire on the exchange clock', async () => {
    const top = emu.exchange.market(FIRST).book.top();
    const price = Math.min(top.yesBid!.price + 100, top.yesAsk!.price - 100);
    assert.ok(price >= top.yesBid!.price, 'a price at or above the best bid, below the ask');
    const priceText = new Dec(price).div(10_000).toFixed(4);
    const resting = await client.createOrder({ ticker: FIRST, client_order_id: 'maker-1', side: 'bid', count: '2', price: priceText, time_in_force: 'good_till_canceled' });
    assert.equal(resting.fill_count, '0.00');
    const expiresAtS = Math.floor(emu.nowMs() / 1000) + 30;
    const expiring = await raw('POST', '/portfolio/events/orders', { ticker: FIRST, client_order_id: 'expiring-1', side: 'bid', count: '1', price: '0.0100', time_in_force: 'good_till_canceled', self_trade_prevention_type: 'maker', expiration_time: expiresAtS });
    assert.equal(expiring.status, 201);
    await emu.advanceTo(emu.nowMs() + 180_000);
    const order = await client.order(resting.order_id);
    assert.ok(new Dec(order.fill_count_fp).gt(0), `the recorded sellers reached our bid (${order.fill_count_fp} filled)`);
    const fills = [];
    for await (const f of client.fills({ order_id: resting.order_id })) fills.push(f);
    assert.ok(fills.every((f) => !f.is_taker && f.yes_price_dollars === priceText), 'maker fills at our limit');
    assert.equal(new Dec(order.maker_fees_dollars).toFixed(4), fills.reduce((n, f) => n.plus(f.fee_cost), new Dec(0)).toFixed(4));
    if (order.status === 'resting') await client.cancelOrder(resting.order_id);
    const expired = (await raw('GET', `/portfolio/orders/${String(expiring.body.order_id)}`)).body.order as Record<string, unknown>;
    assert.equal(expired.status, 'canceled');
    assert.equal(expired.expiration_time, new Date(expiresAtS * 1000).toISOString());
  });

  it('recorded snapshots reach subscribers as deltas: a mirror book built from the messages matches the exchange', async () => {
    const mirror = new BinaryOrderBook(FIRST);
    const toLevels = (levels: unknown) => (levels as [string, string][]).map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    const snap = emu.exchange.snapshot(FIRST)!;
    mirror.applySnapshot(toLevels(snap.yes_dollars_fp), toLevels(snap.no_dollars_fp), 0);
    const from = marketMessages.length;
    const snapshotsBefore = emu.exchange.counters.snapshots;
    const recordedDeltasBefore = emu.exchange.counters.deltas - emu.exchange.counters.refusedDeltas;
    // The recorder re-subscribed just after the close: its snapshots arrive before the settlement.
    const settled = emu.exchange.market(FIRST).listed.settledMs!;
    await emu.advanceTo(settled - 1);
    assert.ok(emu.exchange.counters.snapshots > snapshotsBefore, 'the window has a recorded mid-stream snapshot');
    const deltaSchema = z.object({ market_ticker: z.string(), price_dollars: z.string(), delta_fp: z.string(), side: z.enum(['yes', 'no']), ts_ms: z.number() });
    const levelMap = (book: BinaryOrderBook, side: 'yes' | 'no') => book.levels(side).map((l) => `${l.price}:${l.size}`).join(',');
    for (const m of marketMessages.slice(from)) {
      if (m.type !== 'orderbook_delta' || m.marketTicker !== FIRST) continue;
      const d = deltaSchema.parse(m.msg);
      // Same-ms crossings are judged when the ms ends; apply as level sets so the mirror never refuses.
      mirror.setLevel(d.side, priceUnits(d.price_dollars), mirror.sizeAt(d.side, priceUnits(d.price_dollars)) + sizeUnits(d.delta_fp), d.ts_ms);
    }
    const emittedDeltas = marketMessages.slice(from).filter((m) => m.type === 'orderbook_delta').length;
    const recordedDeltas = emu.exchange.counters.deltas - emu.exchange.counters.refusedDeltas - recordedDeltasBefore;
    assert.ok(emittedDeltas > recordedDeltas, `the snapshots were sent as deltas (${emittedDeltas} sent, ${recordedDeltas} recorded)`);
    const book = emu.exchange.market(FIRST).book;
    assert.equal(levelMap(mirror, 'yes'), levelMap(book, 'yes'));
    assert.equal(levelMap(mirror, 'no'), levelMap(book, 'no'));
    assert.ok(marketMessages.slice(from).some((m) => m.type === 'ticker' && m.marketTicker === FIRST), 'ticker messages follow book changes');
  });

  it('settles at the recorded result: pays $1 per winning contract, closes positions, emits lifecycle events', async () => {
    const before = new Dec(((await raw('GET', '/portfolio/balance', undefined, { credentials: credentialsOf('bob-key', bob.privateKey) })).body.balance_dollars as string));
    await emu.runToEnd();
    const afterBody = (await raw('GET', '/portfolio/balance', undefined, { credentials: credentialsOf('bob-key', bob.privateKey) })).body;
    assert.equal(new Dec(afterBody.balance_dollars as string).minus(before).toFixed(4), '3.0000', 'NO won: $1 × 3');
    const positions = [];
    for await (const p of bobClient.positions({ ticker: FIRST })) positions.push(p as Record<string, string>);
    assert.equal(positions[0]!.position_fp, '0.00');
    const market = ((await raw('GET', `/markets/${FIRST}`, undefined, { credentials: null })).body.market as Record<string, unknown>);
    assert.equal(market.status, 'finalized');
    assert.equal(market.result, 'no');
    const lifecycle = marketMessages.filter((m) => m.type === 'market_lifecycle_v2').map((m) => `${m.marketTicker}:${String(m.msg.event_type)}`);
    assert.deepEqual(lifecycle.filter((l) => l.startsWith(FIRST)), [`${FIRST}:deactivated`, `${FIRST}:determined`, `${FIRST}:settled`]);
    assert.ok(lifecycle.includes(`${MARKETS[1]}:activated`) && lifecycle.includes(`${MARKETS[2]}:settled`));
    assert.ok(emu.exchange.atEnd);
  });

  it('every response the emulator sent in this run matches the OpenAPI schema of its operation', () => {
    assert.ok(observed.length > 50, `responses observed: ${observed.length}`);
    const failures = observed.filter((r) => r.operationId !== undefined).map((r) => ({ r, check: openapi.check(r.operationId!, r.status, r.body) })).filter((x) => !x.check.ok);
    assert.deepEqual(failures.map((f) => `${f.r.method} ${f.r.path} ${f.r.status}: ${f.check.errors}`), []);
    const operations = new Set(observed.map((r) => r.operationId));
    for (const op of ['GetMarkets', 'GetMarket', 'GetEvents', 'GetEvent', 'GetSeriesList', 'GetTrades', 'GetMarketOrderbook', 'GetBalance', 'GetPositions', 'GetFills', 'GetOrders', 'GetOrder', 'CreateOrderV2', 'CancelOrderV2', 'AmendOrderV2', 'DecreaseOrderV2', 'BatchCreateOrdersV2', 'BatchCancelOrdersV2', 'GetExchangeStatus', 'GetAccountApiLimits']) {
      assert.ok(operations.has(op), `the run exercised ${op}`);
    }
  });

  it('the schema check is not vacuous: broken bodies fail it', () => {
    const good = observed.find((r) => r.operationId === 'GetMarket' && r.status === 200)!;
    const market = { ...(good.body as { market: Record<string, unknown> }).market };
    delete market.ticker;
    assert.equal(openapi.check('GetMarket', 200, { market }).ok, false);
    assert.equal(openapi.check('GetBalance', 200, { balance: '12', balance_dollars: '0.12', portfolio_value: 0, updated_ts: 1 }).ok, false);
    assert.equal(openapi.check('GetMarkets', 418, {}).ok, false);
    assert.equal(openapi.check('GetMarkets', 200, { markets: [], cursor: '' }).ok, true);
  });
});

describe('Kalshi emulator: paced clock and the `venue emulate kalshi` command', function () {
  this.timeout(60_000);
  const REPO_ROOT = path.resolve(__dirname, '..', '..');

  it('at speed X the clock follows the recording by itself and skips the silence between recorded windows', async () => {
    const { publicKey } = keyPair();
    const markets = ['KXGOLD15M-26AUG050000-00', 'KXGOLD15M-26AUG050800-00'];
    const lines: string[] = [];
    const emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets, speed: 2000, accounts: [{ apiKeyId: 'pace', publicKey }], log: (l) => lines.push(l) });
    try {
      const startedAt = emu.nowMs();
      const second = emu.exchange.market(markets[1]!);
      // The second window opens 7.5 hours of exchange time after the first closes: at 2000× that
      // would be 13 minutes of waiting, unless the recorded silence is skipped.
      await waitFor(() => second.status, (s) => s === 'active' || s === 'closed' || s === 'finalized', 'the second window to open', 40_000);
      assert.equal(emu.exchange.market(markets[0]!).status, 'finalized', 'the first window settled on the way');
      assert.ok(emu.nowMs() - startedAt > 7 * 3_600_000);
      assert.ok(lines.some((l) => l.startsWith(`market ${markets[0]} finalized`)));
    } finally {
      await emu.close();
    }
  });

  it('prints exactly one line, serves signed requests, and stops cleanly on SIGTERM; bad arguments exit 2', async () => {
    const { privateKey, publicKey } = keyPair();
    const dir = mkdtempSync(path.join(tmpdir(), 'kalshi-emulator-'));
    const keyFile = path.join(dir, 'public.pem');
    writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const child = spawn(process.execPath, ['bin/kestrel.js', 'venue', 'emulate', 'kalshi', '--port', '0', '--markets', '1', '--speed', '5', '--api-key-id', 'cli-key', '--public-key', keyFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout, (s) => s.includes('\n') || child.exitCode !== null, 'the listening line', 30_000);
      const match = /^kalshi emulator listening on (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(stdout);
      assert.ok(match, `stdout: ${JSON.stringify(stdout)} stderr: ${stderr}`);
      const base = `${match[1]}/trade-api/v2`;
      assert.equal((await fetch(`${base}/exchange/status`)).status, 200);
      const credentials = credentialsOf('cli-key', privateKey);
      const balance = await fetch(`${base}/portfolio/balance`, { headers: kalshiAuthHeaders(credentials, Date.now(), 'GET', '/trade-api/v2/portfolio/balance') });
      assert.equal(balance.status, 200);
      assert.equal(((await balance.json()) as { balance_dollars: string }).balance_dollars, '10000.0000');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.equal(stdout.split('\n').filter(Boolean).length, 1, 'exactly one line on stdout');
    assert.match(stderr, /stopped cleanly/);

    const bad = spawnSync(process.execPath, ['bin/kestrel.js', 'venue', 'emulate', 'kalshi', '--speed', 'fast'], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--speed must be a number/);
    const cases: [string[], Record<string, string | boolean>, RegExp][] = [
      [['emulate', 'polymarket'], {}, /emulated venues: kalshi/],
      [['simulate', 'kalshi'], {}, /expected: emulate/],
      [['emulate', 'kalshi'], { 'api-key-id': 'x' }, /go together/],
      [['emulate', 'kalshi'], { 'api-key-id': 'x', 'public-key': path.join(dir, 'missing.pem') }, /not a readable public key/],
      [['emulate', 'kalshi'], { markets: '0' }, /--markets/],
      [['emulate', 'kalshi'], { feed: 'live' }, /--feed/],
      [['emulate', 'kalshi'], { port: '99999' }, /--port/],
      [['emulate', 'kalshi'], { start: 'yesterday' }, /--start/],
      [['emulate', 'kalshi'], { 'fault-429': '-1' }, /--fault-429/],
    ];
    for (const [positionals, values, message] of cases) assert.throws(() => parseEmulateArgs(positionals, values), (e: Error) => e instanceof EmulatorUsageError && message.test(e.message), JSON.stringify({ positionals, values }));
    const ok = parseEmulateArgs(['emulate', 'kalshi'], { markets: '3', speed: '60', 'fault-5xx': '2', 'pause-trading': true });
    assert.deepEqual([ok.port, ok.markets, ok.speed, ok.faults.server_errors, ok.faults.pause_trading], [8787, 3, 60, 2, true]);
  });
});
