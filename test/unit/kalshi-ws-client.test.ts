import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { BookStore } from '../../domain/market-data/book-store';
import { toUnits, type MarketEvent } from '../../domain/market-data/events';
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

    // A malformed frame is counted and skipped; the stream goes on (a refused book message of a
    // market not followed asks for no snapshot).
    socket!.send('{not json');
    socket!.send(JSON.stringify({ type: 'orderbook_delta', sid: 1, seq: 3, msg: { market_ticker: 'KXGOLD15M-OTHER', price_dollars: 'x', delta_fp: '1', side: 'yes' } }));
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

// Frames below follow the AsyncAPI spec (/work/shared/specs/kalshi/asyncapi-2026-03.yaml) and its
// verbatim examples (ws-samples-fp-only.json): `subscribed` carries msg.sid, `ok` carries sid/seq at
// the top level, book messages are numbered per sid.
describe('KalshiWsClient on spec-shaped frames', function () {
  this.timeout(20_000);
  type Command = { id: number; cmd: string; params: { channels?: string[]; market_tickers?: string[]; sids?: number[]; action?: string; use_yes_price?: boolean } };
  const A = 'KXGOLD15M-A';
  const B = 'KXGOLD15M-B';
  const book = (sid: number, seq: number, market: string, yes: [string, string][], no: [string, string][], id?: number) => ({
    ...(id === undefined ? {} : { id }),
    type: 'orderbook_snapshot',
    sid,
    seq,
    msg: { market_ticker: market, market_id: '9b0f6b43-5b68-4f9f-9f02-9a2d1b8ac1a1', yes_dollars_fp: yes, no_dollars_fp: no },
  });
  const change = (sid: number, seq: number, market: string, side: 'yes' | 'no', price: string, delta: string) => ({
    type: 'orderbook_delta',
    sid,
    seq,
    msg: { market_ticker: market, price_dollars: price, delta_fp: delta, side, ts_ms: 1669149841000 + seq },
  });
  const subscribed = (id: number, channel: string, sid: number) => ({ id, type: 'subscribed', msg: { channel, sid } });

  let server: WebSocketServer;
  let url: string;
  let socket: WebSocket;
  let commands: Command[];
  /** What the server answers to each command; set per test. */
  let respond: (cmd: Command, send: (frame: unknown) => void) => void;
  let client: KalshiWsClient | undefined;
  /** The server side of a connection: records each command and answers it with `respond`. */
  const acceptCommands = (ws: WebSocket) => {
    socket = ws;
    ws.on('message', (data) => {
      const cmd = JSON.parse(data.toString()) as Command;
      commands.push(cmd);
      respond(cmd, (frame) => ws.send(JSON.stringify(frame)));
    });
  };

  before(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/ws/v2`;
    server.on('connection', acceptCommands);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    commands = [];
    respond = () => {};
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  function connect(extra: { onEvent?: (e: MarketEvent) => void } = {}) {
    const seen = { events: [] as MarketEvent[], stale: [] as { markets: string[]; reason: string }[], malformed: [] as { raw: string; error: string }[], other: [] as string[] };
    client = new KalshiWsClient({
      url,
      clock: { nowMs: () => 1_700_000_000_000 },
      onEvent: extra.onEvent ?? ((e) => seen.events.push(e)),
      onOther: (m) => seen.other.push(m.type === 'other' ? `other:${m.channel}` : m.type),
      onStale: (markets, reason) => seen.stale.push({ markets, reason }),
      onMalformed: (raw, error) => seen.malformed.push({ raw, error }),
      heartbeatTimeoutMs: 5000,
      commandTimeoutMs: 2000,
    });
    return { client, seen };
  }
  const snapshotsOf = (events: MarketEvent[], market: string) => events.filter((e) => e.t === 'snapshot' && e.m === market);
  const getSnapshotCommands = () => commands.filter((c) => c.cmd === 'update_subscription' && c.params.action === 'get_snapshot');

  it('a gap on the trade channel is counted but asks for no snapshot and stales no book; sids are known per channel', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd === 'subscribe') {
        send(subscribed(cmd.id, 'orderbook_delta', 1));
        send(subscribed(cmd.id, 'trade', 2));
        send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
        send({ type: 'trade', sid: 2, seq: 1, msg: { trade_id: 't1', market_ticker: A, yes_price_dollars: '0.4000', count_fp: '1.00', taker_side: 'no', ts_ms: 1 } });
        send({ type: 'trade', sid: 2, seq: 4, msg: { trade_id: 't4', market_ticker: A, yes_price_dollars: '0.4000', count_fp: '1.00', taker_side: 'no', ts_ms: 2 } });
        send(change(1, 2, A, 'yes', '0.4000', '1.00'));
      }
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta', 'trade'], [A]);
    await until(() => seen.events.length === 3, 'snapshot, first trade, delta');
    assert.equal(client.counters.gaps, 1);
    assert.deepEqual(seen.stale, []);
    assert.equal(getSnapshotCommands().length, 0);
    assert.equal(client.sidOf('orderbook_delta'), 1);
    assert.equal(client.sidOf('trade'), 2);
  });

  it('a refused book message stales only its market and asks for its snapshot once; duplicate and unnumbered frames are not applied', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd === 'subscribe') {
        send(subscribed(cmd.id, 'orderbook_delta', 1));
        send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
        send(book(1, 2, B, [['0.3000', '10.00']], [['0.6000', '5.00']]));
        send(change(1, 3, A, 'yes', '0.12345', '1.00'));
        send(change(1, 4, A, 'yes', '1.5', '1.00'));
        send(change(1, 5, B, 'yes', '0.3000', '1.00'));
        send(change(1, 5, B, 'yes', '0.3000', '1.00'));
        send({ type: 'orderbook_delta', sid: 1, seq: '6', msg: { market_ticker: B, price_dollars: '0.3000', delta_fp: '1.00', side: 'yes' } });
        send({ type: 'orderbook_delta', sid: 1, msg: { market_ticker: B, price_dollars: '0.3000', delta_fp: '1.00', side: 'yes' } });
      }
      if (cmd.cmd === 'update_subscription') send({ id: cmd.id, type: 'ok', msg: {} });
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A, B]);
    await until(() => seen.malformed.length === 4, 'four refused frames');
    assert.deepEqual(seen.events.map((e) => `${e.t}:${e.m}`), [`snapshot:${A}`, `snapshot:${B}`, `delta:${B}`], 'the duplicate seq 5 was dropped');
    assert.deepEqual(seen.stale.map((s) => s.markets.join()), [A, A, B, B], 'each refused book message stales its own market only');
    await until(() => getSnapshotCommands().length >= 2, 'snapshot requests');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(getSnapshotCommands().map((c) => c.params.market_tickers), [[A], [B]], 'one snapshot request per market until it arrives');
  });

  it('a subscribe without markets names none (every market), as the lifecycle channel needs', async () => {
    respond = (cmd, send) => void (cmd.cmd === 'subscribe' && send(subscribed(cmd.id, 'market_lifecycle_v2', 7)));
    const { client } = connect();
    await client.connect();
    await client.subscribe(['market_lifecycle_v2'], []);
    assert.deepEqual(commands[0]!.params, { channels: ['market_lifecycle_v2'] });
  });

  it('a failed reconnect schedules one retry, not two: one connection after the venue comes back', async () => {
    respond = (cmd, send) => void (cmd.cmd === 'subscribe' && send(subscribed(cmd.id, 'orderbook_delta', 1)));
    const { client } = connect();
    let connections = 0;
    server.on('connection', () => connections++);
    // Handshakes are refused for a while (an outage), then accepted again.
    let refuse = true;
    const verify = (server as unknown as { options: { verifyClient?: unknown } }).options;
    verify.verifyClient = (_info: unknown, done: (ok: boolean, code?: number) => void) => done(!refuse, 503);
    try {
      (client as unknown as { opts: { reconnect: unknown } }).opts.reconnect = { initialMs: 20, maxMs: 40 };
      refuse = false;
      await client.connect();
      await client.subscribe(['orderbook_delta'], [A]);
      refuse = true;
      socket.terminate();
      await new Promise((r) => setTimeout(r, 300));
      refuse = false;
      await until(() => client.counters.connects === 2, 'reconnected');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(client.counters.connects, 2, 'exactly one connection after the outage');
      assert.equal(connections, 2);
      assert.equal(commands.filter((c) => c.cmd === 'subscribe').length, 2, 'subscriptions restored once');
    } finally {
      verify.verifyClient = undefined;
      server.removeAllListeners('connection');
      server.on('connection', acceptCommands);
    }
  });

  it('a get_snapshot answered by a snapshot carrying the command id re-bases the book and completes the command', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd === 'subscribe') {
        send(subscribed(cmd.id, 'orderbook_delta', 1));
        send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
        send(change(1, 2, A, 'yes', '0.4000', '1.00'));
      }
      if (cmd.params.action === 'get_snapshot') send(book(1, 1, A, [['0.4200', '10.00']], [['0.5000', '5.00']], cmd.id));
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A]);
    await until(() => seen.events.length === 2, 'snapshot and delta');

    // Asked directly: the command resolves and its snapshot reaches the book.
    await client.updateSubscription(1, 'get_snapshot', [A]);
    await until(() => snapshotsOf(seen.events, A).length === 2, 'the answering snapshot as an event');
    assert.deepEqual(snapshotsOf(seen.events, A)[1], { t: 'snapshot', m: A, ts: 1_700_000_000_000, yes: [['0.4200', '10.00']], no: [['0.5000', '5.00']] });

    // After a gap: stale, get_snapshot, and the answering snapshot re-bases the book.
    socket.send(JSON.stringify(change(1, 5, A, 'yes', '0.4000', '1.00')));
    await until(() => snapshotsOf(seen.events, A).length === 3, 'the resync snapshot as an event');
    assert.deepEqual(seen.stale.map((s) => s.reason), ['seq gap on sid 1 at 5']);
    assert.equal(getSnapshotCommands().length, 2);
    assert.equal(client.counters.gaps, 1);
    assert.deepEqual(seen.malformed, []);
  });

  it('an ok reply with sid/seq uses up its seq, so the next delta is not a false gap', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd === 'subscribe') {
        send(subscribed(cmd.id, 'orderbook_delta', 1));
        send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
      }
      if (cmd.cmd === 'update_subscription') {
        send({ id: cmd.id, sid: 1, seq: 2, type: 'ok', msg: { market_tickers: [A, B] } });
        send(change(1, 3, A, 'yes', '0.4000', '1.00'));
        send(book(1, 4, B, [['0.3000', '1.00']], [['0.6000', '1.00']]));
      }
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A]);
    await client.updateSubscription(1, 'add_markets', [B]);
    await until(() => seen.events.length === 3, 'snapshot of A, delta of A, snapshot of B');
    assert.deepEqual(seen.events.map((e) => `${e.t} ${e.m}`), [`snapshot ${A}`, `delta ${A}`, `snapshot ${B}`]);
    assert.equal(client.counters.gaps, 0);
    assert.deepEqual(seen.stale, []);
  });

  it('a subscribe merged into an existing subscription (ok with a top-level sid) keeps its markets in stale marking and resync', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd === 'subscribe' && cmd.params.market_tickers!.includes(A)) {
        send(subscribed(cmd.id, 'orderbook_delta', 1));
        send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
      } else if (cmd.cmd === 'subscribe') {
        send({ id: cmd.id, sid: 1, seq: 2, type: 'ok', msg: { market_tickers: [A, B] } });
        send(book(1, 3, B, [['0.3000', '1.00']], [['0.6000', '1.00']]));
      }
      if (cmd.params.action === 'get_snapshot') send({ id: cmd.id, sid: 1, seq: 1, type: 'ok', msg: { market_tickers: [A, B] } });
    };
    const { client, seen } = connect();
    await client.connect();
    assert.deepEqual(await client.subscribe(['orderbook_delta'], [A]), [1]);
    assert.deepEqual(await client.subscribe(['orderbook_delta'], [B]), [1], 'the merged sid is kept');
    await until(() => seen.events.length === 2, 'both snapshots');
    socket.send(JSON.stringify(change(1, 9, B, 'no', '0.6000', '-1.00')));
    await until(() => getSnapshotCommands().length === 1, 'get_snapshot');
    assert.deepEqual(seen.stale, [{ markets: [A, B], reason: 'seq gap on sid 1 at 9' }]);
    assert.deepEqual(getSnapshotCommands()[0]!.params.market_tickers, [A, B]);
  });

  it("a gap just before another market's snapshot on the same sid is a gap", async () => {
    respond = (cmd, send) => {
      if (cmd.cmd !== 'subscribe') return;
      send(subscribed(cmd.id, 'orderbook_delta', 1));
      send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
      send(change(1, 2, A, 'yes', '0.4000', '1.00'));
      // seq 3 (a delta of B, say) is lost; B's snapshot must not hide it.
      send(book(1, 4, B, [['0.3000', '1.00']], [['0.6000', '1.00']]));
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A, B]);
    await until(() => seen.stale.length === 1, 'stale after the gap');
    assert.deepEqual(seen.stale[0], { markets: [A, B], reason: 'seq gap on sid 1 at 4' });
    assert.equal(client.counters.gaps, 1);
    assert.deepEqual(seen.events.map((e) => e.t), ['snapshot', 'delta'], 'the gapped snapshot is not applied; get_snapshot replaces it');
  });

  it('subscribes with use_yes_price when asked and turns NO levels quoted in YES terms back into NO bids', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd !== 'subscribe') return;
      send(subscribed(cmd.id, 'orderbook_delta', 3));
      // YES bid 0.45, YES ask 0.60 (a NO bid at 0.40, quoted as 0.60).
      send(book(3, 1, A, [['0.4500', '10.00']], [['0.6000', '5.00']]));
      send(change(3, 2, A, 'no', '0.5900', '2.00'));
      send(change(3, 3, A, 'yes', '0.4600', '1.00'));
    };
    const { client, seen } = connect();
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A], { useYesPrice: true });
    assert.equal(commands[0]!.params.use_yes_price, true);
    await until(() => seen.events.length === 3, 'snapshot and deltas');
    assert.deepEqual(seen.events[0], { t: 'snapshot', m: A, ts: 1_700_000_000_000, yes: [['0.4500', '10.00']], no: [['0.4000', '5.00']] });
    assert.deepEqual(seen.events.slice(1).map((e) => (e.t === 'delta' ? `${e.side} ${e.price} ${e.delta}` : e.t)), ['no 0.4100 2.00', 'yes 0.4600 1.00']);
    const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
    assert.deepEqual(store.applyAll(seen.events.map(toUnits)).refused, []);
    assert.deepEqual(store.state(A).book.top(), { yesBid: { price: 4600, size: 1_000_000 }, yesAsk: { price: 5900, size: 2_000_000 } });
  });

  it('never throws out of the socket listener: prototype-named types, throwing callbacks and huge frames are counted as malformed or passed on', async () => {
    respond = (cmd, send) => {
      if (cmd.cmd !== 'subscribe') return;
      send(subscribed(cmd.id, 'orderbook_delta', 1));
      send(book(1, 1, A, [['0.4000', '10.00']], [['0.5000', '5.00']]));
    };
    const events: MarketEvent[] = [];
    const { client, seen } = connect({
      onEvent: (e) => {
        if (e.m === B) throw new Error('consumer bug');
        events.push(e);
      },
    });
    await client.connect();
    await client.subscribe(['orderbook_delta'], [A, B]);
    await until(() => events.length === 1, 'the first snapshot');
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) socket.send(`{"type":"${type}","msg":{"market_ticker":"${A}"}}`);
    socket.send(JSON.stringify(book(1, 2, B, [['0.3000', '1.00']], [['0.6000', '1.00']])));
    const huge = JSON.stringify({ type: 'orderbook_delta', sid: 1, seq: 3, msg: { market_ticker: 'X'.repeat(100_000), price_dollars: '0.5', delta_fp: '1', side: 'yes' } });
    socket.send(huge);
    socket.send(JSON.stringify(change(1, 4, A, 'yes', '0.4000', '1.00')));
    await until(() => events.length === 2, 'the stream goes on after the bad frames');
    assert.deepEqual(seen.other, ['other:constructor', 'other:__proto__', 'other:toString', 'other:hasOwnProperty']);
    assert.equal(seen.malformed.length, 2);
    assert.match(seen.malformed[0]!.error, /handling the frame failed: consumer bug/);
    assert.match(seen.malformed[0]!.raw, new RegExp(`"market_ticker":"${B}"`));
    assert.match(seen.malformed[1]!.error, /market_ticker/);
    assert.ok(seen.malformed[1]!.raw.length < 2100, `raw payload truncated (${seen.malformed[1]!.raw.length} chars)`);
    assert.ok(seen.malformed[1]!.raw.startsWith(huge.slice(0, 100)));
    assert.equal(client.counters.malformed, 2);
    assert.equal(client.counters.gaps, 0);
  });
});
