import assert from 'node:assert/strict';
import { and, eq, inArray } from 'drizzle-orm';
import { resetRiskState } from '../../db/risk-repo';
import { fills, orders, riskEvents, strategyRuns } from '../../db/schema';
import { Dec } from '../../domain/decimal';
import { runPaperSession } from '../../runs/paper-session';
import { useStack } from '../support/stack';

describe('paper-trading session on the replayed gold feed (real Temporal, BullMQ, Postgres)', function () {
  this.timeout(300_000);
  // One loss halts trading: the breaker must trip in the middle of the session.
  const stack = useStack({ 'risk.maxConsecutiveLosses': 1, 'risk.noEntryBeforeCloseMs': 2000 }, (s) => resetRiskState(s.database.db, 'paper session test', Date.now()));

  it('trades the recorded books, books P&L equal to its fills, and halts when the loss breaker trips', async () => {
    // Later suites share the database: leave the paper risk state as the harness expects it.
    const summary = await runPaperSession(stack(), { marketLimit: 2, speed: 60, log: () => {} }).finally(() => resetRiskState(stack().database.db, 'paper session test done', Date.now()));
    assert.ok(summary.signals > 0, 'the momentum rule fired on the recorded feed');
    assert.ok(Object.values(summary.engineSignals).reduce((a, b) => a + b, 0) > 0, 'the signal engine fired on the same feed');
    // Listed as a strategy run (console, `kestrel strategy list`), subscribed to the momentum signals it is sent itself, done.
    const [run] = await stack().database.db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, summary.strategyWorkflowId));
    assert.deepEqual([run?.status, run?.feed, run?.signalTypes], ['completed', 'replay:gold', ['momentum']]);
    assert.ok(run?.stoppedAt);
    const traded = summary.positions.filter((p) => p.status === 'closed');
    assert.ok(traded.length > 0, JSON.stringify(summary.positions));

    // P&L of every closed position equals its fills: proceeds − cost − fees.
    for (const p of traded) {
      const rows = await stack().database.db.select({ action: orders.action, price: fills.price, size: fills.size, fee: fills.fee }).from(fills).innerJoin(orders, eq(orders.clientOrderId, fills.clientOrderId)).where(eq(orders.positionId, p.positionId));
      const cash = rows.reduce((n, r) => n.plus(new Dec(r.price).times(r.size).times(r.action === 'sell' ? 1 : -1)).minus(r.fee), new Dec(0));
      assert.equal(cash.toFixed(6), new Dec(p.realizedPnl).toFixed(6), p.positionId);
    }

    const losses = traded.filter((p) => new Dec(p.realizedPnl).isNegative());
    if (losses.length > 0) {
      const trips = await stack().database.db.select().from(riskEvents).where(eq(riskEvents.kind, 'breaker_trip'));
      assert.ok(trips.some((t) => t.rule === 'consecutive_losses'), 'a loss tripped the breaker');
      // Every entry decided after the trip was refused by the risk manager.
      const tripAt = Math.min(...trips.filter((t) => t.rule === 'consecutive_losses').map((t) => t.at.getTime()));
      const denials = await stack().database.db.select().from(riskEvents).where(and(eq(riskEvents.kind, 'denial'), inArray(riskEvents.positionId, summary.positions.map((p) => p.positionId))));
      for (const d of denials) assert.ok(d.at.getTime() >= tripAt && /trading mode is HALTED/.test(d.reason), JSON.stringify(d));
      const laterEntries = summary.positions.filter((p) => p.status === 'risk_denied');
      assert.equal(laterEntries.length, denials.length);
    }
  });
});
