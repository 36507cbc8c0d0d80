import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, eq, like } from 'drizzle-orm';
import { generatePrivateKey } from 'viem/accounts';
import { EXIT } from '../../cli/main';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { orders, positions } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { equivalentPairs } from '../../domain/arbitrage/mapping';
import type { BasketPlan } from '../../domain/arbitrage/legs';
import type { ExecutionClient } from '../../domain/ports';
import { CROSS_VENUE_STRATEGY, connectPolymarketTrading, kalshiPairBook, loadArbitrageMapping, polymarketPairBook, runCrossVenueArb, startArbitrageWorker, type PolymarketTrading } from '../../runs/cross-venue-arb';
import { startKalshiEmulator, type KalshiEmulator } from '../../venues/kalshi/emulator/server';
import { createKalshiVenue, type KalshiVenue } from '../../venues/kalshi/factory';
import { loadKalshiCredentials } from '../../venues/kalshi/signing';
import { startPolymarketEmulator, type PolymarketEmulator } from '../../venues/polymarket/emulator/server';
import { TradingRepository } from '../../db/trading-repo';
import { kestrel } from '../support/cli';
import { arbitrageBasketWorkflow, type BasketSnapshot } from '../../workflows/arbitrage';
import { getHarness, REPO_ROOT, SHARED_DATA_DIR, uniqueName, type Harness } from '../support/harness';
import { GOLD_DATA_DIR } from '../support/kalshi-openapi';

const MAPPING_FILE = path.join(REPO_ROOT, 'config', 'arbitrage', 'gold-synthetic.yaml');
const POLYMARKET_SAMPLES = path.join(SHARED_DATA_DIR, 'polymarket-ws-samples');
/** When the recorded Polymarket book of the mapped token is in place (asks from 0.47). */
const POLYMARKET_BOOK_MS = 1770921571355;

/**
 * Cross-venue arbitrage end to end, over real sockets: the Kalshi emulator replaying a recorded gold
 * market and the Polymarket emulator serving a recorded book, paired by the SYNTHETIC mapping in
 * config/arbitrage/gold-synthetic.yaml (no real overlapping pair exists in the data: the pairing is
 * made up so the two recorded books can be traded against each other). Four minutes into the gold
 * market the recorded YES bid is 0.63 (NO ask 0.37); the Polymarket token's ask is 0.47: 0.84 plus
 * both taker fees is well under $1. No book is altered: the gap is in the recordings as they are.
 */
describe('cross-venue arbitrage: Kalshi and Polymarket emulators, a synthetic reviewed pair', function () {
  this.timeout(120_000);
  let harness: Harness;
  let db: DatabaseHandle;
  let kalshiEmu: KalshiEmulator;
  let polyEmu: PolymarketEmulator;
  const stops: (() => Promise<void>)[] = [];
  const mapping = loadArbitrageMapping(MAPPING_FILE);
  const pair = mapping.pairs[0]!;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let env: Record<string, string>;

  before(async () => {
    harness = await getHarness();
    env = { DATABASE_URL: harness.databaseUrl, REDIS_URL: harness.redisUrl, TEMPORAL_ADDRESS: harness.temporalAddress };
    db = openDatabase(harness.databaseUrl, { max: 4 });
    kalshiEmu = await startKalshiEmulator({
      dataDir: GOLD_DATA_DIR,
      markets: [pair.kalshi.market],
      accounts: [
        { apiKeyId: 'arb-funded', publicKey: keys.publicKey },
        { apiKeyId: 'arb-cli', publicKey: keys.publicKey },
        // Cannot pay for 10 NO at 0.37: its entry is refused (insufficient_balance).
        { apiKeyId: 'arb-broke', publicKey: keys.publicKey, balance: '1' },
      ],
    });
    await kalshiEmu.advanceTo(kalshiEmu.nowMs() + 4 * 60_000);
    polyEmu = await startPolymarketEmulator({ dataDir: POLYMARKET_SAMPLES, defaultFeeRateBps: '200', confirmAfterMs: 20 });
    polyEmu.advanceTo(POLYMARKET_BOOK_MS + 1);
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await polyEmu?.close();
    await kalshiEmu?.close();
    // Arbitrage legs stay open (nothing settles them here): they would count against later suites' position limits in the shared database.
    await db?.db.delete(positions).where(eq(positions.strategyId, CROSS_VENUE_STRATEGY));
    await db?.close();
  });

  /** One trading setup: a Kalshi account and a Polymarket wallet, a worker whose registry routes to them. */
  async function tradingSetup(kalshiKeyId: string) {
    const config = harness.config({ 'venues.kalshi.environment': 'emulator', 'venues.kalshi.restUrl': kalshiEmu.restUrl, 'venues.kalshi.wsUrl': kalshiEmu.wsUrl });
    const repo = new TradingRepository(db.db);
    const kalshi: KalshiVenue = createKalshiVenue(config, { clock: { nowMs: () => Date.now() }, credentials: loadKalshiCredentials(kalshiKeyId, pem), orderRef: (id) => repo.orderRef(id), orderPush: false });
    const polymarket: PolymarketTrading = await connectPolymarketTrading({ restUrl: polyEmu.url, userWsUrl: polyEmu.userWsUrl, privateKey: generatePrivateKey(), pairs: [pair], heartbeatMs: 1000 });
    const taskQueue = uniqueName('arb');
    const venues: Record<'kalshi' | 'polymarket', ExecutionClient> = { kalshi: kalshi.execution, polymarket: polymarket.execution };
    const worker = await startArbitrageWorker({ address: harness.temporalAddress, namespace: 'default', taskQueue, deps: { db: db.db, venues, clock: { nowMs: () => Date.now() }, fillSettleMs: 3000 }, workflowBundle: harness.workflowBundle });
    stops.push(async () => {
      await worker.stop();
      await polymarket.close();
      await kalshi.execution.close();
    });
    const run = () =>
      runCrossVenueArb({
        pair,
        books: { kalshi: () => kalshiPairBook(kalshi.rest, pair), polymarket: () => polymarketPairBook(polymarket.api, pair) },
        fees: async () => ({ kalshi: { takerRate: config.fees.kalshiTakerRate, seriesMultiplier: config.paper.seriesFeeMultiplier }, polymarket: { rate: await polymarket.feeRate(pair.polymarket.tokenId), exponent: pair.polymarket.feeExponent } }),
        rules: { minEdgePerContract: new Dec('0.01'), maxSize: new Dec('10'), minSize: new Dec('5') },
        unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 },
        temporal: { client: harness.env.client, taskQueue },
        pollMs: 50,
        maxBaskets: 1,
        maxPolls: 5,
        runId: uniqueName('run'),
      });
    return { kalshi, polymarket, run, taskQueue };
  }

  const legRows = (basketId: string) => db.db.select().from(positions).where(and(eq(positions.strategyId, CROSS_VENUE_STRATEGY), like(positions.positionId, `${basketId}/%`)));
  const orderRows = (basketId: string) => db.db.select().from(orders).where(like(orders.clientOrderId, `${basketId}:%`));
  /** The account's net Kalshi position in the pair's market (YES positive, NO negative). */
  const kalshiPosition = async (kalshi: KalshiVenue) => {
    for await (const p of kalshi.rest.positions({ ticker: pair.kalshi.market })) if (p.ticker === pair.kalshi.market) return new Dec(p.position_fp);
    return new Dec(0);
  };
  const polymarketTradesOf = (trading: PolymarketTrading) => trading.api.getTrades({ asset_id: pair.polymarket.tokenId });

  it('the shipped mapping pair passes the equivalence check (and says it is synthetic)', async () => {
    assert.deepEqual(equivalentPairs(mapping, Date.now()).refused, []);
    const checked = await kestrel(['arb', 'check', '--mapping', MAPPING_FILE], env);
    assert.equal(checked.code, EXIT.ok, checked.stderr);
    assert.match(checked.stdout, /gold-4391-synthetic {2}equivalent {2}\(SYNTHETIC: test pairing only\)/);
  });

  it('detects the gap net of both venues\' fees, fills both legs, records them with their venue', async () => {
    const { kalshi, polymarket, run } = await tradingSetup('arb-funded');
    const summary = await run();
    assert.equal(summary.baskets.length, 1, `polls ${summary.polls}, gaps ${summary.gaps.length}`);
    const [gap] = summary.gaps;
    assert.deepEqual([gap!.yesOn, gap!.yesPrice.toFixed(2), gap!.noOn, gap!.noPrice.toFixed(2), gap!.size.toString()], ['polymarket', '0.47', 'kalshi', '0.37', '10']);
    // Kalshi 0.07 × 10 × 0.37 × 0.63 = 0.16317 → 0.1632; Polymarket 10 × 0.02 × 0.47 × 0.53 = 0.04982.
    assert.deepEqual([gap!.noFee.toString(), gap!.yesFee.toString(), gap!.edge.toString()], ['0.1632', '0.04982', '1.38698']);

    const basket = summary.baskets[0]!;
    assert.equal(basket.status, 'complete', JSON.stringify(basket));
    assert.equal(basket.completeSets, '10');
    const byVenue = Object.fromEntries(basket.legs.map((l) => [l.venue, l]));
    assert.deepEqual([byVenue.kalshi!.outcome, new Dec(byVenue.kalshi!.held).toString(), byVenue.kalshi!.averageBuyPrice], ['no', '10', '0.370000']);
    assert.deepEqual([byVenue.polymarket!.outcome, new Dec(byVenue.polymarket!.held).toString(), byVenue.polymarket!.averageBuyPrice], ['yes', '10', '0.470000']);
    assert.deepEqual([new Dec(byVenue.kalshi!.fees).toString(), new Dec(byVenue.polymarket!.fees).toString()], ['0.1632', '0.04982']);

    // What the venues hold: 10 NO on Kalshi, 10 of the token bought on Polymarket.
    assert.equal((await kalshiPosition(kalshi)).toString(), '-10');
    const trades = await polymarketTradesOf(polymarket);
    assert.deepEqual(trades.map((t) => [t.side, t.size, t.price]), [['BUY', '10', '0.47']]);

    const rows = await legRows(basket.basketId);
    assert.deepEqual(rows.map((r) => [r.venue, r.marketTicker, r.outcome, r.status, new Dec(r.remainingSize).toString()]).sort(), [
      ['kalshi', pair.kalshi.market, 'no', 'open', '10'],
      ['polymarket', pair.polymarket.tokenId, 'yes', 'open', '10'],
    ]);
    const sent = await orderRows(basket.basketId);
    assert.deepEqual(sent.map((o) => [o.venue, o.purpose, o.status]).sort(), [['kalshi', 'entry', 'filled'], ['polymarket', 'entry', 'filled']]);

    const listed = await kestrel(['positions', '--venue', 'polymarket', '--json', '--limit', '1000'], env);
    assert.equal(listed.code, EXIT.ok, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as { positionId: string; venue: string }[]).some((p) => p.positionId === `${basket.basketId}/yes-polymarket` && p.venue === 'polymarket'));
    const text = await kestrel(['positions', '--open', '--limit', '1000'], env);
    assert.match(text.stdout, new RegExp(`^kalshi +${basket.basketId.replace(/[/.]/g, '\\$&')}/no-kalshi +${pair.kalshi.market} NO 10 @ 0.37`, 'm'));
  });

  it('rollback: the Kalshi leg is refused, the filled Polymarket leg is sold back; nothing left open, P&L summed across venues', async () => {
    const { kalshi, polymarket, run } = await tradingSetup('arb-broke');
    const summary = await run();
    const basket = summary.baskets[0]!;
    assert.equal(basket.status, 'unwound', JSON.stringify(basket));
    assert.equal(basket.completeSets, '0');
    const byVenue = Object.fromEntries(basket.legs.map((l) => [l.venue, l]));
    assert.equal(byVenue.kalshi!.bought, '0');
    assert.match(byVenue.kalshi!.entryRejectReason ?? '', /InsufficientFunds/);
    assert.deepEqual([byVenue.polymarket!.bought, byVenue.polymarket!.sold, byVenue.polymarket!.held].map((x) => new Dec(x).toString()), ['10', '10', '0']);

    // The venues agree: no Kalshi position; on Polymarket the 10 bought were sold again (into the recorded 0.46 bid).
    assert.equal((await kalshiPosition(kalshi)).toString(), '0');
    const trades = await polymarketTradesOf(polymarket);
    assert.deepEqual(trades.map((t) => [t.side, t.size, t.price]).sort(), [['BUY', '10', '0.47'], ['SELL', '10', '0.46']]);
    // Bought at 0.47, sold at 0.46, both taker fees (0.04982 and 10 × 0.02 × 0.46 × 0.54 = 0.04968).
    const expectedPnl = new Dec('-0.1').minus('0.04982').minus('0.04968');
    assert.equal(new Dec(byVenue.polymarket!.realizedPnl).toString(), expectedPnl.toString());

    const rows = await legRows(basket.basketId);
    assert.deepEqual(rows.map((r) => [r.venue, r.status, new Dec(r.remainingSize).toString(), new Dec(r.realizedPnl).toString()]).sort(), [
      ['kalshi', 'entry_failed', '0', '0'],
      ['polymarket', 'closed', '0', expectedPnl.toString()],
    ]);
    const sent = await orderRows(basket.basketId);
    assert.deepEqual(sent.map((o) => [o.venue, o.purpose, o.action, o.status]).sort(), [['kalshi', 'entry', 'buy', 'rejected'], ['polymarket', 'entry', 'buy', 'filled'], ['polymarket', 'exit', 'sell', 'filled']]);
    assert.equal((await kestrel(['positions', '--open', '--venue', 'polymarket', '--json', '--limit', '1000'], env)).stdout.includes(basket.basketId), false, 'nothing of this basket left open');

    const report = await kestrel(['report', 'pnl', '--strategy', CROSS_VENUE_STRATEGY, '--json'], env);
    assert.equal(report.code, EXIT.ok, report.stderr);
    const [day] = JSON.parse(report.stdout) as { pnl: string; positions: number; venues: { venue: string; pnl: string; positions: number }[] }[];
    assert.deepEqual(day!.venues.map((v) => [v.venue, v.positions, new Dec(v.pnl).toString()]), [['kalshi', 1, '0'], ['polymarket', 1, expectedPnl.toString()]]);
    assert.equal(new Dec(day!.pnl).toString(), expectedPnl.toString());
    const text = await kestrel(['report', 'pnl', '--strategy', CROSS_VENUE_STRATEGY], env);
    assert.match(text.stdout, /^ +polymarket +1 positions +P&L -0\.1995/m);
    assert.match(text.stdout, /^total .*\(kalshi 0\.0000, polymarket -0\.1995\)/m);
  });

  it('kestrel arb run: the command watches both emulators, trades one basket and prints it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kestrel-arb-'));
    try {
      const keyPath = path.join(dir, 'kalshi.pem');
      writeFileSync(keyPath, pem);
      const result = await kestrel(['arb', 'run', '--mapping', MAPPING_FILE, '--baskets', '1', '--poll-ms', '50', '--max-size', '6', '--json'], {
        ...env,
        KESTREL__VENUES__KALSHI__ENVIRONMENT: 'emulator',
        KESTREL__VENUES__KALSHI__REST_URL: kalshiEmu.restUrl,
        KESTREL__VENUES__KALSHI__WS_URL: kalshiEmu.wsUrl,
        KESTREL__VENUES__POLYMARKET__REST_URL: polyEmu.url,
        KESTREL__VENUES__POLYMARKET__WS_URL: polyEmu.marketWsUrl,
        KESTREL__TEMPORAL__TASK_QUEUE: uniqueName('arb-cli'),
        KALSHI_API_KEY_ID: 'arb-cli',
        KALSHI_PRIVATE_KEY_PATH: keyPath,
        POLYMARKET_PRIVATE_KEY: generatePrivateKey(),
      });
      assert.equal(result.code, EXIT.ok, result.stderr + result.stdout);
      const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { baskets?: BasketSnapshot[] });
      const [basket] = lines.at(-1)!.baskets!;
      assert.equal(basket!.status, 'complete');
      assert.deepEqual(basket!.legs.map((l) => [l.venue, new Dec(l.held).toString()]).sort(), [['kalshi', '6'], ['polymarket', '6']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Kalshi entry answered with a 5xx: the activity is retried, looks the order up, sends it once; both legs fill', async () => {
    const { kalshi, taskQueue } = await tradingSetup('arb-funded');
    const planOf = (basketId: string): BasketPlan => ({
      basketId,
      strategyId: CROSS_VENUE_STRATEGY,
      legs: [
        { legId: 'yes-polymarket', venue: 'polymarket', market: pair.polymarket.tokenId, outcome: 'yes', limitPrice: '0.4700', size: '5' },
        { legId: 'no-kalshi', venue: 'kalshi', market: pair.kalshi.market, outcome: 'no', limitPrice: '0.3700', size: '5' },
      ],
      unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 },
    });
    // A first basket warms the client (it reads the market's price grid once), so the fault below hits the order create itself.
    const warm = `arb/${pair.id}/${uniqueName('warm')}/1`;
    assert.equal((await harness.env.client.workflow.execute(arbitrageBasketWorkflow, { taskQueue, workflowId: warm, args: [{ plan: planOf(warm) }] })).status, 'complete');
    const basketId = `arb/${pair.id}/${uniqueName('fault')}/1`;
    const injectedBefore = kalshiEmu.faults.injected.serverErrors;
    kalshiEmu.faults.apply({ server_errors: 1, server_error_status: 503 });
    const handle = await harness.env.client.workflow.start(arbitrageBasketWorkflow, { taskQueue, workflowId: basketId, args: [{ plan: planOf(basketId), pairId: pair.id }] });
    const basket = await handle.result();
    assert.equal(kalshiEmu.faults.injected.serverErrors, injectedBefore + 1);
    assert.equal(basket.status, 'complete', JSON.stringify(basket));
    assert.deepEqual(basket.legs.map((l) => new Dec(l.held).toString()), ['5', '5']);
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 1] : []));
    assert.ok(attempts.some((a) => a >= 2), `a submit activity was retried (attempts ${attempts.join(', ')})`);
    let venueOrders = 0;
    for await (const o of kalshi.rest.orders({ ticker: pair.kalshi.market })) if (o.client_order_id === `${basketId}:no-kalshi:entry`) venueOrders++;
    assert.equal(venueOrders, 1);
  });

  it('uneven fills: the Kalshi leg fills only what its book holds at the limit, the Polymarket excess is unwound to the complete sets', async () => {
    const { taskQueue } = await tradingSetup('arb-funded');
    const basketId = `arb/${pair.id}/${uniqueName('direct')}/1`;
    // More than the recorded Kalshi NO ask at 0.37 holds (236.1 before the first basket took 10): an IOC fills part of it.
    const plan: BasketPlan = {
      basketId,
      strategyId: CROSS_VENUE_STRATEGY,
      legs: [
        { legId: 'yes-polymarket', venue: 'polymarket', market: pair.polymarket.tokenId, outcome: 'yes', limitPrice: '0.4700', size: '300' },
        { legId: 'no-kalshi', venue: 'kalshi', market: pair.kalshi.market, outcome: 'no', limitPrice: '0.3700', size: '300' },
      ],
      unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 },
    };
    const basket = await harness.env.client.workflow.execute(arbitrageBasketWorkflow, { taskQueue, workflowId: basketId, args: [{ plan, pairId: pair.id }] });
    assert.equal(basket.status, 'trimmed', JSON.stringify(basket));
    const byVenue = Object.fromEntries(basket.legs.map((l) => [l.venue, l]));
    const kalshiBought = new Dec(byVenue.kalshi!.bought);
    assert.ok(kalshiBought.gt(0) && kalshiBought.lt(300), kalshiBought.toString());
    assert.equal(new Dec(basket.completeSets).toString(), kalshiBought.toString());
    assert.deepEqual([byVenue.polymarket!.bought, byVenue.polymarket!.sold, byVenue.polymarket!.held].map((x) => new Dec(x).toString()), ['300', new Dec(300).minus(kalshiBought).toString(), kalshiBought.toString()]);
    const rows = await legRows(basketId);
    assert.deepEqual(rows.map((r) => [r.venue, r.status, new Dec(r.remainingSize).toString()]).sort(), [['kalshi', 'open', kalshiBought.toString()], ['polymarket', 'open', kalshiBought.toString()]]);
    // The same plan run again (another workflow, the same client order ids) sends nothing new.
    const sentBefore = (await orderRows(basketId)).length;
    const tradesBefore = polyEmu.exchange.trades.length;
    const again = await harness.env.client.workflow.execute(arbitrageBasketWorkflow, { taskQueue, workflowId: `${basketId}-again`, args: [{ plan, pairId: pair.id }] });
    assert.deepEqual(again.legs.map((l) => [l.bought, l.sold]), basket.legs.map((l) => [l.bought, l.sold]));
    assert.equal((await orderRows(basketId)).length, sentBefore);
    assert.equal(polyEmu.exchange.trades.length, tradesBefore);
  });
});
