import assert from 'node:assert/strict';
import path from 'node:path';
import { inArray, like } from 'drizzle-orm';
import { loadRecordedWindow } from '../../backtest/recorded-data';
import { backtestConfig } from '../../backtest/gold-backtest';
import { withConfiguredTakerFee } from '../../config/fees';
import { momentumRule, momentumStrategy } from '../../domain/strategies/momentum';
import { exitAttempts, orders, positions } from '../../db/schema';
import { Backtester } from '../../domain/backtest/backtester';
import { Dec } from '../../domain/decimal';
import { resetRiskState } from '../../db/risk-repo';
import { ReplayClock, runLockstepPaper } from '../../runs/lockstep-replay';
import { startStack, type Stack } from '../../runtime/stack';
import { getHarness, SHARED_DATA_DIR, uniqueName } from '../support/harness';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const MARKET = 'KXGOLD15M-26AUG060800-00';
const norm = (v: string | null | undefined) => (v === null || v === undefined ? null : new Dec(v).toFixed(6));

describe('backtest ↔ paper parity: one recorded gold window through the backtester and through real Temporal workflows', function () {
  this.timeout(240_000);
  let stack: Stack | undefined;
  after(() => stack?.shutdown());

  it('produces identical orders, fills, exit attempts and P&L, with the default order latency waited out in market time', async () => {
    const harness = await getHarness();
    // Both sides get the same limits; the shared test database may hold other tests' positions.
    // With the default order latency: the paper exchange waits it out in market time, as the backtester does.
    const config = harness.config({ 'paper.latencyMs': 50, 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const window = await loadRecordedWindow(GOLD, { markets: [MARKET] });
    const momentum = momentumStrategy(config);
    const strategy = { ...momentum, strategyId: uniqueName('parity'), rules: withConfiguredTakerFee(momentum.rules, config) };

    const backtest = await new Backtester({ ...backtestConfig(config, strategy) }, window.info, momentumRule()).run(window.events);
    assert.ok(backtest.orders.length >= 4, `the window trades (${backtest.orders.length} orders)`);

    const replay = new ReplayClock(window.events[0]!.ts);
    stack = await startStack(config, { workflowBundle: harness.workflowBundle, clock: replay.clock, orderLatency: replay.orderLatency });
    await resetRiskState(stack.database.db, 'parity test', replay.nowMs);
    const paper = await runLockstepPaper(stack, replay, { window, dataDir: GOLD, strategy, rule: momentumRule() });

    // Decisions: the same signals entered or rejected for the same reasons.
    assert.deepEqual(paper.strategy.decisions, backtest.strategy.decisions);
    // Orders: same client order ids, prices, sizes, fills and fees.
    const ids = backtest.positions.map((p) => p.positionId);
    const dbOrders = await stack.database.db.select().from(orders).where(inArray(orders.positionId, ids)).orderBy(orders.submittedAt, orders.clientOrderId);
    const fromDb = dbOrders.map((o) => [o.clientOrderId, o.purpose, o.action, o.outcome, norm(o.limitPrice), norm(o.size), o.status, norm(o.filledSize), norm(o.averagePrice), norm(o.fees)]);
    const fromBacktest = [...backtest.orders].sort((a, b) => a.submittedAtMs - b.submittedAtMs || a.clientOrderId.localeCompare(b.clientOrderId)).map((o) => [o.clientOrderId, o.purpose, o.action, o.outcome, norm(o.limitPrice), norm(o.size), o.status, norm(o.filled), norm(o.averagePrice), norm(o.fees)]);
    assert.deepEqual(fromDb, fromBacktest);
    // Exit attempts and positions: same walk, same P&L.
    const dbAttempts = await stack.database.db.select().from(exitAttempts).where(inArray(exitAttempts.positionId, ids)).orderBy(exitAttempts.clientOrderId);
    assert.deepEqual(
      dbAttempts.map((a) => [a.clientOrderId, a.reason, a.urgency, norm(a.limitPrice), norm(a.filledSize), a.outcome]),
      [...backtest.exitAttempts].sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId)).map((a) => [a.clientOrderId, a.reason, a.urgency, norm(a.limitPrice), norm(a.filledSize), a.outcome]),
    );
    const dbPositions = await stack.database.db.select().from(positions).where(like(positions.positionId, `position/${strategy.strategyId}/%`)).orderBy(positions.positionId);
    assert.deepEqual(
      dbPositions.map((p) => [p.positionId, p.status, norm(p.entryPrice), norm(p.size), norm(p.realizedPnl), norm(p.fees)]),
      [...backtest.positions].sort((a, b) => a.positionId.localeCompare(b.positionId)).map((p) => [p.positionId, p.status, norm(p.entryPrice), norm(p.size), norm(p.realizedPnl), norm(p.fees)]),
    );
    const total = (xs: { realizedPnl: string }[]) => xs.reduce((n, p) => n.plus(p.realizedPnl), new Dec(0)).toFixed(6);
    assert.equal(total(dbPositions), total(backtest.positions));
  });
});
