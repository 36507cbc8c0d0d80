import * as wf from '@temporalio/workflow';
import type { ArbitrageActivities } from '../activities/arbitrage';
import { entryOrder, legResult, rollbackRule, unwindOrder, type BasketLeg, type BasketPlan, type LegOrderState, type LegResult } from '../domain/arbitrage/legs';
import { Dec } from '../domain/decimal';
import { ACTIVITY_PRESETS } from './activity-options';

/**
 * Entry orders get a short, bounded life: an arbitrage price is gone within seconds, so a leg whose
 * venue does not answer is given up on (and looked up) rather than sent minutes later, unhedged.
 */
const entries = wf.proxyActivities<ArbitrageActivities>({ ...ACTIVITY_PRESETS.venueOrder, scheduleToCloseTimeout: '20 seconds' });
/** Unwinds and lookups are retried until the venue answers: an unhedged leg must not be forgotten. */
const unwinds = wf.proxyActivities<ArbitrageActivities>(ACTIVITY_PRESETS.venueOrder);
const reads = wf.proxyActivities<ArbitrageActivities>(ACTIVITY_PRESETS.venueRead);
const writes = wf.proxyActivities<ArbitrageActivities>(ACTIVITY_PRESETS.databaseWrite);

export interface BasketInput {
  plan: BasketPlan;
  /** The mapping pair a cross-venue basket trades (recorded on its positions). */
  pairId?: string;
}

export type BasketStatus = 'entering' | 'unwinding' | 'complete' | 'trimmed' | 'unwound' | 'nothing_filled' | 'unhedged';

export interface BasketSnapshot {
  basketId: string;
  status: BasketStatus;
  /** Complete sets kept (hedged contracts per leg). */
  completeSets: string;
  legs: LegResult[];
}

export const basketQuery = wf.defineQuery<BasketSnapshot>('basket');

/**
 * One basket, durably: every leg's IOC entry is sent at once (client order ids derived from basket
 * and leg, so a replay or retry sends nothing twice); a leg whose submit failed is looked up before
 * anything else happens. Then the rollback rule (domain/arbitrage/legs.ts): keep the complete sets,
 * sell every leg's excess with IOC orders a step lower each attempt. Finally each leg is recorded as
 * a position with its venue. `unhedged` means contracts are still held beyond the complete sets
 * after every unwind attempt: a person has to look.
 */
export async function arbitrageBasketWorkflow(input: BasketInput): Promise<BasketSnapshot> {
  const { plan } = input;
  const entryStates = new Map<string, LegOrderState>();
  const unwindStates = new Map<string, LegOrderState[]>();
  let status: BasketStatus = 'entering';
  let completeSets = new Dec(0);
  const results = () => plan.legs.map((leg) => legResult(leg, entryStates.get(leg.legId) ?? notSent(leg), unwindStates.get(leg.legId) ?? []));
  wf.setHandler(basketQuery, () => ({ basketId: plan.basketId, status, completeSets: completeSets.toString(), legs: results() }));

  const enter = async (leg: BasketLeg): Promise<void> => {
    const order = entryOrder(plan, leg);
    try {
      entryStates.set(leg.legId, await entries.submitBasketOrder({ venue: leg.venue, order }));
    } catch (err) {
      // The outcome is unknown (no answer, or refused in a way we did not expect): ask the venue before anything else.
      wf.log.warn('basket entry failed; looking the order up', { basketId: plan.basketId, legId: leg.legId, error: (err as Error).message });
      const found = await reads.lookupBasketOrder({ venue: leg.venue, clientOrderId: order.clientOrderId, limitPrice: leg.limitPrice });
      entryStates.set(leg.legId, found ?? { ...notSent(leg), status: 'rejected', rejectReason: `entry failed: ${(err as Error).message}` });
    }
  };
  await Promise.all(plan.legs.map(enter));

  const rollback = rollbackRule(plan.legs.map((leg) => ({ legId: leg.legId, filled: new Dec(entryStates.get(leg.legId)!.filled) })));
  completeSets = rollback.completeSets;
  let residual = false;
  if (rollback.unwinds.length > 0) {
    status = 'unwinding';
    await Promise.all(
      rollback.unwinds.map(async ({ legId, size }) => {
        const leg = plan.legs.find((l) => l.legId === legId)!;
        const states: LegOrderState[] = [];
        unwindStates.set(legId, states);
        let remaining = size;
        for (let attempt = 1; attempt <= plan.unwind.attempts && remaining.gt(0); attempt++) {
          const state = await unwinds.submitBasketOrder({ venue: leg.venue, order: unwindOrder(plan, leg, attempt, remaining) });
          states.push(state);
          remaining = remaining.minus(state.filled);
        }
        if (remaining.gt(0)) residual = true;
      }),
    );
  }
  const anyFilled = plan.legs.some((leg) => new Dec(entryStates.get(leg.legId)!.filled).gt(0));
  status = residual ? 'unhedged' : !anyFilled ? 'nothing_filled' : rollback.unwinds.length === 0 ? 'complete' : completeSets.isZero() ? 'unwound' : 'trimmed';
  const legs = results();
  await writes.recordBasketLegs({ plan, results: legs, pairId: input.pairId });
  if (status === 'unhedged') wf.log.error('basket left unhedged contracts after every unwind attempt', { basketId: plan.basketId });
  return { basketId: plan.basketId, status, completeSets: completeSets.toString(), legs };
}

function notSent(leg: BasketLeg): LegOrderState {
  return { clientOrderId: '', status: 'resting', size: leg.size, filled: '0', fees: '0', fills: [] };
}
