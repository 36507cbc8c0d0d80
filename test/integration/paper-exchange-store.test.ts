import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { Dec } from '../../domain/decimal';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BookStore } from '../../domain/market-data/book-store';
import type { UnitEvent } from '../../domain/market-data/events';
import { frozenBook, SimMatchingEngine, type MatchingBook } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { MemorySimStore, RedisSimStore, type SimStore } from '../../venues/sim/sim-store';
import { SimVenue } from '../../venues/sim/sim-venue';
import { uniqueName } from '../support/harness';

const REDIS_URL = process.env.KESTREL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MARKET = 'KXPAPER-26DEC03-T1';
const p = priceUnits;
const c = (n: number) => sizeUnits(String(n));
const newEngine = () => new SimMatchingEngine({ takerRate: new Dec('0.07'), makerRate: new Dec('0.0175') });

/** One "process": a paper exchange over its own books, on a store (shared through Redis, or its own memory). */
function processWith(store: SimStore, books: BookStore, sharedBook?: (market: string) => Promise<MatchingBook | undefined>) {
  const venue = new SimVenue(store, { books: { book: (m) => books.markets.get(m)?.book }, clock: { nowMs: () => 1_000 }, latencyMs: 0, recorded: async () => undefined, sharedBook });
  const pushed: OrderStateWire[] = [];
  venue.onOrderUpdate((s) => pushed.push(s));
  return { venue, pushed };
}

/** Every process applies the same market data to books of its own (the partition owner's, in a real deployment). */
function books(events: UnitEvent[]): BookStore {
  const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
  store.applyAll(events, 0);
  return store;
}

// YES bids 0.40×100, 0.38×50; NO bids 0.55×30, 0.50×80 → YES asks 0.45×30, 0.50×80.
const SNAPSHOT: UnitEvent = { t: 'snapshot', m: MARKET, ts: 0, yes: [{ price: p('0.40'), size: c(100) }, { price: p('0.38'), size: c(50) }], no: [{ price: p('0.55'), size: c(30) }, { price: p('0.50'), size: c(80) }] };
/** Trades through two resting bids, then the asks at 0.45 leave and a 0.49 bid crosses the resting sell. */
const CROSSING: UnitEvent[] = [
  { t: 'trade', m: MARKET, ts: 10, id: 't1', price: p('0.42'), count: c(25), takerSide: 'no' },
  { t: 'trade', m: MARKET, ts: 11, id: 't2', price: p('0.40'), count: c(105), takerSide: 'no' },
  { t: 'delta', m: MARKET, ts: 12, side: 'no', price: p('0.55'), delta: -c(30) },
  { t: 'level', m: MARKET, ts: 13, side: 'yes', price: p('0.49'), size: c(10) },
];

const order = (id: string, o: Partial<OrderRequestWire>): OrderRequestWire => ({ clientOrderId: id, positionId: 'pos', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: '0.42', size: '20', tif: 'gtc', ...o });
const RESTING = [
  order('o1', { limitPrice: '0.42', size: '20' }), // rests alone at 0.42
  order('o2', { limitPrice: '0.40', size: '10' }), // rests behind 100 at 0.40
  order('o3', { action: 'sell', limitPrice: '0.48', size: '15' }), // rests as a NO bid at 0.52
  order('o4', { tif: 'ioc', limitPrice: '0.45', size: '20' }), // takes 20 of the 30 offered at 0.45
  order('o5', { outcome: 'no', limitPrice: '0.30', size: '5' }), // rests, cancelled later
];
const LATER = order('o6', { tif: 'ioc', limitPrice: '0.45', size: '20' }); // only 10 are left at 0.45

describe('paper exchange state shared through Redis: orders survive a process change (real Redis)', function () {
  this.timeout(30_000);
  const redis: Redis[] = [];
  const prefixes: string[] = [];
  const redisStore = (prefix: string) => {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null, enableOfflineQueue: false });
    redis.push(connection);
    return new RedisSimStore(connection, prefix, newEngine);
  };
  const newPrefix = () => {
    const prefix = uniqueName('kestrel-test-sim');
    prefixes.push(prefix);
    return prefix;
  };
  after(async () => {
    const admin = new Redis(REDIS_URL);
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length) await admin.del(...keys);
    }
    await admin.quit();
    await Promise.all(redis.filter((r) => r.status !== 'end').map((r) => r.quit()));
  });

  /**
   * The whole session: orders, a cancel, market events that cross them. The first process goes away
   * after its orders; `next` is the one that carries on, whose books then apply the crossing events.
   */
  async function session(first: ReturnType<typeof processWith>, next: () => { process: ReturnType<typeof processWith>; books: BookStore }) {
    for (const o of RESTING) await first.venue.submit(o);
    await first.venue.close();
    const { process: second, books: secondBooks } = next();
    // The order the first process placed is the same order here: a retried id places nothing new.
    const again = await second.venue.submit(RESTING[3]!);
    const later = await second.venue.submit(LATER);
    await second.venue.cancel('o5');
    secondBooks.applyAll(CROSSING, 0);
    await second.venue.onMarketEvents(CROSSING);
    const states = await Promise.all([...RESTING, LATER].map((o) => second.venue.get(o.clientOrderId)));
    await second.venue.close();
    return { again, later, states, pushed: [...first.pushed, ...second.pushed] };
  }

  it('orders placed through one process are matched, cancelled and looked up by the next one exactly as by a single process', async () => {
    // Reference: one process whose exchange never changes hands (the store lives and dies with it).
    const single = new MemorySimStore(newEngine);
    const refBooks = books([SNAPSHOT]);
    const ref = processWith(single, refBooks);
    // The same process carries on: its store and books are the ones the first venue had.
    const reference = await session(ref, () => ({ process: processWith(single, refBooks), books: refBooks }));

    const prefix = newPrefix();
    const shared = await session(processWith(redisStore(prefix), books([SNAPSHOT])), () => {
      const secondBooks = books([SNAPSHOT]);
      return { process: processWith(redisStore(prefix), secondBooks), books: secondBooks };
    });

    assert.equal(shared.again.status, 'filled', 'the IOC placed by the first process, looked up by the second');
    assert.equal(new Dec(shared.again.filled).toFixed(0), '20');
    assert.equal(new Dec(shared.later.filled).toFixed(0), '10', 'the liquidity the first process consumed stays consumed');
    const byId = new Map(shared.states.map((s) => [s!.clientOrderId, s!]));
    assert.deepEqual([...byId].map(([id, s]) => [id, s.status, new Dec(s.filled).toFixed(0)]), [
      ['o1', 'filled', '20'],
      ['o2', 'resting', '5'],
      ['o3', 'filled', '15'],
      ['o4', 'filled', '20'],
      ['o5', 'canceled', '0'],
      ['o6', 'canceled', '10'],
    ]);
    assert.deepEqual(shared.states, reference.states, 'the same orders, fills and fees as one process');
    assert.deepEqual(shared.pushed, reference.pushed, 'the same fills pushed');
  });

  it('processes running at the same time share one book of liquidity: concurrent takers never fill the same contracts twice', async () => {
    const prefix = newPrefix();
    const processes = [0, 1, 2].map(() => processWith(redisStore(prefix), books([SNAPSHOT])));
    // 30 contracts offered at 0.45: 12 IOC orders of 5 from three processes at once.
    const placed = await Promise.all(Array.from({ length: 12 }, (_, i) => processes[i % 3]!.venue.submit(order(`take-${i}`, { tif: 'ioc', limitPrice: '0.45', size: '5' }))));
    const filled = placed.reduce((n, s) => n.plus(s.filled), new Dec(0));
    assert.equal(filled.toFixed(0), '30');
    // A resting order placed through one process fills on market data another applies, and a third sees it.
    await processes[0]!.venue.submit(order('rest-1', { limitPrice: '0.40', size: '10' }));
    await processes[1]!.venue.onMarketEvents([{ t: 'trade', m: MARKET, ts: 20, id: 't3', price: p('0.40'), count: c(110), takerSide: 'no' }]);
    const seen = await processes[2]!.venue.get('rest-1');
    assert.equal(seen!.status, 'filled');
    assert.equal(processes[1]!.pushed.at(-1)?.clientOrderId, 'rest-1', 'the process that matched it pushes the fill');
    await Promise.all(processes.map((x) => x.venue.close()));
  });

  it('a process without the market\'s book (another process owns its partition) matches on the owner\'s shared copy', async () => {
    const prefix = newPrefix();
    const ownerBooks = books([SNAPSHOT]);
    const owner = processWith(redisStore(prefix), ownerBooks);
    let reads = 0;
    const other = processWith(redisStore(prefix), books([]), async (market) => {
      reads++;
      const book = ownerBooks.markets.get(market)?.book;
      return book && frozenBook(book);
    });
    const reference = processWith(new MemorySimStore(newEngine), books([SNAPSHOT]));
    for (const o of [order('s1', { tif: 'ioc', limitPrice: '0.50', size: '50' }), order('s2', { action: 'sell', tif: 'ioc', limitPrice: '0.39', size: '120' })]) {
      const placed = await other.venue.submit(o);
      assert.deepEqual(placed, await reference.venue.submit(o));
      assert.ok(new Dec(placed.filled).gt(0), `${o.clientOrderId} filled on the shared book`);
    }
    assert.equal(reads, 2);
    const withoutBook = await processWith(redisStore(prefix), books([])).venue.submit(order('s3', { tif: 'ioc' }));
    assert.equal(withoutBook.rejectReason, `no market data for ${MARKET}`);
    await Promise.all([owner, other, reference].map((x) => x.venue.close()));
  });
});
