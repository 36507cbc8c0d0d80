import assert from 'node:assert/strict';
import path from 'node:path';
import { ClobClient, OrderType, Side, SignatureType, type ApiKeyCreds } from '@polymarket/clob-client';
import { generatePrivateKey } from 'viem/accounts';
import WebSocket from 'ws';
import { BookStore } from '../../domain/market-data/book-store';
import { priceText, priceUnits, sizeText, sizeUnits } from '../../domain/fixed-point';
import { startPolymarketEmulator, type PolymarketEmulator } from '../../venues/polymarket/emulator/server';
import { loadPolymarketRecording } from '../../venues/polymarket/emulator/recording';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { PolymarketFillLedger } from '../../venues/polymarket/fills';
import { parsePolymarketUserMessage, type PolymarketUserTrade } from '../../venues/polymarket/user-messages';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';
import { until } from '../fixtures/polymarket/support';

const SAMPLES = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'polymarket-ws-samples');
/** A recorded asset with a book at BOOK_MS (best bid 0.46 × 38.13, best ask 0.47 × 1401.82) and recorded trades after it. */
const ASSET = '1627500284739545390204314775735988068784669364445492030335161034375823784781';
const MARKET = '0x14002070e74acaf96f70c8dfb881586b156c814fac0c1ac417b84c6c76687d00';
const BOOK_MS = 1770921571355;
/** Recorded: SELL 0.2 @ 0.46 at +39 ms, SELL 60 @ 0.45 at 1770921575967 (it passes through a bid at 0.46). */
const SELL_THROUGH_MS = 1770921575967;
/** Another recorded market, declared neg-risk for the signature test. */
const NEG_RISK_ASSET = '55558439202698150487746672855322717857013777460388991228050731207297477093591';
const NEG_RISK_MARKET = '0x02330ccbfc';

function clobClient(url: string, signer: ReturnType<typeof polymarketSignerFromKey>['signer'], creds?: ApiKeyCreds): ClobClient {
  return new ClobClient(url, 137, signer, creds, SignatureType.EOA, undefined, undefined, false, undefined, undefined, false, undefined, true);
}

/** A raw WebSocket client collecting every message (JSON arrays flattened, plain text as `{ text }`). */
async function channel(url: string, hello: unknown): Promise<{ ws: WebSocket; messages: Record<string, unknown>[] }> {
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => {
    const text = String(data);
    if (text === 'PONG') return;
    // The venue answers some errors in plain text.
    if (!text.startsWith('{') && !text.startsWith('[')) return void messages.push({ text });
    const parsed = JSON.parse(text) as unknown;
    messages.push(...(Array.isArray(parsed) ? (parsed as Record<string, unknown>[]) : [parsed as Record<string, unknown>]));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify(hello));
  return { ws, messages };
}

describe('Polymarket CLOB emulator with the official ClobClient', function () {
  this.timeout(20_000);
  let emulator: PolymarketEmulator;
  const wallet = polymarketSignerFromKey(generatePrivateKey());
  let creds: ApiKeyCreds;
  let client: ClobClient;
  const sockets: WebSocket[] = [];
  let negRiskMarket = '';

  before(async () => {
    negRiskMarket = loadPolymarketRecording(SAMPLES).find((m) => m.assets[0] === NEG_RISK_ASSET)!.market!;
    assert.ok(negRiskMarket.startsWith(NEG_RISK_MARKET));
    emulator = await startPolymarketEmulator({ dataDir: SAMPLES, defaultFeeRateBps: '200', negRiskMarkets: [negRiskMarket], confirmAfterMs: 20 });
    emulator.advanceTo(BOOK_MS + 1);
    creds = await clobClient(emulator.url, wallet.signer).createOrDeriveApiKey();
    client = clobClient(emulator.url, wallet.signer, creds);
  });
  after(async () => {
    for (const ws of sockets) ws.terminate();
    await emulator.close();
  });

  it('derives the same API key again from an L1 signature, and refuses L2 requests signed with another secret', async () => {
    assert.match(creds.key, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const again = await clobClient(emulator.url, wallet.signer).deriveApiKey();
    assert.deepEqual(again, creds);
    const forged = clobClient(emulator.url, wallet.signer, { ...creds, secret: Buffer.from('not the secret').toString('base64') });
    await assert.rejects(forged.getOpenOrders(), /Invalid api key/);
    const stranger = polymarketSignerFromKey(generatePrivateKey());
    await assert.rejects(clobClient(emulator.url, stranger.signer, creds).getOpenOrders(), /Invalid api key/);
  });

  it('serves the recorded book, tick size, neg-risk flag, fee rate and markets', async () => {
    const book = await client.getOrderBook(ASSET);
    assert.equal(book.market, MARKET);
    assert.deepEqual(book.bids.at(-1), { price: '0.46', size: '38.13' }, 'bids low → high: the best is last');
    assert.deepEqual(book.asks.at(-1), { price: '0.47', size: '1401.82' });
    assert.equal(book.tick_size, '0.01');
    // The venue's hash over the book served (book-hash.ts) is the recorded message's: the book is served as recorded.
    assert.equal(book.hash, '5fc94a71ecc5aa68def49e980c62984ecc412ead');
    assert.equal(await client.getTickSize(ASSET), '0.01');
    assert.equal(await client.getNegRisk(ASSET), false);
    assert.equal(await client.getNegRisk(NEG_RISK_ASSET), true);
    assert.equal(Number(await client.getFeeRateBps(ASSET)), 200);
    const market = (await client.getMarket(MARKET)) as { condition_id: string; tokens: { token_id: string }[] };
    assert.equal(market.condition_id, MARKET);
    assert.ok(market.tokens.some((t) => t.token_id === ASSET));
    await assert.rejects(client.getOrderBook('123'), /No orderbook exists/);
  });

  it('a GTC bid rests, fills when recorded selling passes through it, shows in trades; user channel: MATCHED then CONFIRMED', async () => {
    const user = await channel(emulator.userWsUrl, { auth: { apiKey: creds.key, secret: creds.secret, passphrase: creds.passphrase }, markets: [MARKET], type: 'user' });
    sockets.push(user.ws);
    await new Promise((r) => setTimeout(r, 50));
    const placed = (await client.createAndPostOrder({ tokenID: ASSET, price: 0.46, side: Side.BUY, size: 10 }, { tickSize: '0.01' }, OrderType.GTC)) as { success: boolean; orderID: string; status: string };
    assert.equal(placed.success, true);
    assert.equal(placed.status, 'live', 'at the bid: it rests behind the recorded 38.13');
    assert.equal(((await client.getOrder(placed.orderID)) as { status: string }).status, 'LIVE');
    assert.deepEqual(
      (await client.getOpenOrders({ asset_id: ASSET })).map((o) => o.id),
      [placed.orderID],
    );
    emulator.advanceTo(SELL_THROUGH_MS - 1);
    assert.equal(((await client.getOrder(placed.orderID)) as { size_matched: string }).size_matched, '0', 'a 0.2 sale at 0.46 only shortens the queue ahead');
    emulator.advanceTo(SELL_THROUGH_MS);
    const filled = (await client.getOrder(placed.orderID)) as { status: string; size_matched: string };
    assert.deepEqual([filled.status, filled.size_matched], ['MATCHED', '10']);
    const trades = await client.getTrades({ asset_id: ASSET });
    const mine = trades.filter((t) => t.maker_orders.some((m) => m.order_id === placed.orderID));
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.trader_side, 'MAKER');
    assert.equal(mine[0]!.maker_orders[0]!.price, '0.46');

    await until(() => user.messages.filter((m) => m.event_type === 'trade' && m.status === 'CONFIRMED').length === 1, 'the trade CONFIRMED');
    const parsed = user.messages.map((m) => parsePolymarketUserMessage(m));
    assert.ok(parsed.every((p) => p.ok), 'every user message passes Kestrel\'s parser');
    const kinds = user.messages.map((m) => (m.event_type === 'order' ? `order ${String(m.type)} ${String(m.status)}` : `trade ${String(m.status)}`));
    assert.deepEqual(kinds, ['order PLACEMENT LIVE', 'order UPDATE MATCHED', 'trade MATCHED', 'trade CONFIRMED']);
    const ledger = new PolymarketFillLedger((id) => id === placed.orderID);
    const changes = parsed.flatMap((p) => (p.ok && p.value.kind === 'trade' ? ledger.apply(p.value.trade) : []));
    assert.deepEqual(changes.map((c) => c.kind), ['added', 'status']);
    assert.deepEqual(ledger.fillsOf(placed.orderID).map((f) => [f.status, f.fill.size, f.fill.liquidity, f.fill.fee]), [['CONFIRMED', '10.000000', 'maker', '0.00000']]);
  });

  it('a marketable FAK fills at once against the recorded ask and pays the taker fee', async () => {
    const user = await channel(emulator.userWsUrl, { auth: { apiKey: creds.key, secret: creds.secret, passphrase: creds.passphrase }, type: 'user' });
    sockets.push(user.ws);
    await new Promise((r) => setTimeout(r, 50));
    const order = await client.createOrder({ tokenID: ASSET, price: 0.47, side: Side.BUY, size: 10 }, { tickSize: '0.01' });
    const answer = (await client.postOrder(order, OrderType.FAK)) as { success: boolean; orderID: string; status: string };
    assert.deepEqual([answer.success, answer.status], [true, 'matched']);
    await until(() => user.messages.some((m) => m.event_type === 'trade' && m.status === 'CONFIRMED'), 'the taker trade CONFIRMED');
    const trade = user.messages.find((m) => m.event_type === 'trade') as Record<string, unknown>;
    const p = parsePolymarketUserMessage(trade);
    assert.ok(p.ok && p.value.kind === 'trade');
    const ledger = new PolymarketFillLedger((id) => id === answer.orderID);
    ledger.apply(p.value.trade as PolymarketUserTrade);
    // 10 × 0.02 × 0.47 × 0.53 = 0.04982
    assert.deepEqual(ledger.fillsOf(answer.orderID).map((f) => [f.fill.price, f.fill.size, f.fill.liquidity, f.fill.fee]), [['0.4700', '10.000000', 'taker', '0.04982']]);
    assert.equal(emulator.exchange.trades.find((t) => t.orderId === answer.orderID)!.fee.toString(), '0.04982');
    // Nothing to match below the ask: killed, nothing placed.
    const below = await client.createOrder({ tokenID: ASSET, price: 0.3, side: Side.BUY, size: 10 }, { tickSize: '0.01' });
    const killed = (await client.postOrder(below, OrderType.FAK)) as { success: boolean; errorMsg: string };
    assert.equal(killed.success, false);
    assert.match(killed.errorMsg, /no orders found to match/);
  });

  it('cancels a resting order once; the second cancel is refused with the reason', async () => {
    const placed = (await client.createAndPostOrder({ tokenID: ASSET, price: 0.3, side: Side.BUY, size: 5 }, { tickSize: '0.01' }, OrderType.GTC)) as { orderID: string; status: string };
    assert.equal(placed.status, 'live');
    assert.deepEqual(await client.cancelOrder({ orderID: placed.orderID }), { canceled: [placed.orderID], not_canceled: {} });
    assert.equal(((await client.getOrder(placed.orderID)) as { status: string }).status, 'CANCELED');
    const again = (await client.cancelOrder({ orderID: placed.orderID })) as { canceled: string[]; not_canceled: Record<string, string> };
    assert.deepEqual(again.canceled, []);
    assert.match(again.not_canceled[placed.orderID]!, /already canceled or matched/);
  });

  it('refuses a bad signature, and an order signed against the wrong exchange for a neg-risk market', async () => {
    const order = await client.createOrder({ tokenID: ASSET, price: 0.3, side: Side.BUY, size: 5 }, { tickSize: '0.01' });
    const tampered = { ...order, makerAmount: String(Number(order.makerAmount) + 10_000) };
    await assert.rejects(client.postOrder(tampered, OrderType.GTC), /invalid signature/);
    const wrongExchange = await client.createOrder({ tokenID: NEG_RISK_ASSET, price: 0.1, side: Side.BUY, size: 5 }, { tickSize: '0.01', negRisk: false });
    await assert.rejects(client.postOrder(wrongExchange, OrderType.GTC), /invalid signature/);
    const rightExchange = (await client.createAndPostOrder({ tokenID: NEG_RISK_ASSET, price: 0.1, side: Side.BUY, size: 5 }, { tickSize: '0.01' }, OrderType.GTC)) as { success: boolean };
    assert.equal(rightExchange.success, true, 'signed against the neg-risk exchange (the client asked /neg-risk)');
    const offTick = await client.createOrder({ tokenID: ASSET, price: 0.3, side: Side.BUY, size: 1 }, { tickSize: '0.01' });
    await assert.rejects(client.postOrder(offTick, OrderType.GTC), /INVALID_ORDER_MIN_SIZE/);
  });

  it('refuses an order signed by another wallet than the API key\'s, and a user channel with wrong credentials', async () => {
    const stranger = polymarketSignerFromKey(generatePrivateKey());
    const foreign = await clobClient(emulator.url, stranger.signer, creds).createOrder({ tokenID: ASSET, price: 0.3, side: Side.BUY, size: 5 }, { tickSize: '0.01' });
    await assert.rejects(client.postOrder(foreign, OrderType.GTC), /signer is not the API key's address/);
    const user = await channel(emulator.userWsUrl, { auth: { apiKey: creds.key, secret: 'wrong', passphrase: creds.passphrase }, type: 'user' });
    sockets.push(user.ws);
    const code = await new Promise<number>((resolve) => user.ws.once('close', (c) => resolve(c)));
    assert.equal(code, 1008);
    assert.deepEqual(user.messages, [{ text: 'INVALID AUTH' }]);
  });

  it('the market channel delivers a book the book sync accepts, equal to GET /book, then the recorded trades', async () => {
    const market = await channel(emulator.marketWsUrl, { assets_ids: [ASSET], type: 'market' });
    sockets.push(market.ws);
    await until(() => market.messages.length > 0, 'the book');
    const resyncs: string[] = [];
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 10, sampleMs: 0 }), { requestResync: (asset, reason) => resyncs.push(`${asset}: ${reason}`) });
    for (const m of market.messages) sync.handle(m);
    sync.flush();
    assert.deepEqual(resyncs, []);
    assert.equal(market.messages[0]!.event_type, 'book');
    const top = sync.store.state(ASSET).book.top();
    const rest = await client.getOrderBook(ASSET);
    assert.deepEqual([priceText(top.yesBid!.price), sizeText(top.yesBid!.size)], ['0.4600', '38.130000']);
    assert.equal(top.yesBid!.price, priceUnits(rest.bids.at(-1)!.price), 'the same best bid as GET /book');
    assert.equal(top.yesAsk!.price, priceUnits(rest.asks.at(-1)!.price), 'the same best ask as GET /book');
    assert.equal(top.yesAsk!.size, sizeUnits(rest.asks.at(-1)!.size));
    assert.equal(market.messages[0]!.hash, rest.hash);
    assert.equal(sync.tickSize(ASSET), '0.01');
    const before = market.messages.length;
    emulator.advanceTo(1770921576801);
    await until(() => market.messages.length > before, 'the recorded trade');
    const trade = market.messages.at(-1)!;
    assert.deepEqual([trade.event_type, trade.price, trade.side], ['last_trade_price', '0.47', 'BUY']);
    // Subscribing another asset on the open connection sends its book.
    const count = market.messages.length;
    market.ws.send(JSON.stringify({ operation: 'subscribe', assets_ids: [NEG_RISK_ASSET] }));
    await until(() => market.messages.length > count, 'the added asset\'s book');
    assert.deepEqual([market.messages.at(-1)!.event_type, market.messages.at(-1)!.asset_id], ['book', NEG_RISK_ASSET]);
  });
});
