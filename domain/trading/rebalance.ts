import { Dec } from '../decimal';
import { heldExposure, type HeldPosition } from '../risk/risk-manager';

/** What a rebalance pass decided: the positions to exit (LOW urgency, reason `rebalance`) and why. */
export interface RebalanceDecision {
  exposure: Dec;
  target: Dec;
  exits: { positionId: string; exposure: Dec }[];
}

/**
 * The portfolio rebalance rule: when what is held (contracts × entry price, as the entry check
 * values it) exceeds the total-exposure limit — after a loss shrank capital or an operator lowered
 * the limit, since entries can never cross it — the largest positions are exited until the rest
 * fits. Positions already asked to rebalance count as gone, so a repeated pass adds nobody.
 */
export function selectRebalanceExits(held: readonly HeldPosition[], limits: { capital: Dec; maxTotalExposureFraction: Dec }, alreadyRequested: ReadonlySet<string> = new Set()): RebalanceDecision {
  const valued = held.map((p) => ({ positionId: p.positionId, exposure: heldExposure(p) }));
  const target = limits.capital.times(limits.maxTotalExposureFraction);
  const exposure = valued.reduce((n, p) => n.plus(p.exposure), new Dec(0));
  let remaining = valued.filter((p) => alreadyRequested.has(p.positionId)).reduce((n, p) => n.minus(p.exposure), exposure);
  const exits: RebalanceDecision['exits'] = [];
  const candidates = valued.filter((p) => !alreadyRequested.has(p.positionId) && p.exposure.gt(0)).sort((a, b) => b.exposure.comparedTo(a.exposure) || a.positionId.localeCompare(b.positionId));
  for (const p of candidates) {
    if (remaining.lte(target)) break;
    exits.push(p);
    remaining = remaining.minus(p.exposure);
  }
  return { exposure, target, exits };
}
