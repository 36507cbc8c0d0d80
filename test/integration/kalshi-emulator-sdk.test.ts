import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Configuration, ExchangeApi, MarketApi, OrdersApi, PortfolioApi } from 'kalshi-typescript';
import { Dec } from '../../domain/decimal';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import type { ObservedResponse } from '../../venues/kalshi/emulator/rest';
import { GOLD_DATA_DIR, KalshiOpenApi } from '../support/kalshi-openapi';

const MARKETS = ['KXGOLD15M-26AUG101800-00', 'KXGOLD15M-26AUG101815-15'];
const FIRST = MARKETS[0]!;

/** The HTTP response of an SDK (axios) error. */
const responseOf = (e: unknown) => (e as { response?: { status: number; data: unknown } }).response;

/**
 * The official Kalshi TypeScript SDK (kalshi-typescript, generated from Kalshi's OpenAPI, with its
 * own signing) as a second client, independent of our REST client.
 */
describe('Kalshi emulator with the official SDK (kalshi-typescript)', function () {
  this.timeout(60_000);
  const openapi = new KalshiOpenApi();
  const observed: ObservedResponse[] = [];
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let emu: KalshiEmulator;
  let market: MarketApi;
  let orders: OrdersApi;
  let portfolio: PortfolioApi;
  let exchange: ExchangeApi;

  before(async () => {
    emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: MARKETS, speed: 0, accounts: [{ apiKeyId: 'sdk-key', publicKey, balance: '250.00' }], observe: (r) => observed.push(r) });
    await emu.advanceTo(emu.nowMs() + 120_000);
    const config = new Configuration({ apiKey: 'sdk-key', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), basePath: emu.restUrl });
    market = new MarketApi(config);
    orders = new OrdersApi(config);
    portfolio = new PortfolioApi(config);
    exchange = new ExchangeApi(config);
  });

  after(async () => {
    await emu?.close();
  });

  it('reads the exchange status, lists markets and reads a book', async () => {
    assert.equal((await exchange.getExchangeStatus()).data.trading_active, true);
    const page1 = await market.getMarkets(1);
    assert.equal(page1.data.markets.length, 1);
    assert.ok(page1.data.cursor, 'a cursor to the next page');
    const page2 = await market.getMarkets(1, page1.data.cursor);
    assert.deepEqual([page1.data.markets[0]!.ticker, page2.data.markets[0]!.ticker], MARKETS);
    assert.equal(page2.data.cursor, '');
    const open = await market.getMarkets(100, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'open');
    assert.deepEqual(open.data.markets.map((m) => m.ticker), [FIRST]);
    const book = await market.getMarketOrderbook(FIRST, 5);
    assert.equal(book.data.orderbook_fp.yes_dollars.length, 5);
    assert.equal(book.data.orderbook_fp.no_dollars.length, 5);
    const { data } = await market.getMarket(FIRST);
    assert.equal(data.market.yes_bid_dollars, book.data.orderbook_fp.yes_dollars.at(-1)![0]);
  });

  it('creates, gets, amends and cancels an order; reads fills, positions and balance', async () => {
    const top = emu.exchange.market(FIRST).book.top();
    const restPrice = new Dec(Math.max(100, top.yesBid!.price - 400)).div(10_000).toFixed(4);
    const created = await orders.createOrderV2({ ticker: FIRST, client_order_id: 'sdk-1', side: 'bid', count: '4.00', price: restPrice, time_in_force: 'good_till_canceled', self_trade_prevention_type: 'taker_at_cross' });
    assert.equal(created.status, 201);
    const orderId = created.data.order_id;
    assert.equal(created.data.remaining_count, '4.00');
    assert.equal((await orders.getOrder(orderId)).data.order.status, 'resting');

    const amended = await orders.amendOrderV2(orderId, { ticker: FIRST, side: 'bid', price: restPrice, count: '2.00' });
    assert.equal(amended.data.remaining_count, '2.00');
    const decreased = await orders.decreaseOrderV2(orderId, { reduce_by: '1.00' });
    assert.equal(decreased.data.remaining_count, '1.00');
    const canceled = await orders.cancelOrderV2(orderId);
    assert.equal(canceled.data.reduced_by, '1.00');
    assert.equal((await orders.getOrder(orderId)).data.order.status, 'canceled');
    const listed = await orders.getOrders(FIRST, undefined, undefined, undefined, 'canceled');
    assert.ok(listed.data.orders.some((o) => o.order_id === orderId && o.client_order_id === 'sdk-1'));

    const balanceBefore = new Dec((await portfolio.getBalance()).data.balance_dollars);
    const taken = await orders.createOrderV2({ ticker: FIRST, client_order_id: 'sdk-2', side: 'bid', count: '3.00', price: '0.9900', time_in_force: 'fill_or_kill', self_trade_prevention_type: 'taker_at_cross' });
    assert.equal(taken.data.fill_count, '3.00');
    const fills = (await portfolio.getFills(FIRST, taken.data.order_id)).data.fills;
    assert.ok(fills.length >= 1 && fills.every((f) => f.is_taker && f.book_side === 'bid'));
    const cost = fills.reduce((n, f) => n.plus(new Dec(f.count_fp).times(f.yes_price_dollars)), new Dec(0));
    const fees = fills.reduce((n, f) => n.plus(f.fee_cost), new Dec(0));
    const positions = (await portfolio.getPositions(undefined, undefined, undefined, FIRST)).data;
    assert.equal(positions.market_positions[0]!.position_fp, '3.00');
    assert.equal(positions.event_positions[0]!.event_ticker, FIRST.replace(/-\d\d$/, ''));
    const balanceAfter = new Dec((await portfolio.getBalance()).data.balance_dollars);
    assert.equal(balanceBefore.minus(balanceAfter).toFixed(4), cost.plus(fees).toFixed(4));
  });

  it('surfaces Kalshi errors through the SDK (duplicate client order id → 409, unknown order → 404)', async () => {
    const top = emu.exchange.market(FIRST).book.top();
    const price = new Dec(Math.max(100, top.yesBid!.price - 500)).div(10_000).toFixed(4);
    const order = { ticker: FIRST, client_order_id: 'sdk-dup', side: 'bid' as const, count: '1.00', price, time_in_force: 'good_till_canceled' as const, self_trade_prevention_type: 'taker_at_cross' as const };
    const first = await orders.createOrderV2(order);
    await assert.rejects(orders.createOrderV2(order), (e: unknown) => responseOf(e)?.status === 409 && (responseOf(e)!.data as { error: { code: string } }).error.code === 'order_already_exists');
    await orders.cancelOrderV2(first.data.order_id);
    // (A 401 cannot be provoked through the SDK in-process: every SDK instance adds its signing
    // interceptor to the global axios, so the first instance's key signs every later request.)
    await assert.rejects(orders.getOrder('no-such-order'), (e: unknown) => responseOf(e)?.status === 404);
  });

  it('every response the SDK received matches the OpenAPI', () => {
    const failures = observed.filter((r) => r.operationId).map((r) => ({ r, check: openapi.check(r.operationId!, r.status, r.body) })).filter((x) => !x.check.ok);
    assert.deepEqual(failures.map((f) => `${f.r.method} ${f.r.path} ${f.r.status}: ${f.check.errors}`), []);
    assert.ok(observed.length >= 15);
  });
});
