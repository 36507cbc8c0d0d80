import { z } from 'zod';
import { Dec } from '../decimal';
import type { Urgency } from './exits';

/**
 * Urgency-based exit execution. Prices are for SELLING the held contracts; "improving" a price
 * means moving it toward the bid (more likely to fill). Reading the "best_bid ± 1 tick"
 * as the price on the side we post to (our touch, the best ask for a sell):
 *   CRITICAL  marketable IOC at the bid minus the slippage allowance, short timeout, retried at once;
 *   HIGH      1 tick better than the touch, walk 2 ticks, then marketable;
 *   MEDIUM    at the touch, walk up to 5 ticks, then marketable;
 *   LOW       1 tick behind the touch, walk up to 10 ticks, then marketable.
 */
export const exitPlanConfigSchema = z.object({
  tick: z.string().regex(/^\d+(\.\d+)?$/).transform((s) => new Dec(s)).prefault('0.01'),
  /** How far through the bid a marketable order may reach. */
  marketableSlippageTicks: z.number().int().min(0).prefault(5),
  criticalAttempts: z.number().int().min(1).prefault(5),
  timeoutsMs: z
    .object({ CRITICAL: z.number().int().positive().prefault(500), HIGH: z.number().int().positive().prefault(3000), MEDIUM: z.number().int().positive().prefault(5000), LOW: z.number().int().positive().prefault(10_000) })
    .prefault({}),
});
export type ExitPlanConfig = z.output<typeof exitPlanConfigSchema>;

const START_OFFSET_TICKS: Record<Exclude<Urgency, 'CRITICAL'>, number> = { HIGH: 1, MEDIUM: 0, LOW: -1 };
export const WALK_STEPS: Record<Exclude<Urgency, 'CRITICAL'>, number> = { HIGH: 2, MEDIUM: 5, LOW: 10 };

export interface ExitAttemptSpec {
  attemptNo: number;
  orderType: 'limit' | 'ioc';
  limitPrice: Dec;
  timeoutMs: number;
  /** 'marketable' once walking is over (or for CRITICAL). */
  phase: 'walk' | 'marketable';
}

export interface ExitQuote {
  bid?: Dec;
  ask?: Dec;
}

const MIN_PRICE = new Dec('0.01');
const MAX_PRICE = new Dec('0.99');
const clamp = (p: Dec) => Dec.max(MIN_PRICE, Dec.min(MAX_PRICE, p));

/**
 * The order for exit attempt `attemptNo` (1-based) at `urgency`, priced off the current quote.
 * Returns undefined when the plan is exhausted (only CRITICAL can run out; it is retried by the caller
 * at a new attempt budget if contracts remain).
 */
export function planExitAttempt(urgency: Urgency, attemptNo: number, quote: ExitQuote, config: ExitPlanConfig): ExitAttemptSpec | undefined {
  const { tick } = config;
  const marketable = (): ExitAttemptSpec => ({
    attemptNo,
    orderType: 'ioc',
    // No bid: offer at the floor so any buyer that appears during the attempt takes it.
    limitPrice: clamp(quote.bid ? quote.bid.minus(tick.times(config.marketableSlippageTicks)) : MIN_PRICE),
    timeoutMs: config.timeoutsMs.CRITICAL,
    phase: 'marketable',
  });
  if (urgency === 'CRITICAL') return attemptNo <= config.criticalAttempts ? marketable() : undefined;
  const walks = WALK_STEPS[urgency];
  if (attemptNo > walks + 1) return attemptNo <= walks + 1 + config.criticalAttempts ? marketable() : undefined;
  // Our touch: the best ask; with no ask, one tick above the bid; with neither, the plan goes marketable.
  const touch = quote.ask ?? quote.bid?.plus(tick);
  if (!touch) return marketable();
  const improveTicks = START_OFFSET_TICKS[urgency] + (attemptNo - 1);
  let price = touch.minus(tick.times(improveTicks));
  // A walk never needs to go through the bid: at the bid it is already marketable.
  if (quote.bid && price.lt(quote.bid)) price = quote.bid;
  return { attemptNo, orderType: 'limit', limitPrice: clamp(price), timeoutMs: config.timeoutsMs[urgency], phase: 'walk' };
}

/** Client order ids are derived, never random: the same attempt always produces the same id. */
export function exitClientOrderId(positionWorkflowId: string, exitNo: number, attemptNo: number): string {
  return `${positionWorkflowId}/exit-${exitNo}/attempt-${attemptNo}`;
}

export function entryClientOrderId(positionWorkflowId: string, attemptNo: number): string {
  return `${positionWorkflowId}/entry/attempt-${attemptNo}`;
}
