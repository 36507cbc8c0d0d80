import assert from 'node:assert/strict';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { and, asc, eq } from 'drizzle-orm';
import { upsertMarketSnapshot } from '../../db/market-data-repo';
import { heldPositions } from '../../db/risk-repo';
import { exitAttempts, orders, positionExits, positions, riskEvents } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { rebalanceOnce } from '../../workers/rebalance-watch';
import type { PositionInput, PositionSnapshot } from '../../workflows/position';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';
import { circuitBreakerSignal, positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

const cadence = { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 5000 };
const fastPlan = { timeoutsMs: { CRITICAL: 100, HIGH: 150, MEDIUM: 150, LOW: 150 } };
const lv = level;
const until = <T>(fn: () => Promise<T>, ok: (v: T) => boolean, what: string, timeoutMs?: number) => waitFor(fn, ok, what, timeoutMs);

describe('position workflow on the paper exchange (real Temporal)', function () {
  this.timeout(120_000);
  const stack = useStack();

  /** A market with YES bid 0.50×100 and YES ask 0.52×100 (NO bid 0.48). */
  function market(): string {
    const m = uniqueName('MKT');
    stack().books.state(m).book.applySnapshot([lv('0.50', 100)], [lv('0.48', 100)], Date.now());
    stack().books.state(m).receivedAtMs = Date.now();
    return m;
  }
  function start(m: string, overrides: Partial<PositionInput> = {}) {
    const input: PositionInput = { strategyId: 'test-strategy', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.52', size: '10', timeoutMs: 1000 }, cadence, planConfig: fastPlan, ...overrides };
    return stack().temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: stack().config.temporal.taskQueue, workflowId: `position/test/${m}` });
  }
  const query = (h: WorkflowHandle<typeof positionWorkflow>) => h.query(positionQuery);

  it('enters at the ask, exits on a stop loss with a CRITICAL IOC, and books exact P&L with fees', async () => {
    const m = market();
    const handle = await start(m);
    await until(() => query(handle), (s) => s.status === 'open', 'entry');
    // The bid collapses to 0.40 (-23%): stop loss.
    const book = stack().books.state(m).book;
    book.applySnapshot([lv('0.40', 100)], [lv('0.55', 100)], Date.now());
    const result = (await handle.result()) as PositionSnapshot;
    assert.equal(result.status, 'closed');
    // Entry: 10 @ 0.52, taker fee ceil(0.07×10×0.52×0.48 = 0.17472) = 0.1748.
    // Exit: IOC at 0.35 floor fills 10 @ 0.40, fee ceil(0.07×10×0.4×0.6 = 0.168) = 0.1680.
    // P&L = 10×(0.40−0.52) − 0.1748 − 0.1680 = −1.5428.
    assert.equal(result.realizedPnl, '-1.542800');
    assert.equal(result.fees, '0.342800');
    const [exit] = await stack().database.db.select().from(positionExits).where(eq(positionExits.positionId, `position/test/${m}`));
    assert.equal(exit!.reason, 'stop_loss');
    assert.equal(exit!.urgency, 'CRITICAL');
    assert.ok((exit!.triggered as { reason: string }[]).some((t) => t.reason === 'stop_loss'));
    const attempts = await stack().database.db.select().from(exitAttempts).where(eq(exitAttempts.positionId, `position/test/${m}`));
    assert.deepEqual(attempts.map((a) => [a.attemptNo, a.orderType, a.limitPrice, a.outcome]), [[1, 'ioc', '0.3500', 'filled']]);
    const [row] = await stack().database.db.select().from(positions).where(eq(positions.positionId, `position/test/${m}`));
    assert.equal(row!.status, 'closed');
    assert.equal((row!.state as { highWaterBid: string }).highWaterBid, '0.5200');
  });

  it('walks a MEDIUM manual exit down from the touch by amending one resting order, then fills with a marketable IOC', async () => {
    const m = market();
    const handle = await start(m);
    await until(() => query(handle), (s) => s.status === 'open', 'entry');
    // Thin the bid out of reach of our asks: nobody buys at the touch, so the exit walks.
    stack().books.state(m).book.applySnapshot([lv('0.45', 100)], [lv('0.44', 100)], Date.now());
    const accepted = await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'MEDIUM', reason: 'operator' }] });
    assert.deepEqual(accepted, { accepted: true, positionId: `position/test/${m}`, urgency: 'MEDIUM' });
    const result = (await handle.result()) as PositionSnapshot;
    assert.equal(result.status, 'closed');
    const id = `position/test/${m}`;
    const attempts = await stack().database.db.select().from(exitAttempts).where(eq(exitAttempts.positionId, id)).orderBy(asc(exitAttempts.attemptNo));
    // Touch = ask 0.56: 0.56, 0.55, …, 0.51 rest unfilled (bid 0.45), then marketable IOC fills at the bid.
    assert.deepEqual(attempts.map((a) => [a.limitPrice, a.outcome]), [['0.5600', 'unfilled'], ['0.5500', 'unfilled'], ['0.5400', 'unfilled'], ['0.5300', 'unfilled'], ['0.5200', 'unfilled'], ['0.5100', 'unfilled'], ['0.4000', 'filled']]);
    // The walk is one order, amended at each step; the switch to IOC cancels it and sends a new one.
    const walkOrder = `${id}/exit-1/attempt-1`;
    assert.deepEqual(attempts.map((a) => a.clientOrderId), [...Array(6).fill(walkOrder), `${id}/exit-1/attempt-7`]);
    const sent = await stack().database.db.select().from(orders).where(and(eq(orders.positionId, id), eq(orders.purpose, 'exit'))).orderBy(asc(orders.submittedAt));
    assert.deepEqual(sent.map((o) => [o.clientOrderId, o.status, o.limitPrice]), [[walkOrder, 'canceled', '0.5100'], [`${id}/exit-1/attempt-7`, 'filled', '0.4000']]);
    const [exit] = await stack().database.db.select().from(positionExits).where(eq(positionExits.positionId, id));
    assert.equal(exit!.reason, 'manual: operator');
    assert.equal(exit!.attempts, 7);
  });

  it('rejects invalid manual exits with a clear message and writes nothing', async () => {
    const m = market();
    const handle = await start(m);
    await until(() => query(handle), (s) => s.status === 'open', 'entry');
    // Untyped, as the Temporal UI or another SDK would send it: the workflow's validator must refuse it.
    await assert.rejects(handle.executeUpdate('requestExit', { args: [{ urgency: 'ASAP' }] }), (e: unknown) => e instanceof WorkflowUpdateFailedError && /invalid urgency "ASAP"/.test(String(((e as Error).cause as Error | undefined)?.message)));
    assert.equal((await query(handle)).pendingManualExit, undefined);
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await handle.result();
    await assert.rejects(handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'LOW' }] }), /closed|completed/);
    await assert.rejects(stack().temporal.workflow.getHandle('position/test/no-such-position').executeUpdate(requestExitUpdate, { args: [{ urgency: 'LOW' }] }), /not found/i);
  });

  it('takes partial profits in stages and settles the rest at the market result', async () => {
    const m = market();
    const handle = await start(m, { closeTimeMs: Date.now() + 4000, exitConfig: { urgentBeforeCloseMs: 0, earlyExitBeforeCloseMs: 0 } });
    await until(() => query(handle), (s) => s.status === 'open', 'entry');
    // +17%: first stage sells 50% of 10 = 5 at the bid 0.61.
    stack().books.state(m).book.applySnapshot([lv('0.61', 100)], [lv('0.38', 100)], Date.now());
    await until(() => query(handle), (s) => s.partialStagesDone === 1, 'first partial exit');
    assert.equal((await query(handle)).remaining, '5.000000');
    // The market settles YES after close: the 5 left pay $1 each.
    await upsertMarketSnapshot(stack().database.db, { venue: 'kalshi', marketTicker: m, status: 'finalized', attributes: { result: 'yes' } }, Date.now());
    const result = (await handle.result()) as PositionSnapshot;
    assert.equal(result.status, 'settled');
    assert.equal(result.settlement, 'yes');
    // Entry fee 0.1748; stage: 5 @ 0.61 (taker fee ceil(0.07×5×0.61×0.39=0.083265)=0.0833) P&L 5×0.09−0.0833;
    // settlement: 5 × (1 − 0.52). Total = −0.1748 + 0.3667 + 2.4 = 2.5919.
    assert.equal(result.realizedPnl, '2.591900');
  });

  it('continues as new when history grows, carrying its state, and still answers queries and updates', async () => {
    const m = market();
    const handle = await start(m, { cadence: { ...cadence, normalMs: 10 } });
    const opened = await until(() => query(handle), (s) => s.status === 'open', 'entry');
    const firstRun = (await handle.describe()).runId;
    // The test server suggests continue-as-new at 300 history events; monitoring every 10 ms gets there quickly.
    await until(() => handle.describe(), (d) => d.runId !== firstRun, 'continue-as-new', 60_000);
    const carried = await query(handle);
    assert.equal(carried.status, 'open');
    assert.equal(carried.entryPrice, opened.entryPrice);
    assert.equal(carried.remaining, '10.000000');
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    assert.equal(((await handle.result()) as PositionSnapshot).status, 'closed');
  });

  it('fails the entry cleanly when nothing fills before the timeout', async () => {
    const m = market();
    const handle = await start(m, { entry: { limitPrice: '0.30', size: '10', timeoutMs: 200 } });
    const result = (await handle.result()) as PositionSnapshot;
    assert.equal(result.status, 'entry_failed');
    const [order] = await stack().database.db.select().from(orders).where(eq(orders.positionId, `position/test/${m}`));
    assert.equal(order!.status, 'canceled');
  });

  it('a book update that triggers an exit wakes the position at once (exit watch), long before its next poll', async () => {
    const m = market();
    // Polls once a minute: only the pushed book update can explain an exit within seconds.
    const handle = await start(m, { cadence: { ...cadence, normalMs: 60_000, urgentMs: 60_000 } });
    await until(() => query(handle), (s) => s.status === 'open', 'entry');
    const woken = stack().exitWatch!.counters.woken;
    const triggers: string[][] = [];
    const off = stack().exitWatch!.onTrigger((t) => t.positionId === handle.workflowId && triggers.push(t.reasons));
    // Registration happens with the position's first quote read after entry.
    await until(async () => stack().exitWatch!.watching(m, handle.workflowId), (w) => w, 'exit watch registered');
    const publisher = stack().createPublisher(uniqueName('watch'));
    const sent = Date.now();
    // Through BullMQ into the books, as a live feed would: the bid collapses to 0.40 (stop loss).
    await publisher.publish({ t: 'snapshot', m, ts: sent, yes: [['0.40', '100']], no: [['0.45', '100']] });
    await publisher.flush();
    const result = (await handle.result()) as PositionSnapshot;
    off();
    await publisher.close();
    assert.equal(result.status, 'closed');
    assert.ok(Date.now() - sent < 30_000, 'exited well before the 60 s poll');
    assert.equal(stack().exitWatch!.counters.woken, woken + 1);
    assert.equal(triggers.length, 1, 'one wake: the watch is one-shot until the position reads a quote again');
    assert.ok(triggers[0]!.includes('stop_loss'), `woken for the stop loss: ${JSON.stringify(triggers)}`);
    const [exit] = await stack().database.db.select().from(positionExits).where(eq(positionExits.positionId, handle.workflowId));
    assert.equal(exit!.reason, 'stop_loss');
  });

  it('trading HALTED (the circuit-breaker signal) cancels a resting entry at once instead of waiting out its timeout', async () => {
    const m = market();
    const handle = await start(m, { entry: { limitPrice: '0.30', size: '10', timeoutMs: 60_000 } });
    const [resting] = await until(() => stack().database.db.select().from(orders).where(eq(orders.positionId, `position/test/${m}`)), (rows) => rows[0]?.status === 'resting', 'resting entry');
    await handle.signal(circuitBreakerSignal, 'daily_loss');
    const result = (await handle.result()) as PositionSnapshot;
    assert.equal(result.status, 'entry_failed');
    const [order] = await stack().database.db.select().from(orders).where(eq(orders.clientOrderId, resting!.clientOrderId));
    assert.equal(order!.status, 'canceled');
    assert.equal((await stack().execution.get(resting!.clientOrderId))!.status, 'canceled', 'nothing rests on the exchange');
  });

  it('over the exposure limit, the rebalance watch exits the largest position (LOW, reason rebalance) and leaves the rest', async () => {
    const big = market();
    const small = market();
    const bigHandle = await start(big, { entry: { limitPrice: '0.52', size: '100', timeoutMs: 1000 } });
    const smallHandle = await start(small);
    await until(() => query(bigHandle), (s) => s.status === 'open', 'big entry');
    await until(() => query(smallHandle), (s) => s.status === 'open', 'small entry');
    // The portfolio is these two (other tests' positions share the database and may close meanwhile):
    // 52 + 5.2 held, a limit of 20 leaves room for the small one only.
    const mine = async () => (await heldPositions(stack().database.db)).filter((p) => p.market === big || p.market === small);
    // The rows record the fills a moment after the workflows report them.
    await until(mine, (held) => held.length === 2 && held.every((p) => p.entryPrice !== undefined), 'both entries recorded');
    const limits = { capital: new Dec(100), maxTotalExposureFraction: new Dec('0.2') };
    const logs: string[] = [];
    const deps = { db: stack().database.db, temporal: stack().temporal, clock: { nowMs: () => Date.now() }, limits, held: mine, log: (l: string) => logs.push(l) };
    const requested = new Set<string>();
    const decision = await rebalanceOnce(deps, requested);
    assert.deepEqual(decision.exits.map((e) => [e.positionId, e.exposure.toString()]), [[bigHandle.workflowId, '52']]);
    assert.deepEqual((await rebalanceOnce(deps, requested)).exits, [], 'a position is asked once');
    const result = (await bigHandle.result()) as PositionSnapshot;
    assert.equal(result.status, 'closed');
    const [exit] = await stack().database.db.select().from(positionExits).where(eq(positionExits.positionId, bigHandle.workflowId));
    assert.deepEqual([exit!.reason, exit!.urgency], ['rebalance', 'LOW']);
    const [event] = await stack().database.db.select().from(riskEvents).where(and(eq(riskEvents.kind, 'rebalance'), eq(riskEvents.positionId, bigHandle.workflowId)));
    assert.equal(event!.rule, 'max_total_exposure');
    assert.equal((await query(smallHandle)).status, 'open', 'the smaller position stays');
    await smallHandle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'cleanup' }] });
    await smallHandle.result();
  });
});

