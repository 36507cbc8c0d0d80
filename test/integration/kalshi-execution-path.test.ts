import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, asc, eq } from 'drizzle-orm';
import { createTradingActivities } from '../../activities/trading';
import { RecordedSettlements } from '../../db/settlements';
import { exitAttempts, orders, positions, reconciliationEvents } from '../../db/schema';
import { OUTCOME_UNKNOWN, TradingRepository } from '../../db/trading-repo';
import { Dec } from '../../domain/decimal';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { OrderRequestWire } from '../../domain/trading/wire';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { KalshiExecutionClient, toCreateOrderV2 } from '../../venues/kalshi/execution';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials } from '../../venues/kalshi/signing';
import { KalshiReconciler } from '../../workers/reconciler';
import { startStack, type Stack } from '../../runtime/stack';
import { positionQuery, positionWorkflow, requestExitUpdate, type PositionInput } from '../../workflows/position';
import { getHarness, uniqueName } from '../support/harness';
import { GOLD_DATA_DIR } from '../support/kalshi-openapi';
import { kestrel } from '../support/cli';
import { waitFor } from '../support/wait';

const MARKET = 'KXGOLD15M-26AUG101830-30';

/**
 * The running path with `venues.execution: kalshi`: the stack's trading activities place a position
 * workflow's orders through the Kalshi execution client, against the emulator over real sockets, and
 * record them under the venue's name and order ids.
 */
describe('trading activities on Kalshi (emulator) through the execution port', function () {
  this.timeout(120_000);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKeyId = uniqueName('kalshi-key');
  let emu: KalshiEmulator;
  let stack: Stack;
  let rest: KalshiRestClient;
  let keyFile: string;

  before(async () => {
    emu = await startKalshiEmulator({ dataDir: GOLD_DATA_DIR, markets: [MARKET], speed: 0, accounts: [{ apiKeyId, publicKey }] });
    await emu.advanceTo(emu.nowMs() + 5 * 60_000);
    keyFile = path.join(mkdtempSync(path.join(tmpdir(), 'kestrel-kalshi-')), 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    const harness = await getHarness();
    const config = harness.config({ 'venues.execution': 'kalshi', 'venues.kalshi.environment': 'emulator', 'venues.kalshi.emulatorPort': emu.port, 'venues.kalshi.orderPollMs': 50,
      // No timer run: a reconciliation between a fill and the test's own run would leave nothing behind to find.
      'venues.kalshi.reconcileEveryMs': 0 });
    stack = await startStack(config, { workflowBundle: harness.workflowBundle, env: { KALSHI_API_KEY_ID: apiKeyId, KALSHI_PRIVATE_KEY_PATH: keyFile } });
    rest = new KalshiRestClient({ baseUrl: emu.restUrl, credentials: loadKalshiCredentials(apiKeyId, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), clock: { nowMs: () => Date.now() }, limits: { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } } });
    // Quotes for the workflow: the venue's book now (the live feed's job on the running system).
    const { orderbook_fp: book } = await rest.orderbook(MARKET);
    const levels = (ls: [string, string][] | null | undefined) => (ls ?? []).map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    stack.books.state(MARKET).book.applySnapshot(levels(book?.yes_dollars), levels(book?.no_dollars), Date.now());
    stack.books.state(MARKET).receivedAtMs = Date.now();
  });
  after(async () => {
    await stack?.shutdown();
    await emu?.close();
  });

  /** A position of 2 YES bought a cent through the venue's ask, with short cadences. */
  const buyAtTheAsk = (strategyId: string): PositionInput => ({
    strategyId,
    market: MARKET,
    outcome: 'yes',
    closeTimeMs: Date.now() + 3_600_000,
    entry: { limitPrice: new Dec(stack.books.state(MARKET).book.top().yesAsk!.price).div(10_000).plus('0.01').toFixed(4), size: '2', timeoutMs: 2000 },
    cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 5000 },
    planConfig: { timeoutsMs: { CRITICAL: 200, HIGH: 200, MEDIUM: 200, LOW: 200 } },
  });

  const venueOrdersWith = async (clientOrderId: string) => {
    let count = 0;
    for await (const o of rest.orders({ ticker: MARKET })) if (o.client_order_id === clientOrderId) count++;
    return count;
  };

  it('a position enters and exits on the venue; orders are recorded with the venue and its order ids; the venue position ends flat', async () => {
    assert.equal(stack.execution.venue, 'kalshi');
    assert.equal(stack.paper, undefined);
    const input = buyAtTheAsk('kalshi-path');
    const handle = await stack.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: stack.config.temporal.taskQueue, workflowId: `position/kalshi/${uniqueName('p')}` });
    await waitFor(() => handle.query(positionQuery), (s) => s.status === 'open', 'entry filled on the venue');
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'test over' }] });
    const final = await handle.result();
    assert.equal(final.status, 'closed');

    const rows = await stack.database.db.select().from(orders).where(eq(orders.positionId, handle.workflowId));
    assert.ok(rows.length >= 2);
    for (const row of rows) {
      assert.equal(row.venue, 'kalshi');
      assert.ok(row.venueOrderId, `${row.clientOrderId} has its venue order id`);
      const atVenue = await rest.order(row.venueOrderId!);
      assert.equal(atVenue.client_order_id, row.clientOrderId);
      assert.equal(new Dec(atVenue.fill_count_fp).toFixed(6), new Dec(row.filledSize).toFixed(6));
      assert.equal(await venueOrdersWith(row.clientOrderId), 1, 'one venue order per client order id');
    }
    const [position] = await stack.database.db.select().from(positions).where(eq(positions.positionId, handle.workflowId));
    assert.equal(position!.venue, 'kalshi');
    const held: { position_fp: string }[] = [];
    for await (const p of rest.positions({ ticker: MARKET })) held.push(p);
    const net = held.reduce((n, p) => n.plus(p.position_fp), new Dec(0));
    assert.equal(net.toFixed(2), '0.00', `venue position flat: ${JSON.stringify(held)}`);
    // The emulator charges Kalshi's published schedule, which is our formula: no fee differences.
    assert.equal((stack.execution as KalshiExecutionClient).feeDifferences, 0);
    assert.match(await stack.metrics.registry.metrics(), /kestrel_venue_fee_differences_total/);
  });

  it('a venue fee that differs from our formula is logged and counted once per fill, and the venue\'s fee is what is booked', async () => {
    const lines: string[] = [];
    // Our schedule says 5% taker where the venue charges 7%.
    const client = new KalshiExecutionClient(rest, { orderRef: async () => undefined, fees: { takerRate: new Dec('0.05'), makerRate: new Dec('0.0175') }, log: (l) => lines.push(l) });
    const ask = new Dec(stack.books.state(MARKET).book.top().yesAsk!.price).div(10_000);
    const order: OrderRequestWire = { clientOrderId: uniqueName('fee-check'), positionId: 'fee-check', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: ask.toFixed(4), size: '3', tif: 'ioc' };
    const state = await client.submit(order);
    assert.equal(state.status, 'filled');
    await client.get(order.clientOrderId);
    assert.equal(client.feeDifferences, state.fills.length, 'each fill counted once, however often the order is read');
    assert.match(lines.join('\n'), /Kalshi charged 0\.\d{4} on fill .* our formula says 0\.\d{4}/);
    const venueFees = state.fills.reduce((n, f) => n.plus(f.fee), new Dec(0));
    assert.equal(new Dec(state.fees).toFixed(4), venueFees.toFixed(4));
    // Back to flat for the tests that follow.
    await client.submit({ ...order, clientOrderId: uniqueName('fee-check-out'), action: 'sell', limitPrice: '0.01' });
  });

  /** The account's net YES position in the market at the venue. */
  const net = async () => {
    let n = new Dec(0);
    for await (const p of rest.positions({ ticker: MARKET })) n = n.plus(p.position_fp);
    return n;
  };

  it('a LOW exit walks by amending its one resting venue order (a lost amend answer included), never cancel and replace; flat at the end', async () => {
    const before = await net();
    const handle = await stack.temporal.workflow.start(positionWorkflow, { args: [buyAtTheAsk('kalshi-walk')], taskQueue: stack.config.temporal.taskQueue, workflowId: `position/kalshi/${uniqueName('walk')}` });
    await waitFor(() => handle.query(positionQuery), (s) => s.status === 'open', 'entry filled on the venue');
    const amendsBefore = emu.exchange.counters.amends;
    const lostBefore = emu.faults.injected.lostAmendResponses;
    // The walk's first amendment is applied at the venue, but its answer never arrives: the retry must change nothing more.
    emu.faults.apply({ lose_amend_responses: 1, lose_mode: 'destroy' });
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'LOW', reason: 'walk test' }] });
    assert.equal((await handle.result()).status, 'closed');
    assert.equal(emu.faults.injected.lostAmendResponses, lostBefore + 1, 'the amend answer was lost');
    const attempts = await stack.database.db.select().from(exitAttempts).where(eq(exitAttempts.positionId, handle.workflowId)).orderBy(asc(exitAttempts.attemptNo));
    const walk = attempts.filter((a) => a.orderType === 'limit');
    assert.ok(walk.length >= 2, `the exit walked (${attempts.map((a) => `${a.limitPrice} ${a.outcome}`).join(', ')})`);
    assert.equal(new Set(walk.map((a) => a.clientOrderId)).size, 1, 'every walk step worked the same order');
    assert.ok(emu.exchange.counters.amends - amendsBefore >= walk.length - 1, `amended at the venue (${emu.exchange.counters.amends - amendsBefore} amends for ${walk.length} steps)`);
    const rows = await stack.database.db.select().from(orders).where(and(eq(orders.positionId, handle.workflowId), eq(orders.purpose, 'exit')));
    assert.equal(rows.length, new Set(attempts.map((a) => a.clientOrderId)).size, 'no exit order but those the attempts worked');
    for (const row of rows) assert.equal(await venueOrdersWith(row.clientOrderId), 1, `one venue order for ${row.clientOrderId}`);
    const walkRow = rows.find((r) => r.clientOrderId === walk[0]!.clientOrderId)!;
    const atVenue = await rest.order(walkRow.venueOrderId!);
    assert.equal(new Dec(atVenue.yes_price_dollars as string).toFixed(4), walk.at(-1)!.limitPrice, 'the venue order rests (or rested) at the last walk price');
    assert.equal(walkRow.limitPrice, walk.at(-1)!.limitPrice, 'and so does our record of it');
    const filled = attempts.reduce((n, a) => n.plus(a.filledSize), new Dec(0));
    assert.equal(filled.toFixed(2), '2.00', 'the attempts account for every contract sold');
    assert.equal((await net()).minus(before).toFixed(2), '0.00', 'flat at the venue');
  });

  it('a position trades through 429s, 5xx, a lost order response and a WebSocket drop: closed, one venue order per client order id, flat', async () => {
    const before = await net();
    const input = buyAtTheAsk('kalshi-faults');
    const injected = { ...emu.faults.injected };
    // The entry meets a 429 burst, 503s and a dropped order-update socket; the exit's create is executed but its answer lost.
    emu.faults.apply({ rate_limit: 3, server_errors: 2, server_error_status: 503, ws_disconnect: true });
    const handle = await stack.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: stack.config.temporal.taskQueue, workflowId: `position/kalshi/${uniqueName('faults')}` });
    await waitFor(() => handle.query(positionQuery), (s) => s.status === 'open', 'entry filled through the faults');
    emu.faults.apply({ lose_order_responses: 1, lose_mode: 'destroy', server_errors: 1 });
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'faults test' }] });
    assert.equal((await handle.result()).status, 'closed');
    assert.ok(emu.faults.injected.rateLimited > injected.rateLimited && emu.faults.injected.serverErrors > injected.serverErrors && emu.faults.injected.lostResponses > injected.lostResponses, `every fault was hit: ${JSON.stringify(emu.faults.injected)}`);
    const rows = await stack.database.db.select().from(orders).where(eq(orders.positionId, handle.workflowId));
    for (const row of rows) assert.equal(await venueOrdersWith(row.clientOrderId), 1, `one venue order for ${row.clientOrderId}`);
    assert.equal((await net()).minus(before).toFixed(2), '0.00', 'flat at the venue');
  });

  it('an order priced off the market\'s grid is sent at the nearest grid price that is not worse (the venue would refuse it)', async () => {
    const lines: string[] = [];
    const client = new KalshiExecutionClient(rest, { orderRef: async () => undefined, log: (l) => lines.push(l) });
    const order: OrderRequestWire = { clientOrderId: uniqueName('grid'), positionId: 'grid', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: '0.0150', size: '1', tif: 'gtc' };
    const state = await client.submit(order);
    assert.equal(state.status, 'resting');
    const atVenue = await rest.order(state.venueOrderId!);
    assert.equal(new Dec(atVenue.yes_price_dollars as string).toFixed(4), '0.0100', 'a bid rounds down');
    assert.match(lines.join('\n'), /bid 0\.0150 is off .*'s price grid; sent at 0\.0100/);
    assert.equal((await client.cancel(order.clientOrderId)).status, 'canceled');
  });

  it('after a crash between "accepted by the venue" and "recorded", the retried submit finds the order instead of sending another', async () => {
    const repo = new TradingRepository(stack.database.db);
    const activities = createTradingActivities({ db: stack.database.db, execution: stack.execution, books: { book: (m) => stack.books.markets.get(m)?.book }, settlements: new RecordedSettlements(stack.database.db), clock: { nowMs: () => Date.now() } });
    const bid = new Dec(stack.books.state(MARKET).book.top().yesBid!.price).div(10_000);
    const order: OrderRequestWire = { clientOrderId: uniqueName('crash/entry/attempt-1'), positionId: 'crash', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: bid.minus('0.05').toFixed(4), size: '1', tif: 'gtc' };
    // The first attempt recorded its intent and reached the venue, then the process died.
    await repo.recordOrderIntent(order, 'kalshi', Date.now());
    const accepted = await rest.createOrder(toCreateOrderV2(order));
    assert.equal((await repo.loadOrder(order.clientOrderId))!.status, OUTCOME_UNKNOWN);
    // The retry (another process: nothing in memory) looks the order up first.
    const state = await activities.submitOrder(order);
    assert.equal(state.venueOrderId, accepted.order_id);
    assert.equal(state.status, 'resting');
    assert.equal(await venueOrdersWith(order.clientOrderId), 1);
    assert.equal((await repo.loadOrder(order.clientOrderId))!.status, 'resting');
    assert.equal((await activities.cancelOrder(order.clientOrderId)).status, 'canceled');
  });

  it('a venue refusal is a rejected order (the workflow goes on); a paused exchange fails retryably and nothing rests', async () => {
    const activities = createTradingActivities({ db: stack.database.db, execution: stack.execution, books: { book: () => undefined }, settlements: new RecordedSettlements(stack.database.db), clock: { nowMs: () => Date.now() } });
    const order = (size: string): OrderRequestWire => ({ clientOrderId: uniqueName('refused/entry/attempt-1'), positionId: 'refused', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: '0.50', size, tif: 'gtc' });
    // More than the account's balance: the venue refuses it (400); the order is recorded as rejected.
    const tooBig = order('1000000');
    const refused = await activities.submitOrder(tooBig);
    assert.equal(refused.status, 'rejected');
    assert.match(refused.rejectReason ?? '', /insufficient|balance/i);
    assert.equal((await new TradingRepository(stack.database.db).loadOrder(tooBig.clientOrderId))!.status, 'rejected');
    emu.faults.apply({ pause_trading: true });
    try {
      const paused = order('1');
      const outcome = await activities.submitOrder(paused).catch((e: Error) => e);
      assert.ok(outcome instanceof Error && (outcome as { retryable?: boolean }).retryable === true, String(outcome));
      assert.equal(await venueOrdersWith(paused.clientOrderId), 0);
    } finally {
      emu.faults.apply({ pause_trading: false });
    }
  });

  it('reconciliation: records what the venue moved on, reports (or cancels) orders we never sent and positions that differ', async () => {
    const repo = new TradingRepository(stack.database.db);
    // Sent by another Kestrel process's client (no order-update listener, no push): the stack's
    // client never hears of the order, so its fill is missed as it would be while Kestrel is down.
    const elsewhere = new KalshiExecutionClient(rest, { orderRef: async () => undefined });
    const activities = createTradingActivities({ db: stack.database.db, execution: elsewhere, books: { book: (m) => stack.books.markets.get(m)?.book }, settlements: new RecordedSettlements(stack.database.db), clock: { nowMs: () => Date.now() } });
    const ask = new Dec(stack.books.state(MARKET).book.top().yesAsk!.price).div(10_000);
    // Ours: rests just under the ask; the recorded flow fills it while nobody is looking.
    const ours: OrderRequestWire = { clientOrderId: uniqueName('recon/entry/attempt-1'), positionId: 'recon', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: ask.minus('0.01').toFixed(4), size: '1', tif: 'gtc' };
    assert.equal((await activities.submitOrder(ours)).status, 'resting');
    // Not ours: placed at the venue by another tool, far from the touch.
    const foreign = await rest.createOrder({ ticker: MARKET, client_order_id: uniqueName('other-tool'), side: 'bid', count: '1.00', price: '0.0100', time_in_force: 'good_till_canceled' });
    for (let i = 0; i < 60 && (await repo.loadOrder(ours.clientOrderId))!.status === 'resting'; i++) {
      const state = await elsewhere.get(ours.clientOrderId);
      if (state?.status !== 'resting') break;
      await emu.advanceTo(emu.nowMs() + 10_000);
    }
    const reconciler = (cancelUnknownOrders: boolean) => new KalshiReconciler({ db: stack.database.db, rest, execution: stack.execution, clock: { nowMs: () => Date.now() }, cancelUnknownOrders, log: () => {} });
    const first = await reconciler(false).run('cli');
    const kinds = first.differences.map((d) => `${d.kind}:${d.action}`);
    assert.ok(kinds.includes('order_behind:applied'), kinds.join(', '));
    assert.ok(kinds.includes('unknown_venue_order:reported'), kinds.join(', '));
    assert.ok(kinds.includes('position_mismatch:reported'), 'the filled order left a venue position no Kestrel position holds');
    const recorded = (await repo.loadOrder(ours.clientOrderId))!;
    assert.equal(recorded.status, 'filled');
    assert.ok(recorded.state.fills.length > 0, 'the missed fill is recorded');
    const rows = await stack.database.db.select().from(reconciliationEvents).where(eq(reconciliationEvents.runId, first.runId));
    assert.equal(rows.length, first.differences.length);

    const second = await reconciler(true).run('cli');
    assert.deepEqual(second.differences.filter((d) => d.kind === 'unknown_venue_order').map((d) => d.action), ['cancelled']);
    assert.equal((await rest.order(foreign.order_id)).status, 'canceled');
    const third = await reconciler(true).run('cli');
    // Left to a human: the untracked position, and the order the paused exchange never took (sent, outcome unknown, not at the venue).
    assert.deepEqual(third.differences.filter((d) => d.kind !== 'order_missing_at_venue').map((d) => d.kind), ['position_mismatch']);
    for (const d of third.differences) if (d.kind === 'order_missing_at_venue') assert.equal(d.recordedStatus, OUTCOME_UNKNOWN);
  });

  it('operator commands on the venue: orders, reconcile, cancel-all (and a clear refusal on paper)', async () => {
    const harness = await getHarness();
    const env = {
      DATABASE_URL: harness.databaseUrl,
      REDIS_URL: harness.redisUrl,
      TEMPORAL_ADDRESS: harness.temporalAddress,
      KESTREL__VENUES__EXECUTION: 'kalshi',
      KESTREL__VENUES__KALSHI__ENVIRONMENT: 'emulator',
      KESTREL__VENUES__KALSHI__EMULATOR_PORT: String(emu.port),
      KALSHI_API_KEY_ID: apiKeyId,
      KALSHI_PRIVATE_KEY_PATH: keyFile,
    };
    const activities = createTradingActivities({ db: stack.database.db, execution: stack.execution, books: { book: (m) => stack.books.markets.get(m)?.book }, settlements: new RecordedSettlements(stack.database.db), clock: { nowMs: () => Date.now() } });
    const bid = new Dec(stack.books.state(MARKET).book.top().yesBid!.price).div(10_000);
    const resting: OrderRequestWire = { clientOrderId: uniqueName('cli/entry/attempt-1'), positionId: 'cli', purpose: 'entry', market: MARKET, outcome: 'yes', action: 'buy', limitPrice: bid.minus('0.05').toFixed(4), size: '1', tif: 'gtc' };
    const placed = await activities.submitOrder(resting);

    const listed = await kestrel(['orders', '--open', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const open = JSON.parse(listed.stdout) as { clientOrderId: string; venueOrderId: string; venue: string }[];
    assert.deepEqual(open.filter((o) => o.clientOrderId === resting.clientOrderId).map((o) => [o.venue, o.venueOrderId]), [['kalshi', placed.venueOrderId]]);

    const reconciled = await kestrel(['reconcile', '--json'], env);
    const report = JSON.parse(reconciled.stdout) as { differences: { kind: string }[] };
    assert.ok(Array.isArray(report.differences));
    assert.equal(reconciled.code, report.differences.some((d) => d.kind === 'position_mismatch' || d.kind === 'unknown_venue_order') ? 1 : 0);

    assert.equal((await kestrel(['cancel-all'], env)).code, 2, 'a reason is required');
    const cancelled = await kestrel(['cancel-all', '--reason', 'test', '--json'], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.ok((JSON.parse(cancelled.stdout) as { cancelled: { clientOrderId: string }[] }).cancelled.some((c) => c.clientOrderId === resting.clientOrderId));
    assert.equal((await rest.order(placed.venueOrderId!)).status, 'canceled');
    assert.equal((await new TradingRepository(stack.database.db).loadOrder(resting.clientOrderId))!.status, 'canceled');

    const paper = await kestrel(['cancel-all', '--reason', 'x'], { ...env, KESTREL__VENUES__EXECUTION: 'paper' });
    assert.equal(paper.code, 2);
    assert.match(paper.stderr, /venues.execution is paper/);
  });
});
