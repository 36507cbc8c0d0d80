import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Dec } from '../../domain/decimal';
import { InvalidOrder, NetworkError, OrderNotFound } from '../../domain/errors';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import type { ExecutionClient } from '../../domain/ports';
import { SimMatchingEngine } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { KalshiExecutionClient, type KalshiOrderRef } from '../../venues/kalshi/execution';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials } from '../../venues/kalshi/signing';
import { SimVenue } from '../../venues/sim/sim-venue';
import { MemorySimStore } from '../../venues/sim/sim-store';
import { GOLD_DATA_DIR } from '../support/kalshi-openapi';

const MARKET = 'KXGOLD15M-26AUG101830-30';

/**
 * One order model, two venues: the paper exchange and the Kalshi execution client (against the
 * emulator, over real sockets) answer the same port calls the same way on the same book; Kalshi's
 * faults never produce a second venue order.
 */
describe('execution port: paper exchange and Kalshi (emulator) side by side', function () {
  this.timeout(60_000);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let emu: KalshiEmulator;
  let rest: KalshiRestClient;
  let kalshi: KalshiExecutionClient;
  let paper: SimVenue;
  const refs = new Map<string, KalshiOrderRef>();
  let n = 0;

  before(async () => {
    emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: [MARKET], speed: 0, accounts: [{ apiKeyId: 'exec-key', publicKey }] });
    // A moment when the recorded book is two-sided and deep.
    await emu.advanceTo(emu.nowMs() + 5 * 60_000);
    rest = new KalshiRestClient({
      baseUrl: emu.restUrl,
      credentials: loadKalshiCredentials('exec-key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
      clock: { nowMs: () => Date.now() },
      limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } },
      backoff: { initialMs: 5, maxMs: 20 },
      requestTimeoutMs: 1000,
    });
    kalshi = new KalshiExecutionClient(rest, { orderRef: async (id) => refs.get(id) });
    // The paper exchange sees the book the venue serves right now.
    const { orderbook_fp: book } = await rest.orderbook(MARKET);
    const levels = (ls: [string, string][] | null | undefined) => (ls ?? []).map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    const paperBook = new BinaryOrderBook(MARKET);
    assert.ok(paperBook.applySnapshot(levels(book?.yes_dollars), levels(book?.no_dollars), emu.nowMs()).ok);
    const store = new MemorySimStore(() => new SimMatchingEngine({ takerRate: new Dec('0.07'), makerRate: new Dec('0.0175') }));
    paper = new SimVenue(store, { books: { book: () => paperBook }, clock: { nowMs: () => emu.nowMs() }, latencyMs: 0, recorded: async () => undefined });
  });
  after(() => emu?.close());

  const order = (o: Partial<OrderRequestWire>): OrderRequestWire => ({ clientOrderId: `exec-${++n}`, positionId: 'p', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: '0.50', size: '3', tif: 'ioc', ...o });
  const both = async (o: OrderRequestWire) => {
    refs.set(o.clientOrderId, { market: o.market, outcome: o.outcome, action: o.action });
    return { paper: await paper.submit(o), kalshi: await kalshi.submit(o) };
  };
  const comparable = (s: OrderStateWire) => ({ status: s.status, size: new Dec(s.size).toFixed(2), filled: new Dec(s.filled).toFixed(2), fills: s.fills.map((f) => [new Dec(f.price).toFixed(4), new Dec(f.size).toFixed(2), f.liquidity, new Dec(f.fee).toFixed(4)]) });
  const venueOrdersWith = async (clientOrderId: string) => {
    let count = 0;
    for await (const o of rest.orders({ ticker: MARKET })) if (o.client_order_id === clientOrderId) count++;
    return count;
  };
  async function topOfBook() {
    const { orderbook_fp: book } = await rest.orderbook(MARKET);
    const bestYesBid = Math.max(...(book?.yes_dollars ?? []).map(([p]) => Number(p)));
    const bestNoBid = Math.max(...(book?.no_dollars ?? []).map(([p]) => Number(p)));
    return { bid: new Dec(bestYesBid.toFixed(4)), ask: new Dec(1).minus(bestNoBid.toFixed(4)) };
  }

  it('fills a marketable IOC, YES and NO, identically: prices, sizes, taker fees', async () => {
    const { ask, bid } = await topOfBook();
    for (const o of [order({ limitPrice: ask.plus('0.02').toFixed(4) }), order({ outcome: 'no', limitPrice: new Dec(1).minus(bid).plus('0.02').toFixed(4), size: '2' })]) {
      const { paper: p, kalshi: k } = await both(o);
      assert.ok(new Dec(p.filled).gt(0), `paper filled ${JSON.stringify(p)}`);
      assert.deepEqual(comparable(k), comparable(p));
      assert.equal(new Dec(k.fees).toFixed(4), new Dec(p.fees).toFixed(4));
      assert.ok(k.venueOrderId && k.venueOrderId !== `sim-${o.clientOrderId}`);
    }
  });

  it('rests, amends, decreases and cancels a GTC order the same way', async () => {
    const { bid } = await topOfBook();
    const o = order({ tif: 'gtc', limitPrice: bid.minus('0.05').toFixed(4), size: '10' });
    const placed = await both(o);
    assert.deepEqual(comparable(placed.kalshi), comparable(placed.paper));
    assert.equal(placed.kalshi.status, 'resting');
    for (const clients of [[paper, kalshi]] as ExecutionClient[][]) {
      const [a, b] = clients as [ExecutionClient, ExecutionClient];
      assert.deepEqual(comparable(await b.amend(o.clientOrderId, { limitPrice: bid.minus('0.04').toFixed(4), size: '8' })), comparable(await a.amend(o.clientOrderId, { limitPrice: bid.minus('0.04').toFixed(4), size: '8' })));
      assert.deepEqual(comparable(await b.decrease(o.clientOrderId, '3')), comparable(await a.decrease(o.clientOrderId, '3')));
      const read = await b.get(o.clientOrderId);
      assert.equal(new Dec(read!.size).toFixed(2), '5.00');
      const canceled = await b.cancel(o.clientOrderId);
      assert.deepEqual(comparable(canceled), comparable(await a.cancel(o.clientOrderId)));
      assert.equal(canceled.status, 'canceled');
    }
  });

  it('speaks the same errors: unknown orders, refused orders', async () => {
    for (const venue of [paper, kalshi] as ExecutionClient[]) {
      assert.equal(await venue.get('no-such-order'), undefined);
      await assert.rejects(venue.cancel('no-such-order'), OrderNotFound);
    }
    const bad = order({ limitPrice: '1.20' });
    refs.set(bad.clientOrderId, { market: MARKET, outcome: 'yes', action: 'buy' });
    await assert.rejects(paper.submit(bad), InvalidOrder);
    await assert.rejects(kalshi.submit(bad), InvalidOrder);
  });

  it('a submit retried with the same client order id returns the first order; the venue holds one', async () => {
    const { bid } = await topOfBook();
    const o = order({ tif: 'gtc', limitPrice: bid.minus('0.06').toFixed(4) });
    const { kalshi: first } = await both(o);
    const again = await kalshi.submit(o);
    assert.equal(again.venueOrderId, first.venueOrderId);
    assert.equal(await venueOrdersWith(o.clientOrderId), 1);
    await kalshi.cancel(o.clientOrderId);
  });

  it('an order accepted whose response was lost is found, not sent again', async () => {
    const { bid } = await topOfBook();
    for (const mode of ['destroy', 'hang'] as const) {
      emu.faults.apply({ lose_order_responses: 1, lose_mode: mode });
      const o = order({ tif: 'gtc', limitPrice: bid.minus('0.07').toFixed(4) });
      refs.set(o.clientOrderId, { market: MARKET, outcome: 'yes', action: 'buy' });
      const state = await kalshi.submit(o);
      assert.equal(state.status, 'resting', mode);
      assert.equal(await venueOrdersWith(o.clientOrderId), 1, mode);
      await kalshi.cancel(o.clientOrderId);
    }
    assert.equal(emu.faults.injected.lostResponses, 2);
  });

  it('a 5xx on create is not blindly repeated: the order is looked up, then sent once when the venue never had it', async () => {
    const { bid } = await topOfBook();
    emu.faults.apply({ server_errors: 1, server_error_status: 503 });
    const o = order({ tif: 'gtc', limitPrice: bid.minus('0.08').toFixed(4) });
    refs.set(o.clientOrderId, { market: MARKET, outcome: 'yes', action: 'buy' });
    await assert.rejects(kalshi.submit(o), NetworkError);
    assert.equal(await venueOrdersWith(o.clientOrderId), 0);
    const retried = await kalshi.submit(o);
    assert.equal(retried.status, 'resting');
    assert.equal(await venueOrdersWith(o.clientOrderId), 1);
    await kalshi.cancel(o.clientOrderId);
  });

  it('pushes order updates (fills of resting orders) to listeners', async () => {
    const { ask } = await topOfBook();
    // Rests one tick below the ask; the recorded flow will trade through it as time passes.
    const o = order({ tif: 'gtc', limitPrice: ask.minus('0.01').toFixed(4), size: '1' });
    refs.set(o.clientOrderId, { market: MARKET, outcome: 'yes', action: 'buy' });
    const pushed: OrderStateWire[] = [];
    const polling = new KalshiExecutionClient(rest, { orderRef: async (id) => refs.get(id), pollMs: 20 });
    const off = polling.onOrderUpdate((s) => pushed.push(s));
    const placed = await polling.submit(o);
    assert.equal(placed.status, 'resting');
    for (let i = 0; i < 60 && pushed.length === 0; i++) {
      await emu.advanceTo(emu.nowMs() + 10_000);
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(pushed.length > 0, 'a fill or status change was pushed');
    assert.ok(new Dec(pushed.at(-1)!.filled).gt(0) || pushed.at(-1)!.status !== 'resting');
    off();
    await polling.close();
    await kalshi.cancel(o.clientOrderId).catch(() => undefined);
  });
});
