import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClobClient, OrderType, Side, SignatureType, type ApiKeyCreds } from '@polymarket/clob-client';
import { generatePrivateKey } from 'viem/accounts';
import { ExchangeNotAvailable } from '../../domain/errors';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { parsePolymarketEmulateArgs, PolymarketEmulatorUsageError } from '../../venues/polymarket/emulator/cli';
import { startPolymarketEmulator, type PolymarketEmulator } from '../../venues/polymarket/emulator/server';
import { InMemoryOrderIdStore, PolymarketExecutionClient } from '../../venues/polymarket/execution';
import { signPolymarketOrder, type PolymarketMarketRules } from '../../venues/polymarket/order-signing';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';
import { PolymarketUserChannel } from '../../venues/polymarket/user-ws-client';
import { until } from '../fixtures/polymarket/support';

const SAMPLES = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'polymarket-ws-samples');
const ASSET = '1627500284739545390204314775735988068784669364445492030335161034375823784781';
/** The market's other recorded token (it has trades but no recorded book). */
const COMPLEMENT = '7849332184617640056758089974170387917558941201674921732369975950049491747956';
const MARKET = '0x14002070e74acaf96f70c8dfb881586b156c814fac0c1ac417b84c6c76687d00';
const BOOK_MS = 1770921571355;

const clob = (url: string, signer: ReturnType<typeof polymarketSignerFromKey>['signer'], creds?: ApiKeyCreds) =>
  new ClobClient(url, 137, signer, creds, SignatureType.EOA, undefined, undefined, false, undefined, undefined, false, undefined, true);

describe('Polymarket emulator: Kestrel\'s execution client and user channel as the client', function () {
  this.timeout(20_000);
  let emulator: PolymarketEmulator;
  const { signer, address } = polymarketSignerFromKey(generatePrivateKey());
  let creds: ApiKeyCreds;
  const rules: PolymarketMarketRules = { tokens: { yes: ASSET, no: COMPLEMENT }, tickSize: '0.01', negRisk: false, feeRateBps: '200' };
  const request = (over: Partial<OrderRequestWire> = {}): OrderRequestWire => ({ clientOrderId: 'pos-1:entry:1', positionId: 'pos-1', purpose: 'entry', market: ASSET, outcome: 'yes', action: 'buy', limitPrice: '0.47', size: '10', tif: 'ioc', ...over });
  const execution = () =>
    new PolymarketExecutionClient({
      api: clob(emulator.url, signer, creds),
      account: { signer, maker: address, signerAddress: address, signatureType: SignatureType.EOA, chainId: 137 },
      rules: () => Promise.resolve(rules),
      orderIds: new InMemoryOrderIdStore(),
      heartbeatMs: 30,
    });

  beforeEach(async () => {
    emulator = await startPolymarketEmulator({ dataDir: SAMPLES, defaultFeeRateBps: '200', confirmAfterMs: 20, heartbeatTimeoutMs: 150 });
    emulator.advanceTo(BOOK_MS + 1);
    creds = await clob(emulator.url, signer).createOrDeriveApiKey();
  });
  afterEach(() => emulator.close());

  it('an IOC entry fills at once; the user channel brings its fill with the taker fee, MATCHED then CONFIRMED', async () => {
    const client = execution();
    const states: OrderStateWire[] = [];
    client.onOrderUpdate((s) => states.push(s));
    const statuses: string[] = [];
    const channel = new PolymarketUserChannel({
      url: emulator.userWsUrl,
      creds: { key: creds.key, secret: creds.secret, passphrase: creds.passphrase },
      markets: [MARKET],
      onMessage: (msg) => {
        const m = msg as { event_type?: string; status?: string };
        if (m.event_type === 'trade') statuses.push(String(m.status));
        assert.equal(client.applyUserMessage(msg).ok, true);
      },
    });
    await channel.start();
    await until(() => emulator.ws.counters.connections === 1, 'the user channel connected');
    await new Promise((r) => setTimeout(r, 50));
    const placed = await client.submit(request());
    assert.equal(placed.status, 'filled');
    await until(() => statuses.includes('CONFIRMED'), 'the trade CONFIRMED');
    assert.deepEqual(statuses, ['MATCHED', 'CONFIRMED']);
    const last = states.at(-1)!;
    assert.equal(last.filled, '10.000000');
    assert.equal(last.fees, '0.04982', '10 × 0.02 × 0.47 × 0.53, floored to 5 decimals');
    assert.deepEqual(last.fills.map((f) => [f.price, f.size, f.liquidity]), [['0.4700', '10.000000', 'taker']]);
    await channel.close();
    await client.close();
  });

  it('a GTC entry rests and is cancelled; a resend under the same client order id places nothing twice', async () => {
    const client = execution();
    const placed = await client.submit(request({ tif: 'gtc', limitPrice: '0.40' }));
    assert.equal(placed.status, 'resting');
    assert.equal((await client.submit(request({ tif: 'gtc', limitPrice: '0.40' }))).venueOrderId, placed.venueOrderId);
    assert.equal(emulator.exchange.orders.size, 1);
    assert.equal((await client.cancel('pos-1:entry:1')).status, 'canceled');
    assert.equal(emulator.exchange.orderStatus(placed.venueOrderId!)!.status, 'CANCELED');
    await client.close();
  });

  it('heartbeats keep resting orders; when they stop, the emulator cancels them', async () => {
    const client = execution();
    await client.startHeartbeats();
    const placed = await client.submit(request({ tif: 'gtc', limitPrice: '0.40' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(emulator.exchange.orderStatus(placed.venueOrderId!)!.status, 'LIVE', 'beats every 30 ms keep it');
    assert.ok(emulator.rest.counters.heartbeats >= 3);
    await client.close();
    await until(() => emulator.exchange.orderStatus(placed.venueOrderId!)!.status === 'CANCELED', 'the dead-man cancel');
    assert.equal(emulator.rest.counters.heartbeatCancels, 1);
  });

  it('refuses what the CLOB refuses: no book yet, a crossing post-only order, a FOK the book cannot fill; a GTD order expires', async () => {
    const client = execution();
    // The NO token is recorded (trades) but has no recorded book: not ready, retryable.
    await assert.rejects(client.submit(request({ clientOrderId: 'pos-1:entry:2', outcome: 'no' })), (e: Error) => e instanceof ExchangeNotAvailable && /MARKET_NOT_READY/.test(e.message));
    await assert.rejects(client.submit(request({ clientOrderId: 'pos-1:entry:3', tif: 'gtc', postOnly: true })), /INVALID_POST_ONLY_ORDER/);
    // 1401.82 offered at 0.47 and nothing better: 2000 cannot all fill.
    const killed = await client.submit(request({ clientOrderId: 'pos-1:entry:4', tif: 'fok', size: '2000' }));
    assert.deepEqual([killed.status, killed.filled], ['canceled', '0.000000']);
    assert.equal(emulator.exchange.trades.length, 0);

    const api = clob(emulator.url, signer, creds);
    const expiresSec = Math.floor(BOOK_MS / 1000) + 5;
    const gtd = await api.createOrder({ tokenID: ASSET, price: 0.4, side: Side.BUY, size: 5, expiration: expiresSec }, { tickSize: '0.01' });
    const placed = (await api.postOrder(gtd, OrderType.GTD)) as { orderID: string; status: string };
    assert.equal(placed.status, 'live');
    emulator.advanceTo(expiresSec * 1000 - 1);
    assert.equal(emulator.exchange.orderStatus(placed.orderID)!.status, 'LIVE');
    emulator.advanceTo(expiresSec * 1000);
    assert.equal(emulator.exchange.orderStatus(placed.orderID)!.status, 'CANCELED');
    await client.close();
  });

  it('a heartbeat naming an unknown chain is refused', async () => {
    const api = clob(emulator.url, signer, creds);
    await assert.rejects(api.postHeartbeat('hb-999'), /Invalid heartbeat id/);
  });
});

describe('Polymarket emulator: a resting order fills when a recorded price_change crosses it', function () {
  this.timeout(20_000);
  let dir = '';
  let emulator: PolymarketEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the best bid at 0.46 leaves and an ask appears at 0.46: the resting 0.46 bid is the one that trades', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pm-emulator-'));
    const recordedBook = readFileSync(path.join(SAMPLES, 'polymarket_book.jsonl'), 'utf8').split('\n').find((l) => l.includes(ASSET))!;
    // Constructed for this test (not recorded): one timestamp batch that empties the 0.46 bids and offers 50 at 0.46.
    const priceChange = { event_type: 'price_change', market: MARKET, timestamp: String(BOOK_MS + 1000), price_changes: [
      { asset_id: ASSET, price: '0.46', side: 'BUY', size: '0', best_bid: '0.45', best_ask: '0.46' },
      { asset_id: ASSET, price: '0.46', side: 'SELL', size: '50', best_bid: '0.45', best_ask: '0.46' },
    ] };
    const tickChange = { event_type: 'tick_size_change', asset_id: ASSET, market: MARKET, old_tick_size: '0.01', new_tick_size: '0.001', timestamp: String(BOOK_MS + 2000) };
    writeFileSync(path.join(dir, 'recording.jsonl'), `${recordedBook}\n${JSON.stringify(priceChange)}\n${JSON.stringify(tickChange)}\n`);
    emulator = await startPolymarketEmulator({ dataDir: dir, defaultFeeRateBps: '200', confirmAfterMs: 20 });
    emulator.advanceTo(BOOK_MS);
    const wallet = polymarketSignerFromKey(generatePrivateKey());
    const creds = await clob(emulator.url, wallet.signer).createOrDeriveApiKey();
    const client = clob(emulator.url, wallet.signer, creds);
    const placed = (await client.createAndPostOrder({ tokenID: ASSET, price: 0.46, side: Side.BUY, size: 10 }, { tickSize: '0.01' }, OrderType.GTC)) as { orderID: string; status: string };
    assert.equal(placed.status, 'live');
    emulator.advanceTo(BOOK_MS + 999);
    assert.equal(emulator.exchange.orderStatus(placed.orderID)!.status, 'LIVE');
    emulator.advanceTo(BOOK_MS + 1000);
    const filled = emulator.exchange.orderStatus(placed.orderID)!;
    assert.deepEqual([filled.status, filled.sizeMatched.toString()], ['MATCHED', '10']);
    const [trade] = await client.getTrades({ asset_id: ASSET });
    assert.deepEqual([trade!.trader_side, trade!.maker_orders[0]!.order_id, trade!.maker_orders[0]!.price], ['MAKER', placed.orderID, '0.46']);
    const book = await client.getOrderBook(ASSET);
    assert.deepEqual([book.bids.at(-1)!.price, book.asks.at(-1)], ['0.45', { price: '0.46', size: '50' }]);

    // Also constructed: the tick narrows; the live tick is served and a finer price is taken.
    // Signed by Kestrel's signer: the official client will not build an order finer than the tick it was told.
    const account = { signer: wallet.signer, maker: wallet.address, signerAddress: wallet.address, signatureType: SignatureType.EOA, chainId: 137 as const };
    const { order: fine } = await signPolymarketOrder({ clientOrderId: 'fine-1', positionId: 'p', purpose: 'entry', market: ASSET, outcome: 'yes', action: 'buy', limitPrice: '0.405', size: '10', tif: 'gtc' }, { tokens: { yes: ASSET, no: COMPLEMENT }, tickSize: '0.001', negRisk: false, feeRateBps: '200' }, account);
    await assert.rejects(client.postOrder(fine, OrderType.GTC), /INVALID_ORDER_MIN_TICK_SIZE/);
    emulator.advanceTo(BOOK_MS + 2000);
    assert.equal((await client.getOrderBook(ASSET)).tick_size, '0.001');
    assert.equal(((await client.postOrder(fine, OrderType.GTC)) as { status: string }).status, 'live');
  });
});

describe('Polymarket emulator: paced clock', function () {
  this.timeout(20_000);

  it('at speed X the recording plays by itself to its end', async () => {
    const emulator = await startPolymarketEmulator({ dataDir: SAMPLES, speed: 2000 });
    try {
      const startedAt = emulator.nowMs();
      for (let i = 0; i < 200 && !emulator.exchange.atEnd; i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(emulator.exchange.atEnd, 'the whole recording played');
      // 174 s of recorded time, first book to last trade.
      assert.ok(emulator.nowMs() - startedAt >= 174_000);
      const book = (await (await fetch(`${emulator.url}/book?token_id=${ASSET}`)).json()) as { last_trade_price: string; bids: unknown[] };
      assert.equal(book.last_trade_price, '0.47', 'the last recorded trade of the asset');
      assert.equal(book.bids.length, 38);
    } finally {
      await emulator.close();
    }
  });
});

describe('venue emulate polymarket: command line', function () {
  this.timeout(60_000);

  it('prints its URLs on one line, serves the CLOB, stops cleanly on SIGTERM; bad arguments exit 2', async () => {
    const repoRoot = path.resolve(__dirname, '..', '..');
    const child = spawn(process.execPath, ['bin/kestrel.js', 'venue', 'emulate', 'polymarket', '--port', '0', '--data', SAMPLES, '--fee-rate-bps', '150'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 300 && !stdout.includes('\n') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      const match = /^polymarket emulator listening: REST (http:\/\/127\.0\.0\.1:(\d+)) {2}market channel ws:\/\/127\.0\.0\.1:\d+\/ws\/market {2}user channel ws:\/\/127\.0\.0\.1:\d+\/ws\/user\n$/.exec(stdout);
      assert.ok(match, `stdout: ${JSON.stringify(stdout)} stderr: ${stderr}`);
      const fee = (await (await fetch(`${match[1]}/fee-rate?token_id=${ASSET}`)).json()) as { base_fee: number };
      assert.equal(fee.base_fee, 150);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /stopped cleanly/);
    const bad = spawnSync(process.execPath, ['bin/kestrel.js', 'venue', 'emulate', 'polymarket', '--fee-rate-bps', 'lots'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--fee-rate-bps must be basis points/);
  });

  it('reads its options, with defaults', () => {
    const s = parsePolymarketEmulateArgs({ 'fee-rate-bps': '150', 'neg-risk': `${MARKET}` }, '/data');
    assert.deepEqual(s, { host: '127.0.0.1', port: 8788, dataDir: '/data', speed: 1, startAtMs: undefined, feeRateBps: '150', negRiskMarkets: [MARKET], chainId: 137 });
  });

  it('refuses bad values with the option named', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ port: '70000' }, /--port/],
      [{ speed: '0' }, /--speed/],
      [{ start: 'yesterday' }, /--start/],
      [{ 'fee-rate-bps': '1.5' }, /--fee-rate-bps/],
      [{ 'neg-risk': '0x12' }, /--neg-risk/],
      [{ 'chain-id': '1' }, /--chain-id/],
      [{ feed: 'replay:gold' }, /--feed is a Kalshi emulator option/],
    ];
    for (const [values, message] of bad) assert.throws(() => parsePolymarketEmulateArgs(values, '/data'), (e: Error) => e instanceof PolymarketEmulatorUsageError && message.test(e.message));
  });
});
