import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { and, asc, eq } from 'drizzle-orm';
import { readRiskState, resetRiskState } from '../../db/risk-repo';
import { loadRecordedWindow } from '../../backtest/recorded-data';
import { marketSnapshots, positions, riskEvents } from '../../db/schema';
import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook } from '../../domain/market-data/order-book';
import { KalshiLiveMarketData } from '../../venues/kalshi/data';
import type { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import type { KalshiCredentials } from '../../venues/kalshi/signing';
import { createKalshiFeed, runFeedIntoPublisher } from '../../workers/market-data/live-feed';
import type { MarketDataPublisher } from '../../workers/market-data/publisher';
import { readGoldMarketMetadata } from '../../venues/replay/gold-metadata';
import { SHARED_DATA_DIR, uniqueName } from '../support/harness';
import { useStack } from '../support/stack';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
// Two consecutive windows (B opens when A closes) and one of another day.
const A = 'KXGOLD15M-26AUG101800-00';
const B = 'KXGOLD15M-26AUG101815-15';
const C = 'KXGOLD15M-26AUG060800-00';
const A_CLOSE = Date.parse('2026-08-10T22:00:00Z');
const START = A_CLOSE - 20_000;

const levels = (book: BinaryOrderBook | undefined) => ({ yes: book?.levels('yes') ?? [], no: book?.levels('no') ?? [] });

/** The book the recording itself gives at exchange time `atMs`. */
async function replayedBook(market: string, atMs: number) {
  const window = await loadRecordedWindow(GOLD, { markets: [market], toMs: atMs });
  const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
  store.applyAll(window.events);
  return levels(store.markets.get(market)?.book);
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('live Kalshi feed: the emulator over real sockets → BullMQ partitions → books (real Redis/Postgres/Temporal)', function () {
  this.timeout(120_000);
  const stack = useStack({ 'alerts.staleWatchMs': 100, 'risk.staleDataMs': 1000 });
  let emulator: KalshiEmulator;
  let credentials: KalshiCredentials;
  let feed: KalshiLiveMarketData;
  let running: Awaited<ReturnType<typeof runFeedIntoPublisher>>;
  let publisher: MarketDataPublisher;
  const published: MarketEvent[] = [];
  const log: string[] = [];

  const newFeed = (selection: Parameters<typeof createKalshiFeed>[1]['selection']) =>
    createKalshiFeed(stack().config, {
      db: stack().database.db,
      credentials,
      clock: { nowMs: () => Date.now() },
      exchangeClock: { nowMs: () => emulator.nowMs() },
      endpoints: { restUrl: emulator.restUrl, wsUrl: emulator.wsUrl },
      selection,
      reconnect: { initialMs: 50, maxMs: 500 },
      log: (line) => log.push(line),
    });

  /** Moves the exchange clock second by second (as a paced exchange would), then waits until the books hold it all. */
  const advance = async (toMs: number) => {
    for (let t = emulator.nowMs(); t < toMs; ) {
      t = Math.min(toMs, t + 1000);
      await emulator.advanceTo(t);
      await feed.sync();
    }
    await publisher.waitUntilApplied(stack().redis, 10);
  };

  before(async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const apiKeyId = uniqueName('live-feed-key');
    credentials = { apiKeyId, privateKey };
    emulator = await startKalshiEmulator({ dataDir: GOLD, markets: [A, B, C], speed: 0, startAtMs: START, accounts: [{ apiKeyId, publicKey }] });
  });
  after(async () => {
    await running?.stop();
    await emulator?.close();
  });

  it('discovers markets by REST with the series / event / status filters and the cap', async () => {
    const discovered = async (selection: Parameters<typeof newFeed>[0]) => {
      const f = newFeed(selection);
      try {
        return (await f.open(() => {})).sort();
      } finally {
        await f.close();
      }
    };
    // At 21:59:40 on Aug 10, A is open, B not yet, C settled days ago.
    assert.deepEqual(await discovered({ series: ['KXGOLD15M'], events: [], status: 'open' }), [A]);
    assert.deepEqual(await discovered({ series: ['KXGOLD15M'], events: [], status: 'unopened' }), [B]);
    assert.deepEqual(await discovered({ series: [], events: ['KXGOLD15M-26AUG060800'], status: '' }), [C]);
    assert.deepEqual(await discovered({ series: ['KXOTHER'], events: [], status: '' }), []);
    assert.equal((await discovered({ series: ['KXGOLD15M'], events: [], status: '', maxMarkets: 2 })).length, 2);
  });

  it('subscribes the open market: its events reach the books through the partitions, equal to the replayed book', async () => {
    feed = newFeed({ series: ['KXGOLD15M'], events: [], status: 'open', maxMarkets: 10 });
    const inner = stack().createPublisher(uniqueName('kalshi-live'));
    publisher = inner;
    const spy = Object.create(inner) as MarketDataPublisher;
    spy.publish = (event: MarketEvent) => {
      published.push(event);
      return inner.publish(event);
    };
    running = await runFeedIntoPublisher(feed, spy);
    assert.deepEqual(running.markets, [A]);
    await advance(START + 5_000);
    assert.ok(published.some((e) => e.t === 'snapshot' && e.m === A) && published.some((e) => e.t === 'delta' && e.m === A), 'snapshot and deltas arrived');
    const book = levels(stack().books.markets.get(A)?.book);
    assert.ok(book.yes.length + book.no.length > 0, 'a book with levels');
    assert.deepEqual(book, await replayedBook(A, emulator.nowMs()));
    assert.equal(stack().books.markets.get(A)?.book.stale, false);
  });

  it('follows market_lifecycle_v2: adds the market that opens, drops the settled one, and versions its snapshot rows (SCD-2)', async () => {
    await advance(A_CLOSE + 10_000);
    await feed.settled();
    assert.deepEqual(feed.markets(), [B]);
    assert.equal(feed.counters.added, 1);
    assert.equal(feed.counters.dropped, 1);
    const rows = await stack().database.db.select().from(marketSnapshots).where(eq(marketSnapshots.marketTicker, A)).orderBy(asc(marketSnapshots.id));
    assert.deepEqual(rows.map((r) => r.status), ['active', 'closed', 'finalized']);
    assert.deepEqual(rows.map((r) => r.rowCurrentInd), [false, false, true]);
    assert.equal((rows[2]!.attributes as { result?: string }).result, readGoldMarketMetadata(GOLD, A)!.meta.attributes.result, 'the settled row carries the recorded result');
    assert.ok(rows[0]!.expirationTs!.getTime() <= A_CLOSE + 1000 && rows[1]!.effectiveTs.getTime() >= A_CLOSE, 'closed at the close, in exchange time');
    assert.deepEqual(levels(stack().books.markets.get(B)?.book), await replayedBook(B, emulator.nowMs()));
  });

  it('a seq gap marks the book stale, resyncs it (get_snapshot) and re-bases it', async () => {
    const before = { ...feed.counters };
    emulator.ws.dropNextMessages(1);
    // The gap shows when the next message of that subscription arrives.
    for (let s = 0; s < 120 && feed.counters.resyncs === before.resyncs; s++) await advance(emulator.nowMs() + 1_000);
    await advance(emulator.nowMs() + 2_000);
    assert.ok(feed.counters.gaps > before.gaps && feed.counters.resyncs > before.resyncs, JSON.stringify(feed.counters));
    assert.ok(published.some((e) => e.t === 'stale' && e.m === B), 'the stale marking went through the partitions');
    const book = stack().books.markets.get(B)!.book;
    assert.equal(book.stale, false, 'the resync snapshot re-based the book');
    assert.deepEqual(levels(book), await replayedBook(B, emulator.nowMs()));
  });

  it('a dropped connection reconnects with a fresh signature and restores the subscriptions', async () => {
    const connects = feed.counters.connects;
    assert.equal(emulator.ws.disconnectAll('test'), 1);
    await until('the reconnect', () => feed.counters.connects > connects);
    await advance(emulator.nowMs() + 3_000);
    assert.equal(feed.counters.reconnects, 1);
    assert.deepEqual(feed.markets(), [B]);
    assert.deepEqual(levels(stack().books.markets.get(B)?.book), await replayedBook(B, emulator.nowMs()));
    console.log(`      feed counters: ${JSON.stringify(feed.counters)}`);
  });

  it('a feed gone silent with a position open trips the stale-data breaker (risk event + REDUCING)', async () => {
    const db = stack().database.db;
    await resetRiskState(db, 'live feed test', Date.now());
    const positionId = `position/${uniqueName('live-feed')}/${B}/1`;
    await db.insert(positions).values({ positionId, strategyId: 'live-feed-test', venue: 'sim', marketTicker: B, outcome: 'yes', status: 'open', state: {} });
    try {
      // The emulator's clock stands still: nothing arrives.
      await until('the stale-data breaker', async () => (await db.select().from(riskEvents).where(and(eq(riskEvents.kind, 'breaker_trip'), eq(riskEvents.rule, 'stale_market_data')))).length > 0, 15_000);
      const state = await readRiskState(db, Date.now());
      assert.equal(state.mode, 'REDUCING');
      assert.match(state.tripped.find((t) => t.breaker === 'stale_market_data')!.reason, new RegExp(B));
    } finally {
      // Other suites share the database and the paper risk state.
      await db.delete(positions).where(eq(positions.positionId, positionId));
      await resetRiskState(db, 'live feed test done', Date.now());
    }
  });
});

describe('live Kalshi feed: malformed venue messages', () => {
  it('are counted and reported with their raw payload; the feed keeps going', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const cmd = JSON.parse(data.toString()) as { id: number; cmd: string; params: { channels: string[] } };
        if (cmd.cmd !== 'subscribe') return;
        cmd.params.channels.forEach((channel, i) => socket.send(JSON.stringify({ id: cmd.id, type: 'subscribed', msg: { channel, sid: i + 1 } })));
        socket.send(JSON.stringify({ type: 'orderbook_snapshot', sid: 1, seq: 1, msg: { market_ticker: 'M-1', yes_dollars_fp: [['0.4000', '10.00']], no_dollars_fp: [] } }));
        socket.send('{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": "M-1", "price_dollars": "lots", "delta_fp": "1.00", "side": "yes"}}');
        socket.send('not json at all');
        const later = Date.now() + 60_000;
        socket.send(JSON.stringify({ type: 'orderbook_delta', sid: 1, seq: 3, msg: { market_ticker: 'M-1', price_dollars: '0.4000', delta_fp: '1.00', side: 'yes', ts_ms: later } }));
        // Stamped a few ms before the previous message: the market's time does not go back.
        socket.send(JSON.stringify({ type: 'trade', sid: 2, seq: 1, msg: { trade_id: 't1', market_ticker: 'M-1', yes_price_dollars: '0.4000', count_fp: '1.00', taker_side: 'yes', ts_ms: later - 3 } }));
      });
    });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const malformed: { raw: string; error: string }[] = [];
    const events: MarketEvent[] = [];
    const market = { ticker: 'M-1', event_ticker: 'M', status: 'active' };
    const feed = new KalshiLiveMarketData({
      rest: { markets: async function* () { yield market; } } as unknown as Pick<KalshiRestClient, 'markets'>,
      ws: { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/trade-api/ws/v2`, credentials: { apiKeyId: 'k', privateKey }, clock: { nowMs: () => Date.now() } },
      selection: { series: [], events: [], status: '', maxMarkets: 10 },
      onMalformed: (raw, error) => malformed.push({ raw, error }),
    });
    try {
      assert.deepEqual(await feed.open((e) => void events.push(e)), ['M-1']);
      await until('the trade', () => events.some((e) => e.t === 'trade'));
      assert.equal(feed.counters.malformed, 2);
      assert.deepEqual(malformed.map((m) => m.raw), ['{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": "M-1", "price_dollars": "lots", "delta_fp": "1.00", "side": "yes"}}', 'not json at all']);
      assert.match(malformed[0]!.error, /price_dollars/);
      // The refused delta's book missed an update: it alone is marked stale (its snapshot is asked for).
      assert.deepEqual(events.map((e) => e.t), ['snapshot', 'stale', 'delta', 'trade']);
      assert.equal(events[1]!.m, 'M-1');
      assert.match((events[1] as Extract<MarketEvent, { t: 'stale' }>).reason, /refused book message: .*price_dollars/);
      assert.equal(events[3]!.ts, events[2]!.ts);
    } finally {
      await feed.close();
      await new Promise((r) => wss.close(r));
    }
  });
});
