import assert from 'node:assert/strict';
import { desc, eq } from 'drizzle-orm';
import { readRiskState, resetRiskState } from '../../db/risk-repo';
import { positionExits, riskEvents } from '../../db/schema';
import { flattenAll } from '../../runtime/flatten';
import type { PositionInput, PositionSnapshot } from '../../workflows/position';
import { uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

describe('risk manager in the trading path (real Temporal + Postgres)', function () {
  this.timeout(120_000);
  // Tight limits: capital 1000 → max 100 per position; two losses in a row halt trading.
  const stack = useStack({ 'risk.capital': '1000', 'risk.maxConsecutiveLosses': 2, 'risk.dailyLossLimitFraction': '0.5', 'risk.noEntryBeforeCloseMs': 60_000 }, (s) => resetRiskState(s.database.db, 'test start', Date.now()));

  function market(): string {
    const m = uniqueName('RISK');
    stack().books.state(m).book.applySnapshot([level('0.50', 500)], [level('0.48', 500)], Date.now());
    stack().books.state(m).receivedAtMs = Date.now();
    return m;
  }
  async function run(m: string, o: Partial<PositionInput> = {}, exitAfterOpen = false): Promise<PositionSnapshot> {
    const input: PositionInput = { strategyId: 'risk-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.52', size: '10', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 }, ...o };
    const handle = await stack().temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: stack().config.temporal.taskQueue, workflowId: `position/risk/${m}` });
    if (exitAfterOpen) {
      const s = await waitFor(() => handle.query(positionQuery), (x) => x.status !== 'entering', 'entry');
      if (s.status === 'open') await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    }
    return (await handle.result()) as PositionSnapshot;
  }

  it('denies an oversized entry and one too close to settlement, recording each denial', async () => {
    const big = market();
    const denied = await run(big, { entry: { limitPrice: '0.52', size: '300', timeoutMs: 500 } });
    assert.equal(denied.status, 'risk_denied');
    assert.match(denied.riskDenial!, /^max_position_size: order cost 156\.00 > 100\.00/);
    const late = await run(market(), { closeTimeMs: Date.now() + 30_000 });
    assert.match(late.riskDenial!, /^near_settlement/);
    const [event] = await stack().database.db.select().from(riskEvents).where(eq(riskEvents.positionId, `position/risk/${big}`));
    assert.deepEqual([event!.kind, event!.rule], ['denial', 'max_position_size']);
  });

  it('flatten-all drives every open position to a CRITICAL circuit-breaker exit', async () => {
    await resetRiskState(stack().database.db, 'before flatten test', Date.now());
    const markets = [market(), market()];
    const handles = await Promise.all(
      markets.map((m) =>
        stack().temporal.workflow.start(positionWorkflow, {
          args: [{ strategyId: 'flatten-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.52', size: '10', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } } satisfies PositionInput],
          taskQueue: stack().config.temporal.taskQueue,
          workflowId: `position/flatten/${m}`,
        }),
      ),
    );
    for (const h of handles) await waitFor(() => h.query(positionQuery), (x) => x.status === 'open', 'open');
    // Visibility (search attributes) is eventually consistent: retry until both positions are found.
    const signaled = await waitFor(async () => (await flattenAll(stack().temporal, 'test emergency')).filter((id) => id.startsWith('position/flatten/')), (ids) => ids.length === 2, 'positions in visibility');
    assert.equal(signaled.length, 2);
    for (const h of handles) {
      const done = (await h.result()) as PositionSnapshot;
      assert.equal(done.status, 'closed');
    }
    const exits = await stack().database.db.select().from(positionExits).where(eq(positionExits.positionId, `position/flatten/${markets[0]}`));
    assert.deepEqual([exits[0]!.reason, exits[0]!.urgency], ['circuit_breaker', 'CRITICAL']);
  });

  it('two losing positions trip the consecutive-loss breaker (HALTED); the next entry is refused until an operator reset', async () => {
    await resetRiskState(stack().database.db, 'before breaker test', Date.now());
    for (let i = 0; i < 2; i++) {
      // Entry at 0.52, immediate CRITICAL exit into the 0.50 bid: a small loss each time.
      const closed = await run(market(), {}, true);
      assert.equal(closed.status, 'closed');
      assert.ok(Number(closed.realizedPnl) < 0);
    }
    const state = await readRiskState(stack().database.db, Date.now());
    assert.equal(state.mode, 'HALTED');
    assert.deepEqual(state.tripped.map((t) => t.breaker), ['consecutive_losses']);
    const [trip] = await stack().database.db.select().from(riskEvents).where(eq(riskEvents.kind, 'breaker_trip')).orderBy(desc(riskEvents.id));
    assert.equal(trip!.rule, 'consecutive_losses');
    const refused = await run(market());
    assert.match(refused.riskDenial!, /^trading_mode: trading mode is HALTED/);
    await resetRiskState(stack().database.db, 'operator reset', Date.now());
    assert.equal((await readRiskState(stack().database.db, Date.now())).mode, 'ACTIVE');
  });
});
