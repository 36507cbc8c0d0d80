import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Dec } from '../../domain/decimal';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { KalshiExecutionClient, KalshiWsOrderFeed } from '../../venues/kalshi/execution';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials, type KalshiCredentials } from '../../venues/kalshi/signing';
import { getHarness, uniqueName } from '../support/harness';
import { GOLD_DATA_DIR } from '../support/kalshi-openapi';
import { waitFor } from '../support/wait';

const MARKET = 'KXGOLD15M-26AUG101830-30';
/** Slow enough that only the WebSocket push can explain an update within the tests' time. */
const POLL_MS = 10_000;

/**
 * Order updates pushed on Kalshi's private WebSocket channels (`fill`, `user_orders`), against the
 * emulator over real sockets: a resting order the venue fills reaches `onOrderUpdate` at once, with
 * the venue's fills and fees; a fill while the socket is down is read by the poll right after the
 * reconnect.
 */
describe('Kalshi order updates pushed over the WebSocket (emulator)', function () {
  this.timeout(30_000);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKeyId = uniqueName('kalshi-push-key');
  const clock = { nowMs: () => Date.now() };
  let emu: KalshiEmulator;
  let rest: KalshiRestClient;
  let credentials: KalshiCredentials;
  const clients: KalshiExecutionClient[] = [];

  before(async () => {
    await getHarness();
    emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: [MARKET], speed: 0, accounts: [{ apiKeyId, publicKey }] });
    await emu.advanceTo(emu.nowMs() + 5 * 60_000);
    credentials = loadKalshiCredentials(apiKeyId, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    rest = new KalshiRestClient({ baseUrl: emu.restUrl, credentials, clock, limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await emu?.close();
  });

  /** An execution client with the push feed, listening; resolves once the feed is subscribed. */
  async function pushedClient(reconnect: { initialMs: number; maxMs: number }) {
    const updates: OrderStateWire[] = [];
    const lines: string[] = [];
    const feed = new KalshiWsOrderFeed({ url: emu.wsUrl, credentials, clock, reconnect, log: (l) => lines.push(l) });
    const client = new KalshiExecutionClient(rest, { orderRef: async () => undefined, pollMs: POLL_MS, orderFeed: feed, log: (l) => lines.push(l) });
    clients.push(client);
    client.onOrderUpdate((s) => updates.push(s));
    await waitFor(() => client.orderFeedStatus, (s) => s === 'up', 'the order feed subscribed', 5000);
    return { client, feed, updates, lines };
  }

  /** A GTC buy resting one cent under the ask: the recorded flow fills it as the clock moves. */
  async function restingBuy(client: KalshiExecutionClient, tag: string): Promise<OrderStateWire> {
    const { orderbook_fp: book } = await rest.orderbook(MARKET);
    // The best YES ask is 1 − the best NO bid (levels ascend: the last is the best).
    const noBids = book?.no_dollars ?? [];
    assert.ok(noBids.length > 0, 'the book has NO bids');
    const ask = new Dec(1).minus(noBids[noBids.length - 1]![0]);
    const order: OrderRequestWire = { clientOrderId: uniqueName(`push/${tag}`), positionId: `push-${tag}`, purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: ask.minus('0.01').toFixed(4), size: '1', tif: 'gtc' };
    const state = await client.submit(order);
    assert.equal(state.status, 'resting');
    return state;
  }

  /** The venue's own figures for the order, to compare what was emitted with. */
  async function venueOrder(venueOrderId: string) {
    const order = await rest.order(venueOrderId);
    return { filled: new Dec(order.fill_count_fp).toFixed(6), fees: new Dec(order.taker_fees_dollars).plus(order.maker_fees_dollars).toFixed(6), status: order.status };
  }

  const fingerprints = (updates: OrderStateWire[], id: string) => updates.filter((u) => u.clientOrderId === id).map((u) => `${u.status}|${u.filled}`);

  it('a resting order the venue fills is emitted at once from the push, with the venue\'s fills and fees, and only once per state', async () => {
    const { client, updates } = await pushedClient({ initialMs: 100, maxMs: 1000 });
    const placed = await restingBuy(client, 'fill');
    const started = Date.now();
    // Move the venue's clock until the order has filled; each step lets the push arrive first.
    const filled = await waitFor(
      async () => {
        const found = updates.find((u) => u.clientOrderId === placed.clientOrderId && u.status === 'filled');
        if (!found) await emu.advanceTo(emu.nowMs() + 10_000);
        return found;
      },
      (u) => u !== undefined,
      'the fill pushed to the listener',
      8000,
      50,
    );
    assert.ok(Date.now() - started < POLL_MS, 'emitted before any poll could have run');
    assert.equal(client.orderFeedCounters.pollEmits, 0, 'nothing came from the poll');
    assert.ok(client.orderFeedCounters.pushEmits >= 1);
    const venue = await venueOrder(placed.venueOrderId!);
    assert.equal(venue.status, 'executed');
    assert.equal(filled!.filled, venue.filled);
    assert.equal(filled!.fees, venue.fees, 'the venue\'s fees, not a formula');
    assert.ok(filled!.fills.length > 0);
    assert.equal(filled!.fills.reduce((n, f) => n.plus(f.size), new Dec(0)).toFixed(6), filled!.filled);
    assert.equal(filled!.fills.reduce((n, f) => n.plus(f.fee), new Dec(0)).toFixed(6), new Dec(filled!.fees).toFixed(6));
    // Fills and user_order messages both name the order: each state is still emitted once.
    const seen = fingerprints(updates, placed.clientOrderId);
    assert.deepEqual(seen, [...new Set(seen)], `no state twice: ${seen.join(', ')}`);
    // A message about an order this client never saw is left to reconciliation.
    const foreign = await rest.createOrder({ ticker: MARKET, client_order_id: uniqueName('other-tool'), side: 'bid', count: '1.00', price: '0.0100', time_in_force: 'good_till_canceled' });
    await waitFor(() => client.orderFeedCounters.ignored, (n) => n > 0, 'the foreign order\'s message ignored', 5000);
    await rest.cancelOrder(foreign.order_id);
    assert.equal(updates.filter((u) => u.venueOrderId === foreign.order_id).length, 0);
  });

  it('a fill while the WebSocket is down is delivered by the poll right after the reconnect', async () => {
    // A reconnect slow enough that the fill surely happens while disconnected.
    const { client, updates, feed, lines } = await pushedClient({ initialMs: 1500, maxMs: 3000 });
    const placed = await restingBuy(client, 'disconnected');
    const connectsBefore = feed.counters!.connects;
    emu.faults.apply({ ws_disconnect: true });
    await waitFor(() => client.orderFeedStatus, (s) => s === 'down', 'the feed saw the disconnect', 5000);
    // Fill it at the venue while nobody is subscribed.
    const filledAtVenue = await waitFor(
      async () => {
        const v = await venueOrder(placed.venueOrderId!);
        if (v.status === 'resting') await emu.advanceTo(emu.nowMs() + 10_000);
        return v;
      },
      (v) => v.status === 'executed',
      'the order filled at the venue',
      5000,
      10,
    );
    assert.equal(client.orderFeedStatus, 'down', 'the fill happened before the reconnect');
    assert.equal(feed.counters!.connects, connectsBefore);
    assert.equal(updates.filter((u) => u.clientOrderId === placed.clientOrderId).length, 0, `nothing could have pushed it: ${JSON.stringify({ updates, c: client.orderFeedCounters, lines })}`);
    const filled = await waitFor(() => updates.find((u) => u.clientOrderId === placed.clientOrderId && u.status === 'filled'), (u) => u !== undefined, 'the missed fill after the reconnect', 8000);
    assert.ok(feed.counters!.connects > connectsBefore, 'reconnected');
    assert.equal(filled!.filled, filledAtVenue.filled);
    assert.equal(filled!.fees, filledAtVenue.fees);
    assert.ok(filled!.fills.length > 0);
    assert.equal(client.orderFeedCounters.pollEmits, 1, 'the poll after the reconnect found it');
    assert.equal(client.orderFeedStatus, 'up');
    const seen = fingerprints(updates, placed.clientOrderId);
    assert.deepEqual(seen, [...new Set(seen)]);
  });

  it('close() closes the WebSocket', async () => {
    await pushedClient({ initialMs: 100, maxMs: 1000 });
    // Every client of this file is done: once closed, the emulator has no socket left open.
    await Promise.all(clients.splice(0).map(async (c) => {
      await c.close();
      assert.equal(c.orderFeedStatus, 'down');
    }));
    await waitFor(() => emu.ws.disconnectAll('probe: any socket still open?'), (open) => open === 0, 'every order-feed socket closed', 5000);
  });
});
