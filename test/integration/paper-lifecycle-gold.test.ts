import assert from 'node:assert/strict';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { fills, orders } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { kalshiFee, KalshiOrderFeeAccumulator } from '../../domain/fees';
import { ONE_DOLLAR, priceText, sizeText } from '../../domain/fixed-point';
import { toUnits, type MarketEvent } from '../../domain/market-data/events';
import type { Level } from '../../domain/market-data/order-book';
import { readRecording, recordedFiles } from '../../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../../venues/replay/kalshi-book-replay';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { startStack, type Stack } from '../../runtime/stack';
import type { PositionSnapshot } from '../../workflows/position';
import { getHarness, SHARED_DATA_DIR } from '../support/harness';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const MARKET = 'KXGOLD15M-26AUG050000-00';
const OPEN_MS = Date.parse('2026-08-05T03:45:00Z');
const TAKER = new Dec('0.07');

/** Independent reference: the raw recording replayed by KalshiBookReplayer up to an exchange time. */
async function referenceLevels(untilMs: number): Promise<{ yes: Level[]; no: Level[] }> {
  const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
  replayer.beginStream();
  for (const file of recordedFiles(GOLD, MARKET)) {
    for await (const rec of readRecording(file)) {
      const ts = (rec.event.msg as { ts_ms?: number }).ts_ms ?? rec.recvMs;
      if (ts > untilMs) break;
      replayer.apply(rec);
    }
  }
  const book = replayer.book(MARKET);
  return { yes: book.levels('yes'), no: book.levels('no') };
}

/** Hand computation: take `size` contracts from `levels` (best first), price each level via `price`, fee per fill (one order: one fee accumulator). */
function sweep(action: 'buy' | 'sell', levels: Level[], size: Dec, price: (l: Level) => number, limitOk: (p: number) => boolean) {
  const out: { price: Dec; size: Dec; fee: Dec }[] = [];
  const fees = new KalshiOrderFeeAccumulator();
  let left = size;
  for (const l of levels) {
    const p = price(l);
    if (left.lte(0) || !limitOk(p)) break;
    const take = Dec.min(left, new Dec(sizeText(l.size)));
    const px = new Dec(priceText(p));
    out.push({ price: px, size: take, fee: fees.charge({ action, contracts: take, price: px, tradeFee: kalshiFee({ contracts: take, price: px, rate: TAKER }) }).fee });
    left = left.minus(take);
  }
  return out;
}

describe('paper position over a replayed gold window, checked by hand against the recorded book', function () {
  this.timeout(120_000);
  let stack: Stack;
  let events: MarketEvent[];

  before(async () => {
    const harness = await getHarness();
    stack = await startStack(harness.config(), { workflowBundle: harness.workflowBundle });
    events = [];
    await replayKalshiRecording({ dataDir: GOLD, markets: [MARKET], pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
  });
  after(() => stack?.shutdown());

  /** Feeds the recording into the stack's books and paper exchange up to an exchange time. */
  let cursor = 0;
  async function replayUntil(ms: number): Promise<void> {
    const batch: ReturnType<typeof toUnits>[] = [];
    while (cursor < events.length && events[cursor]!.ts <= ms) batch.push(toUnits(events[cursor++]!));
    stack.books.applyAll(batch, Date.now());
    await stack.paper!.onMarketEvents(batch);
  }

  it('opens at the recorded ask, exits CRITICAL into the recorded bid, P&L and fees match the hand computation', async () => {
    const entryAt = OPEN_MS + 5 * 60_000;
    const exitAt = OPEN_MS + 10 * 60_000;
    const size = new Dec(60);
    await replayUntil(entryAt);
    const refEntry = await referenceLevels(entryAt);
    const bestAsk = ONE_DOLLAR - refEntry.no[0]!.price;
    // Limit two ticks through the ask so the entry sweeps more than one level.
    const limit = bestAsk + 200;
    const expectedEntry = sweep('buy', refEntry.no, size, (l) => ONE_DOLLAR - l.price, (p) => p <= limit);

    const workflowId = `position/gold-check/${MARKET}`;
    const handle = await stack.temporal.workflow.start(positionWorkflow, {
      args: [{ strategyId: 'gold-check', market: MARKET, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: priceText(limit), size: size.toFixed(2), timeoutMs: 500 }, cadence: { normalMs: 60_000, urgentMs: 60_000, pollMs: 25, settleTimeoutMs: 1000 }, exitConfig: { stopLossFraction: '0.99', minExitLiquidity: '0', maxSpread: '1.00', partialStages: [], profitTargetFraction: '1.00' } }],
      taskQueue: stack.config.temporal.taskQueue,
      workflowId,
    });
    for (let i = 0; ((await handle.query(positionQuery))).status !== 'open'; i++) {
      assert.ok(i < 200, 'position never opened');
      await new Promise((r) => setTimeout(r, 25));
    }

    await replayUntil(exitAt);
    const refExit = await referenceLevels(exitAt);
    const exitFloor = refExit.yes[0]!.price - 500; // CRITICAL: bid minus 5 ticks
    const filledEntry = expectedEntry.reduce((n, f) => n.plus(f.size), new Dec(0));
    const expectedExit = sweep('sell', refExit.yes, filledEntry, (l) => l.price, (p) => p >= exitFloor);
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'hand check' }] });
    const result = (await handle.result()) as PositionSnapshot;

    const cost = expectedEntry.reduce((n, f) => n.plus(f.price.times(f.size)), new Dec(0));
    const proceeds = expectedExit.reduce((n, f) => n.plus(f.price.times(f.size)), new Dec(0));
    const fees = [...expectedEntry, ...expectedExit].reduce((n, f) => n.plus(f.fee), new Dec(0));
    assert.equal(result.status, 'closed');
    assert.equal(result.size, filledEntry.toFixed(6));
    assert.equal(result.fees, fees.toFixed(6));
    assert.equal(result.realizedPnl, proceeds.minus(cost).minus(fees).toFixed(6));

    // The stored fills are exactly the hand-computed ones.
    const stored = await stack.database.db.select({ id: orders.clientOrderId, purpose: orders.purpose, price: fills.price, size: fills.size, fee: fills.fee }).from(fills).innerJoin(orders, eq(orders.clientOrderId, fills.clientOrderId)).where(eq(orders.positionId, workflowId)).orderBy(fills.id);
    const expected = [...expectedEntry, ...expectedExit].map((f) => [f.price.toFixed(4), f.size.toFixed(6), f.fee.toFixed(6)]);
    assert.deepEqual(stored.map((s) => [s.price, s.size, s.fee]), expected);
    assert.ok(expectedEntry.length >= 1 && expectedExit.length >= 1);
  });
});
