import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import type { MarketEvent } from '../../domain/market-data/events';
import { attachKalshiWsServer } from '../../venues/kalshi/emulator/ws-server';
import { KalshiWsClient } from '../../venues/kalshi/ws-client';
import { parseKalshiChannelMessage, parseKalshiTrade } from '../../venues/kalshi/ws-messages';
import { parseKalshiBookMessage } from '../../venues/kalshi/market-events';
import { startKalshiEmulator } from '../../venues/kalshi/emulator/server';
import type { EmulatorExchangeView, EmulatorMarketMessage, EmulatorUserMessage, HandshakeVerdict } from '../../venues/kalshi/emulator/types';
import { kalshiAuthHeaders, loadKalshiCredentials, publicKeyOf, verifyKalshiSignature, type KalshiCredentials } from '../../venues/kalshi/signing';
import { SHARED_DATA_DIR } from '../support/harness';
import { until } from '../support/wait';

const WS_PATH = '/trade-api/ws/v2';
const [A, B, C] = ['KXGOLD15M-T1-A', 'KXGOLD15M-T2-B', 'KXGOLD15M-T3-C'] as const;

type Frame = Record<string, unknown> & { id?: number; type?: string; sid?: number; seq?: number; msg?: unknown };

/** A small exchange: three markets, books that change version on every delta, push functions, real signature checks. */
class FakeExchange implements EmulatorExchangeView {
  readonly logs: string[] = [];
  private readonly versions = new Map<string, number>([A, B, C].map((m) => [m, 0]));
  private readonly marketListeners = new Set<(m: EmulatorMarketMessage) => void>();
  private readonly userListeners = new Set<(key: string, m: EmulatorUserMessage) => void>();

  constructor(private readonly publicKeys: Map<string, ReturnType<typeof publicKeyOf>>) {}

  snapshot(marketTicker: string): Record<string, unknown> | undefined {
    const version = this.versions.get(marketTicker);
    if (version === undefined) return undefined;
    return { market_ticker: marketTicker, yes_dollars_fp: [['0.4000', `${10 + version}.00`]], no_dollars_fp: [['0.5500', '5.00']] };
  }
  marketTickers(): string[] {
    return [...this.versions.keys()];
  }
  onMarketMessage(listener: (m: EmulatorMarketMessage) => void): () => void {
    this.marketListeners.add(listener);
    return () => this.marketListeners.delete(listener);
  }
  onUserMessage(listener: (key: string, m: EmulatorUserMessage) => void): () => void {
    this.userListeners.add(listener);
    return () => this.userListeners.delete(listener);
  }
  verifyHandshake(headers: IncomingHttpHeaders, path: string): HandshakeVerdict {
    const key = String(headers['kalshi-access-key'] ?? '');
    const publicKey = this.publicKeys.get(key);
    const ts = Number(headers['kalshi-access-timestamp']);
    if (!publicKey || !verifyKalshiSignature(publicKey, ts, 'GET', path, String(headers['kalshi-access-signature'] ?? ''))) {
      return { ok: false, status: 401, message: 'bad signature' };
    }
    return { ok: true, apiKeyId: key };
  }
  log(line: string): void {
    this.logs.push(line);
  }

  delta(market: string, price = '0.4000'): void {
    this.versions.set(market, this.versions.get(market)! + 1);
    this.pushMarket({ channel: 'orderbook_delta', type: 'orderbook_delta', marketTicker: market, msg: { market_ticker: market, price_dollars: price, delta_fp: '1.00', side: 'yes', ts_ms: 1 } });
  }
  pushMarket(message: EmulatorMarketMessage): void {
    for (const l of this.marketListeners) l(message);
  }
  pushUser(apiKeyId: string, message: EmulatorUserMessage): void {
    for (const l of this.userListeners) l(apiKeyId, message);
  }
}

/** A `ws` client that records every frame it receives. */
class TestClient {
  readonly frames: Frame[] = [];
  private nextId = 1;
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.frames.push(JSON.parse(data.toString()) as Frame));
    ws.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static open(url: string, headers: Record<string, string>, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { ...options, headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new TestClient(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends a command with a fresh id and waits for `replies` frames carrying that id. */
  async command(cmd: string, params?: Record<string, unknown>, replies = 1): Promise<Frame[]> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify(params ? { id, cmd, params } : { id, cmd }));
    await until(() => this.withId(id).length >= replies, `${replies} repl(ies) to ${cmd} #${id}`);
    return this.withId(id);
  }

  withId(id: number): Frame[] {
    return this.frames.filter((f) => f.id === id);
  }
  onSid(sid: number): Frame[] {
    return this.frames.filter((f) => f.sid === sid && f.type !== 'ok' && f.type !== 'unsubscribed');
  }
  async subscribe(channels: string[], marketTickers?: string[]): Promise<number[]> {
    const replies = await this.command('subscribe', marketTickers ? { channels, market_tickers: marketTickers } : { channels }, channels.length);
    return replies.map((r) => (r.msg as { sid: number }).sid);
  }
  close(): void {
    this.ws.terminate();
  }
}

const tickerOf = (f: Frame) => (f.msg as { market_ticker: string }).market_ticker;

describe('Kalshi emulator WebSocket server', function () {
  this.timeout(20_000);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const alice = loadKalshiCredentials('key-alice', pem);
  const bob = loadKalshiCredentials('key-bob', pem);
  const publicKeys = new Map([alice, bob].map((c) => [c.apiKeyId, publicKeyOf(c.privateKey)]));

  let http: Server;
  let exchange: FakeExchange;
  let control: ReturnType<typeof attachKalshiWsServer>;
  let url: string;
  const clients: TestClient[] = [];

  async function start(opts: { pingEveryMs?: number; maxBufferedBytes?: number } = {}): Promise<void> {
    exchange = new FakeExchange(publicKeys);
    http = createServer((_req, res) => res.writeHead(404).end());
    control = attachKalshiWsServer(http, exchange, { path: WS_PATH, ...opts });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}${WS_PATH}`;
  }
  async function stop(): Promise<void> {
    for (const c of clients.splice(0)) c.close();
    await control.close();
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
  }
  /** A server with other options, instead of the default one. */
  async function restart(opts: Parameters<typeof start>[0]): Promise<void> {
    await stop();
    await start(opts);
  }
  async function connect(credentials: KalshiCredentials = alice, options?: WebSocket.ClientOptions): Promise<TestClient> {
    const client = await TestClient.open(url, kalshiAuthHeaders(credentials, Date.now(), 'GET', WS_PATH), options);
    clients.push(client);
    return client;
  }

  beforeEach(() => start());
  afterEach(stop);

  /** The HTTP status an upgrade is refused with. */
  const refusedUpgrade = (target: string, headers: Record<string, string>) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(target, { headers });
      ws.on('error', () => {}); // the refused request's socket ends with the response
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      ws.once('open', () => reject(new Error('the upgrade was accepted')));
    });

  it('refuses a handshake the exchange rejects with HTTP 401 on the upgrade, and opens no socket', async () => {
    const forged = { ...kalshiAuthHeaders(alice, Date.now(), 'GET', WS_PATH), 'KALSHI-ACCESS-SIGNATURE': 'AAAA' };
    assert.equal(await refusedUpgrade(url, forged), 401);
    // Signed for another path: the server checks the signature against the path it serves.
    assert.equal(await refusedUpgrade(url, kalshiAuthHeaders(alice, Date.now(), 'GET', '/trade-api/v2/markets')), 401);
    assert.equal(await refusedUpgrade(url.replace(WS_PATH, '/trade-api/ws/v3'), kalshiAuthHeaders(alice, Date.now(), 'GET', '/trade-api/ws/v3')), 404);
    assert.equal(control.counters.connections, 0);
    assert.ok(exchange.logs.some((l) => /handshake refused \(401\)/.test(l)));
    // A signed handshake on the same server still works.
    await connect();
    assert.equal(control.counters.connections, 1);
  });

  it('answers subscribe with one `subscribed` per channel carrying the command id, each with its own sid', async () => {
    const client = await connect();
    const replies = await client.command('subscribe', { channels: ['orderbook_delta', 'trade', 'ticker'], market_tickers: [A] }, 3);
    assert.deepEqual(
      replies.map((r) => [r.id, r.type, r.msg]),
      [
        [1, 'subscribed', { channel: 'orderbook_delta', sid: 1 }],
        [1, 'subscribed', { channel: 'trade', sid: 2 }],
        [1, 'subscribed', { channel: 'ticker', sid: 3 }],
      ],
    );
    // The market_ticker (single) form works too, and sids keep counting on the connection.
    const [single] = await client.command('subscribe', { channels: ['fill'], market_ticker: A });
    assert.deepEqual(single!.msg, { channel: 'fill', sid: 4 });
  });

  it('sends a snapshot per market, then deltas, with one contiguous seq across the markets of a sid', async () => {
    const client = await connect();
    const [bookSid, tradeSid, tickerSid] = await client.subscribe(['orderbook_delta', 'trade', 'ticker'], [A, B]);
    await until(() => client.onSid(bookSid!).length === 2, 'two snapshots');
    exchange.delta(A);
    exchange.delta(C); // not subscribed
    exchange.delta(B);
    exchange.delta(A);
    exchange.pushMarket({ channel: 'trade', type: 'trade', marketTicker: B, msg: { trade_id: 't1', market_ticker: B, yes_price_dollars: '0.4000', count_fp: '2.00', taker_side: 'yes' } });
    exchange.pushMarket({ channel: 'ticker', type: 'ticker', marketTicker: A, msg: { market_ticker: A, price_dollars: '0.4000' } });
    await until(() => client.onSid(bookSid!).length === 5 && client.onSid(tradeSid!).length === 1 && client.onSid(tickerSid!).length === 1, 'deltas, trade, ticker');

    const book = client.onSid(bookSid!);
    assert.deepEqual(
      book.map((f) => [f.type, f.seq, tickerOf(f)]),
      [
        ['orderbook_snapshot', 1, A],
        ['orderbook_snapshot', 2, B],
        ['orderbook_delta', 3, A],
        ['orderbook_delta', 4, B],
        ['orderbook_delta', 5, A],
      ],
    );
    assert.deepEqual(Object.keys(book[2]!), ['type', 'sid', 'seq', 'msg']);
    assert.deepEqual(client.onSid(tradeSid!).map((f) => [f.type, f.seq]), [['trade', 1]]);
    // Ticker messages carry no seq (AsyncAPI: seq is on orderbook, trade and lifecycle messages only).
    const [tick] = client.onSid(tickerSid!);
    assert.equal(tick!.type, 'ticker');
    assert.equal('seq' in tick!, false);
    assert.equal(control.counters.messagesSent, 7);
  });

  it('merges a repeated subscribe into the existing subscription (`ok` with the sid at the top level); nothing new is `already subscribed` (6)', async () => {
    const client = await connect();
    const [sid] = await client.subscribe(['orderbook_delta'], [A]);
    await until(() => client.onSid(sid!).length === 1, 'snapshot of A');
    const [merged] = await client.command('subscribe', { channels: ['orderbook_delta'], market_tickers: [A, B] });
    assert.deepEqual(merged, { id: 2, sid, seq: 1, type: 'ok', msg: { market_tickers: [A, B] } });
    // Only the newly added market gets a snapshot, numbered on in the same sid.
    await until(() => client.onSid(sid!).length === 2, 'snapshot of B');
    assert.deepEqual(client.onSid(sid!).map((f) => [f.type, f.seq, tickerOf(f)]), [['orderbook_snapshot', 1, A], ['orderbook_snapshot', 2, B]]);

    const [again] = await client.command('subscribe', { channels: ['orderbook_delta'], market_tickers: [B] });
    assert.deepEqual(again, { id: 3, type: 'error', msg: { code: 6, msg: 'Already subscribed' } });
    const [lifecycleSid] = await client.subscribe(['market_lifecycle_v2']);
    const [lifecycleAgain] = await client.command('subscribe', { channels: ['market_lifecycle_v2'] });
    assert.equal((lifecycleAgain!.msg as { code: number }).code, 6);
    assert.deepEqual((await client.command('list_subscriptions'))[0]!.msg, [
      { channel: 'orderbook_delta', sid },
      { channel: 'market_lifecycle_v2', sid: lifecycleSid },
    ]);
  });

  it('update_subscription adds markets (with snapshots) and deletes them, in the sids and the sid forms', async () => {
    const client = await connect();
    const [sid] = await client.subscribe(['orderbook_delta'], [A]);
    const [added] = await client.command('update_subscription', { sids: [sid], market_tickers: [B, C], action: 'add_markets' });
    assert.deepEqual(added, { id: 2, sid, seq: 1, type: 'ok', msg: { market_tickers: [A, B, C] } });
    await until(() => client.onSid(sid!).length === 3, 'snapshots of B and C');
    assert.deepEqual(client.onSid(sid!).map((f) => [f.seq, tickerOf(f)]), [[1, A], [2, B], [3, C]]);

    const [deleted] = await client.command('update_subscription', { sid, market_ticker: A, action: 'delete_markets' });
    assert.deepEqual(deleted, { id: 3, sid, seq: 3, type: 'ok', msg: { market_tickers: [B, C] } });
    exchange.delta(A);
    exchange.delta(C);
    await until(() => client.onSid(sid!).length === 4, 'delta of C');
    assert.deepEqual(client.onSid(sid!).slice(3).map((f) => [f.type, f.seq, tickerOf(f)]), [['orderbook_delta', 4, C]]);

    // A trade subscription with a market list can change it too; one for every market cannot (10).
    const [tradeSid, allTickersSid] = [(await client.subscribe(['trade'], [A]))[0], (await client.subscribe(['ticker']))[0]];
    const [tradeAdd] = await client.command('update_subscription', { sid: tradeSid, market_tickers: [B], action: 'add_markets' });
    assert.deepEqual(tradeAdd!.msg, { market_tickers: [A, B] });
    const [refused] = await client.command('update_subscription', { sid: allTickersSid, market_tickers: [B], action: 'add_markets' });
    assert.equal((refused!.msg as { code: number }).code, 10);
    // skip_ticker_ack: the `ok` leaves the market list out.
    const [quiet] = await client.command('subscribe', { channels: ['fill'], market_tickers: [A], skip_ticker_ack: true });
    const quietSid = (quiet!.msg as { sid: number }).sid;
    const [quietAdd] = await client.command('update_subscription', { sid: quietSid, market_tickers: [B], action: 'add_markets' });
    assert.deepEqual(quietAdd, { id: quietAdd!.id, sid: quietSid, type: 'ok' });
  });

  it('get_snapshot answers `ok` with sid, seq and the market list, then an orderbook_snapshot carrying the command id in the sid\'s seq', async () => {
    const client = await connect();
    const [sid] = await client.subscribe(['orderbook_delta'], [A, B]);
    exchange.delta(B);
    await until(() => client.onSid(sid!).length === 3, 'snapshots and a delta');
    const replies = await client.command('update_subscription', { sids: [sid], market_tickers: [B], action: 'get_snapshot' }, 2);
    assert.deepEqual(replies, [
      { id: 2, sid, seq: 3, type: 'ok', msg: { market_tickers: [A, B] } },
      { id: 2, type: 'orderbook_snapshot', sid, seq: 4, msg: { market_ticker: B, yes_dollars_fp: [['0.4000', '11.00']], no_dollars_fp: [['0.5500', '5.00']] } },
    ]);
    exchange.delta(A);
    await until(() => client.onSid(sid!).length === 5, 'delta after the snapshot');
    assert.equal(client.onSid(sid!)[4]!.seq, 5);
  });

  it('unsubscribe answers `unsubscribed` per sid with sid and seq, stops the data, and reports unknown sids (7)', async () => {
    const client = await connect();
    const [bookSid, tradeSid] = await client.subscribe(['orderbook_delta', 'trade'], [A]);
    await until(() => client.onSid(bookSid!).length === 1, 'snapshot');
    const replies = await client.command('unsubscribe', { sids: [bookSid, tradeSid, 99] }, 3);
    assert.deepEqual(replies, [
      { id: 2, sid: bookSid, seq: 2, type: 'unsubscribed' },
      { id: 2, sid: tradeSid, seq: 1, type: 'unsubscribed' },
      { id: 2, type: 'error', msg: { code: 7, msg: 'Unknown subscription ID' } },
    ]);
    exchange.delta(A);
    const [list] = await client.command('list_subscriptions');
    assert.deepEqual(list, { id: 3, type: 'ok', msg: [] });
    assert.equal(client.onSid(bookSid!).length, 1);
  });

  it('answers each malformed command with the documented error code and keeps the connection and the others usable', async () => {
    const client = await connect();
    const bystander = await connect(bob);
    const [bystanderSid] = await bystander.subscribe(['orderbook_delta'], [A]);
    const [sid] = await client.subscribe(['trade'], [A]);
    const cases: [string, string | Record<string, unknown>, number][] = [
      ['bad JSON', '{"id": 5, "cmd": "subscr', 1],
      ['not an object', '[1,2,3]', 1],
      ['no cmd', { id: 10 }, 1],
      ['no params', { id: 11, cmd: 'subscribe' }, 2],
      ['no channels', { id: 12, cmd: 'subscribe', params: { market_tickers: [A] } }, 3],
      ['empty channels', { id: 13, cmd: 'subscribe', params: { channels: [] } }, 3],
      ['no sids', { id: 14, cmd: 'unsubscribe', params: {} }, 4],
      ['unknown command', { id: 15, cmd: 'subscribe_all', params: {} }, 5],
      ['unknown sid', { id: 16, cmd: 'update_subscription', params: { sid: 42, market_tickers: [A], action: 'add_markets' } }, 7],
      ['unknown channel', { id: 17, cmd: 'subscribe', params: { channels: ['trade', 'orderbook'], market_tickers: [A] } }, 8],
      ['inherited property as a channel', { id: 31, cmd: 'subscribe', params: { channels: ['constructor'] } }, 8],
      ['tickers not strings', { id: 18, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [1, 2] } }, 11],
      ['sid and sids', { id: 19, cmd: 'update_subscription', params: { sid, sids: [sid], market_tickers: [B], action: 'add_markets' } }, 12],
      ['two sids', { id: 20, cmd: 'update_subscription', params: { sids: [sid, 1], market_tickers: [B], action: 'add_markets' } }, 12],
      ['bad action', { id: 21, cmd: 'update_subscription', params: { sid, market_tickers: [B], action: 'replace_markets' } }, 13],
      ['get_snapshot on trade', { id: 22, cmd: 'update_subscription', params: { sid, market_tickers: [A], action: 'get_snapshot' } }, 13],
      ['orderbook without markets', { id: 23, cmd: 'subscribe', params: { channels: ['orderbook_delta'] } }, 14],
      ['update without markets', { id: 24, cmd: 'update_subscription', params: { sid, action: 'add_markets' } }, 14],
      ['no action', { id: 25, cmd: 'update_subscription', params: { sid, market_tickers: [B] } }, 15],
      ['unknown market', { id: 26, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_tickers: [A, 'NO-SUCH-MARKET'] } }, 16],
      ['shard_factor 0', { id: 27, cmd: 'subscribe', params: { channels: ['communications'], shard_factor: 0 } }, 19],
      ['shard_key alone', { id: 28, cmd: 'subscribe', params: { channels: ['communications'], shard_key: 1 } }, 20],
      ['shard_key too big', { id: 29, cmd: 'subscribe', params: { channels: ['communications'], shard_factor: 4, shard_key: 4 } }, 21],
      ['shard_factor 101', { id: 30, cmd: 'subscribe', params: { channels: ['communications'], shard_factor: 101 } }, 22],
    ];
    for (const [what, frame, code] of cases) {
      const before = client.frames.length;
      client.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
      await until(() => client.frames.length > before, `reply to ${what}`);
      const reply = client.frames[before]!;
      assert.equal(reply.type, 'error', what);
      assert.equal((reply.msg as { code: number }).code, code, what);
      assert.equal(reply.id, typeof frame === 'string' ? undefined : frame.id, what);
      if (code === 16) assert.equal((reply.msg as { market_ticker?: string }).market_ticker, 'NO-SUCH-MARKET');
    }
    assert.equal(client.frames.at(-1)!.id, 30);
    assert.equal(control.counters.commandErrors, cases.length);
    assert.ok(exchange.logs.some((l) => l.includes('{"id": 5, "cmd": "subscr')), 'the raw bad frame is logged');
    // A refused command subscribed nothing; the connection and its neighbour still work.
    assert.deepEqual((await client.command('list_subscriptions'))[0]!.msg, [{ channel: 'trade', sid }]);
    exchange.delta(A);
    await until(() => bystander.onSid(bystanderSid!).length === 2, 'the bystander keeps its feed');
  });

  it('public channels without market_tickers carry every market; market_lifecycle_v2 ignores market filters', async () => {
    const client = await connect();
    const [tradeSid, lifecycleSid] = await client.subscribe(['trade', 'market_lifecycle_v2']);
    // A lifecycle subscription covers every market already, so a filtered one adds nothing.
    const [ticker, lifecycle] = await client.command('subscribe', { channels: ['ticker', 'market_lifecycle_v2'], market_tickers: [A] }, 2);
    assert.equal(ticker!.type, 'subscribed');
    assert.deepEqual(lifecycle!.msg, { code: 6, msg: 'Already subscribed' });
    for (const m of [A, B, C]) {
      exchange.pushMarket({ channel: 'trade', type: 'trade', marketTicker: m, msg: { trade_id: m, market_ticker: m, yes_price_dollars: '0.5000', count_fp: '1.00', taker_side: 'no' } });
      exchange.pushMarket({ channel: 'market_lifecycle_v2', type: 'market_lifecycle_v2', marketTicker: m, msg: { market_ticker: m, event_type: 'deactivated' } });
    }
    await until(() => client.onSid(tradeSid!).length === 3 && client.onSid(lifecycleSid!).length === 3, 'every market');
    assert.deepEqual(client.onSid(lifecycleSid!).map((f) => [f.seq, tickerOf(f)]), [[1, A], [2, B], [3, C]]);
  });

  it('private channels carry only the connection\'s own account', async () => {
    const aliceClient = await connect(alice);
    const bobClient = await connect(bob);
    const [fillSid, ordersSid, positionsSid] = await aliceClient.subscribe(['fill', 'user_orders', 'market_positions']);
    const [bobFillSid] = await bobClient.subscribe(['fill'], [B]);
    const fill = (m: string, orderId: string): EmulatorUserMessage => ({ channel: 'fill', type: 'fill', marketTicker: m, msg: { trade_id: orderId, order_id: orderId, market_ticker: m, is_taker: true, side: 'yes', action: 'buy', yes_price_dollars: '0.4000', count_fp: '1.00' } });
    exchange.pushUser('key-alice', fill(A, 'alice-1'));
    exchange.pushUser('key-alice', { channel: 'user_orders', type: 'user_order', marketTicker: A, msg: { order_id: 'alice-1', ticker: A, status: 'executed' } });
    exchange.pushUser('key-alice', { channel: 'market_positions', type: 'market_position', marketTicker: A, msg: { market_ticker: A, position_fp: '1.00' } });
    exchange.pushUser('key-bob', fill(A, 'bob-1')); // outside Bob's market filter
    exchange.pushUser('key-bob', fill(B, 'bob-2'));
    await until(() => aliceClient.frames.filter((f) => f.sid !== undefined).length >= 3 && bobClient.onSid(bobFillSid!).length === 1, 'private messages');
    assert.deepEqual(
      aliceClient.frames.filter((f) => !('id' in f)).map((f) => [f.type, f.sid, 'seq' in f]),
      [['fill', fillSid, false], ['user_order', ordersSid, false], ['market_position', positionsSid, false]],
    );
    assert.deepEqual(bobClient.onSid(bobFillSid!).map((f) => (f.msg as { order_id: string }).order_id), ['bob-2']);
  });

  it('dropNextMessages(n) leaves a seq gap of exactly n for the subscriber', async () => {
    const client = await connect();
    const [sid] = await client.subscribe(['orderbook_delta'], [A]);
    await until(() => client.onSid(sid!).length === 1, 'snapshot');
    control.dropNextMessages(3);
    for (let i = 0; i < 6; i++) exchange.delta(A);
    await until(() => client.onSid(sid!).length === 4, 'the deltas after the dropped ones');
    assert.deepEqual(client.onSid(sid!).map((f) => f.seq), [1, 5, 6, 7]);
    assert.equal(control.counters.messagesDropped, 3);
    assert.ok(exchange.logs.some((l) => /ws fault: dropping the next 3/.test(l)));
  });

  it('disconnectAll drops every connection as a network failure and the clients see the close', async () => {
    const first = await connect();
    const second = await connect(bob);
    assert.equal(control.disconnectAll('chaos test'), 2);
    await until(() => first.closeCode !== undefined && second.closeCode !== undefined, 'both closed');
    assert.equal(first.closeCode, 1006, 'no close handshake, as on a network drop');
    assert.equal(control.counters.disconnects, 2);
    assert.ok(exchange.logs.some((l) => /ws fault: disconnecting all 2 connection\(s\): chaos test/.test(l)));
    // The server keeps accepting.
    const third = await connect();
    assert.equal((await third.command('list_subscriptions'))[0]!.type, 'ok');
  });

  it('pings with body `heartbeat` every pingEveryMs and drops a client that does not answer', async () => {
    await restart({ pingEveryMs: 200 });
    const client = await connect();
    const mute = await connect(bob, { autoPong: false });
    const pings: string[] = [];
    client.ws.on('ping', (data) => pings.push(data.toString()));
    await until(() => pings.length >= 3, 'three pings');
    assert.deepEqual(pings.slice(0, 3), ['heartbeat', 'heartbeat', 'heartbeat']);
    assert.equal(client.closeCode, undefined, 'a client that answers pongs stays connected');
    await until(() => mute.closeCode !== undefined, 'the mute client is dropped');
    assert.equal(control.counters.missedPongDrops, 1);
    assert.ok(exchange.logs.some((l) => /dropping connection #2 \(key key-bob\): no pong/.test(l)));
  });

  it('drops a client that stops reading once its unsent data passes the limit, and logs it', async () => {
    await restart({ maxBufferedBytes: 256 * 1024 });
    const slow = await connect();
    const reader = await connect(bob);
    const [slowSid] = await slow.subscribe(['trade']);
    const [readerSid] = await reader.subscribe(['trade']);
    slow.ws.pause();
    const padding = 'x'.repeat(16 * 1024);
    // Far more than the socket buffers and the limit together hold.
    for (let i = 0; i < 4000 && control.counters.slowClientDrops === 0; i++) {
      exchange.pushMarket({ channel: 'trade', type: 'trade', marketTicker: A, msg: { trade_id: String(i), market_ticker: A, padding } });
      // Yield often enough that the reading client's own buffer never nears the limit.
      if (i % 8 === 7) await new Promise((r) => setImmediate(r));
    }
    assert.equal(control.counters.slowClientDrops, 1);
    assert.ok(exchange.logs.some((l) => /dropping connection #1 \(key key-alice\): \d+ bytes unsent \(limit 262144\)/.test(l)));
    slow.ws.resume();
    await until(() => slow.closeCode !== undefined, 'the slow client is closed', 10_000);
    // The reading client got everything, in order.
    await until(() => reader.onSid(readerSid!).length === reader.onSid(readerSid!).at(-1)!.seq!, 'reader complete');
    assert.ok(slow.onSid(slowSid!).length < reader.onSid(readerSid!).length);
  });

  it('keeps Kestrel\'s KalshiWsClient in sync through an injected seq gap and an injected disconnect', async () => {
    const events: MarketEvent[] = [];
    const stale: string[] = [];
    const client = new KalshiWsClient({
      url,
      credentials: alice,
      clock: { nowMs: () => Date.now() },
      onEvent: (e) => events.push(e),
      onStale: (markets, reason) => stale.push(`${markets.join(',')}: ${reason}`),
      reconnect: { initialMs: 20, maxMs: 100 },
      heartbeatTimeoutMs: 5000,
    });
    const snapshots = () => events.filter((e) => e.t === 'snapshot').length;
    try {
      await client.connect();
      assert.deepEqual(await client.subscribe(['orderbook_delta'], [A, B]), [1]);
      await until(() => snapshots() === 2, 'initial snapshots');

      control.dropNextMessages(1);
      exchange.delta(A); // seq 3, dropped
      exchange.delta(B); // seq 4: the client sees the gap and asks for snapshots
      await until(() => snapshots() === 4, 'resync snapshots');
      assert.equal(client.counters.resyncs, 1);
      assert.equal(stale[0], `${A},${B}: seq gap on sid 1 at 4`);
      // The resync snapshot of A carries the delta that was dropped.
      const resyncA = events.filter((e) => e.t === 'snapshot' && e.m === A).at(-1);
      assert.deepEqual(resyncA?.t === 'snapshot' && resyncA.yes, [['0.4000', '11.00']]);

      control.disconnectAll('client test');
      await until(() => client.counters.connects === 2 && snapshots() === 6, 'reconnected with fresh snapshots');
      exchange.delta(A);
      await until(() => events.at(-1)?.t === 'delta', 'deltas flow again');
      assert.equal(client.counters.gaps, 1);
      assert.equal(client.counters.malformed, 0);
    } finally {
      await client.close();
    }
  });

  it('close() closes every connection and stops accepting upgrades', async () => {
    const client = await connect();
    await control.close();
    await until(() => client.closeCode !== undefined, 'client closed');
    assert.equal(client.closeCode, 1000);
    await assert.rejects(connect());
  });
});

describe('Kalshi emulator WebSocket server over the recorded gold feed', function () {
  this.timeout(60_000);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const goldPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const credentials = loadKalshiCredentials('gold-key', goldPem);
  const other = loadKalshiCredentials('other-key', goldPem);
  const accounts = [credentials, other].map((c) => ({ apiKeyId: c.apiKeyId, publicKey: publicKeyOf(c.privateKey) }));
  const goldDir = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');

  /** A book held as the wire describes it: price units → size units per side. */
  type WireBook = Record<'yes' | 'no', Map<number, number>>;
  const bookOf = (snapshot: unknown): WireBook => {
    const parsed = parseKalshiBookMessage('orderbook_snapshot', snapshot);
    assert.ok(parsed.ok && parsed.value.kind === 'snapshot', `snapshot parses: ${JSON.stringify(snapshot).slice(0, 200)}`);
    return { yes: new Map(parsed.value.yes.map((l) => [l.price, l.size])), no: new Map(parsed.value.no.map((l) => [l.price, l.size])) };
  };
  const sorted = (book: WireBook) => ({ yes: [...book.yes].sort((a, b) => a[0] - b[0]), no: [...book.no].sort((a, b) => a[0] - b[0]) });

  it('a subscriber rebuilds the exchange\'s book from its snapshot and contiguously numbered deltas, and trades arrive in seq order', async () => {
    const emulator = await startKalshiEmulator({ dataDir: goldDir, markets: 1, speed: 0, accounts });
    const client = await TestClient.open(emulator.wsUrl, kalshiAuthHeaders(credentials, Date.now(), 'GET', WS_PATH));
    try {
      const [market] = emulator.exchange.marketTickers();
      // Into the market's life, so its book has levels.
      await emulator.advanceTo(emulator.nowMs() + 60_000);
      const [bookSid, tradeSid] = await client.subscribe(['orderbook_delta', 'trade'], [market!]);
      await emulator.advanceTo(emulator.nowMs() + 120_000);
      // Replies come in order on the connection: once this one is here, every earlier data message is too.
      await client.command('list_subscriptions');

      const bookFrames = client.onSid(bookSid!);
      assert.ok(bookFrames.length > 100, `a busy two minutes (${bookFrames.length} book messages)`);
      assert.deepEqual(bookFrames.map((f) => f.seq), bookFrames.map((_, i) => i + 1), 'seq 1, 2, 3, … on the book sid');
      assert.equal(bookFrames[0]!.type, 'orderbook_snapshot');
      const book = bookOf(bookFrames[0]!.msg);
      assert.ok(book.yes.size > 0 && book.no.size > 0, 'the snapshot has levels on both sides');
      for (const frame of bookFrames.slice(1)) {
        const parsed = parseKalshiBookMessage(String(frame.type), frame.msg);
        assert.ok(parsed.ok && parsed.value.kind === 'delta', `a delta: ${JSON.stringify(frame)}`);
        const { side, price, delta } = parsed.value;
        const size = (book[side].get(price) ?? 0) + delta;
        assert.ok(size >= 0, `delta leaves a non-negative size: ${JSON.stringify(frame)}`);
        if (size === 0) book[side].delete(price);
        else book[side].set(price, size);
      }
      assert.deepEqual(sorted(book), sorted(bookOf(emulator.exchange.snapshot(market!))));

      const trades = client.onSid(tradeSid!);
      assert.ok(trades.length > 0, 'trades in two minutes');
      assert.deepEqual(trades.map((f) => f.seq), trades.map((_, i) => i + 1));
      for (const t of trades) assert.ok(parseKalshiTrade(t.msg).ok, `trade parses: ${JSON.stringify(t)}`);
    } finally {
      client.close();
      await emulator.close();
    }
  });

  it('an order filled against the recorded book reaches only its own account\'s private channels', async () => {
    const emulator = await startKalshiEmulator({ dataDir: goldDir, markets: 1, speed: 0, accounts });
    const mine = await TestClient.open(emulator.wsUrl, kalshiAuthHeaders(credentials, Date.now(), 'GET', WS_PATH));
    const theirs = await TestClient.open(emulator.wsUrl, kalshiAuthHeaders(other, Date.now(), 'GET', WS_PATH));
    try {
      const [market] = emulator.exchange.marketTickers();
      await emulator.advanceTo(emulator.nowMs() + 60_000);
      const [fillSid, ordersSid, positionsSid] = await mine.subscribe(['fill', 'user_orders', 'market_positions']);
      await theirs.subscribe(['fill', 'user_orders', 'market_positions']);
      // Buys one YES contract at any price up to $0.99: takes the best recorded ask.
      emulator.exchange.createOrder(credentials.apiKeyId, { ticker: market!, side: 'bid', count: 1_000_000, price: 9900, timeInForce: 'immediate_or_cancel', selfTradePrevention: 'taker_at_cross', postOnly: false, cancelOnPause: false });
      await until(() => mine.onSid(fillSid!).length > 0 && mine.onSid(positionsSid!).length > 0 && mine.onSid(ordersSid!).length > 0, 'private messages');
      await theirs.command('list_subscriptions');
      assert.deepEqual(theirs.frames.filter((f) => f.id === undefined), [], 'nothing for the other account');

      const [fill] = mine.onSid(fillSid!);
      assert.equal(fill!.type, 'fill');
      assert.equal('seq' in fill!, false);
      const parsed = parseKalshiChannelMessage('fill', fill!.msg);
      assert.ok(parsed.ok && parsed.value.type === 'fill', `fill parses: ${JSON.stringify(fill)}`);
      assert.equal(parsed.value.msg.market_ticker, market);
      assert.equal(parsed.value.msg.count_fp, '1.00');
      assert.equal(mine.onSid(ordersSid!)[0]!.type, 'user_order');
      assert.equal(mine.onSid(positionsSid!)[0]!.type, 'market_position');
    } finally {
      mine.close();
      theirs.close();
      await emulator.close();
    }
  });
});
