import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { heldPositions, recordRiskEvent } from '../db/risk-repo';
import type { Clock } from '../domain/clock';
import type { Dec } from '../domain/decimal';
import type { HeldPosition } from '../domain/risk/risk-manager';
import { selectRebalanceExits, type RebalanceDecision } from '../domain/trading/rebalance';
import { rebalanceSignal } from '../workflows/position';
import { runEvery } from './periodic';

export interface RebalanceWatchDeps {
  db: Database;
  temporal: Client;
  clock: Clock;
  limits: { capital: Dec; maxTotalExposureFraction: Dec };
  /** The positions that form the portfolio (default: every open position in Postgres). */
  held?: () => Promise<HeldPosition[]>;
  log: (line: string) => void;
}

/**
 * The sender of the position workflow's `rebalance` signal: one pass values every open position
 * (any process's: they are read from Postgres), and when the portfolio is over its exposure limit,
 * signals the positions the rebalance rule picks; each then exits at LOW urgency with reason
 * `rebalance`. A position is signalled once (`requested` remembers it for the next passes).
 */
export async function rebalanceOnce(deps: RebalanceWatchDeps, requested: Set<string> = new Set()): Promise<RebalanceDecision> {
  const held = await (deps.held ? deps.held() : heldPositions(deps.db));
  const stillHeld = new Set(held.map((p) => p.positionId));
  for (const id of requested) if (!stillHeld.has(id)) requested.delete(id);
  const decision = selectRebalanceExits(held, deps.limits, requested);
  for (const exit of decision.exits) {
    try {
      await deps.temporal.workflow.getHandle(exit.positionId).signal(rebalanceSignal);
    } catch (err) {
      // A position whose workflow already finished is no longer held; the next pass re-reads.
      deps.log(`rebalance: signalling ${exit.positionId} failed: ${(err as Error).message}`);
      continue;
    }
    requested.add(exit.positionId);
    const reason = `exposure ${decision.exposure.toFixed(2)} > limit ${decision.target.toFixed(2)}: exiting ${exit.positionId} (${exit.exposure.toFixed(2)})`;
    deps.log(`rebalance: ${reason}`);
    await recordRiskEvent(deps.db, { kind: 'rebalance', rule: 'max_total_exposure', reason, positionId: exit.positionId, details: { exposure: exit.exposure.toString(), portfolio: decision.exposure.toString(), target: decision.target.toString() } }, deps.clock.nowMs());
  }
  return decision;
}

/** Runs `rebalanceOnce` every `everyMs` until stopped. */
export function startRebalanceWatch(deps: RebalanceWatchDeps & { everyMs: number }): { stop(): Promise<void> } {
  const requested = new Set<string>();
  return runEvery(deps.everyMs, () => rebalanceOnce(deps, requested), (err) => deps.log(`rebalance watch failed: ${err.message}`));
}
