import { z } from 'zod';
import { Dec, fractionDecimal } from '../decimal';

/** Exit conditions and their priorities; a higher priority wins, ties go to the order listed here. */
export const EXIT_CONDITIONS = [
  ['stop_loss', 'CRITICAL'],
  ['circuit_breaker', 'CRITICAL'],
  ['trailing_stop', 'HIGH'],
  ['time_based_urgent', 'HIGH'],
  ['liquidity_dried_up', 'HIGH'],
  ['profit_target', 'MEDIUM'],
  ['partial_exit_target', 'MEDIUM'],
  ['early_exit', 'LOW'],
  ['edge_disappeared', 'LOW'],
  ['rebalance', 'LOW'],
] as const;
export type ExitReason = (typeof EXIT_CONDITIONS)[number][0];
export const URGENCIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
export type Urgency = (typeof URGENCIES)[number];
export const urgencyRank = (u: Urgency) => URGENCIES.length - URGENCIES.indexOf(u);
export const PRIORITY_OF: Record<ExitReason, Urgency> = Object.fromEntries(EXIT_CONDITIONS) as Record<ExitReason, Urgency>;

export const exitConfigSchema = z.object({
  stopLossFraction: fractionDecimal('stopLossFraction').prefault('0.20'),
  /** The trailing stop arms once the bid has gained this much over entry... */
  trailingActivationFraction: fractionDecimal('trailingActivationFraction').prefault('0.10'),
  /** ...and fires when the bid falls this far below its high-water mark. */
  trailingStopFraction: fractionDecimal('trailingStopFraction').prefault('0.10'),
  profitTargetFraction: fractionDecimal('profitTargetFraction').prefault('0.50'),
  /** Partial exits: at each gain, sell this fraction of the ORIGINAL size; the rest rides the trailing stop. */
  partialStages: z
    .array(z.object({ gainFraction: fractionDecimal('gainFraction'), sizeFraction: fractionDecimal('sizeFraction') }))
    .prefault([
      { gainFraction: '0.15', sizeFraction: '0.50' },
      { gainFraction: '0.25', sizeFraction: '0.25' },
    ]),
  urgentBeforeCloseMs: z.number().int().nonnegative().prefault(60_000),
  earlyExitBeforeCloseMs: z.number().int().nonnegative().prefault(180_000),
  earlyExitMinGainFraction: fractionDecimal('earlyExitMinGainFraction').prefault('0.05'),
  /** Exit when fewer contracts than this rest at the bid, or the spread is wider than maxSpread. */
  minExitLiquidity: decimalField('minExitLiquidity', '1'),
  maxSpread: decimalField('maxSpread', '0.20'),
  /** Exit when model probability minus the bid falls below this. */
  minEdge: decimalField('minEdge', '-0.02', true),
});
export type ExitConfig = z.output<typeof exitConfigSchema>;

function decimalField(name: string, fallback: string, allowNegative = false) {
  return z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, { message: `${name} must be a decimal string` })
    .transform((s) => new Dec(s))
    .refine((d) => allowNegative || d.gte(0), { message: `${name} must be >= 0` })
    .prefault(fallback);
}

/** What the position knows about the market right now, from the perspective of the contracts it holds. */
export interface ExitMarketView {
  nowMs: number;
  /** Best price we could sell at (bid for the held outcome) and its size; undefined = no bid. */
  bid?: Dec;
  bidSize: Dec;
  ask?: Dec;
  closeTimeMs: number;
  modelProbability?: Dec;
}

export interface ExitPositionView {
  entryPrice: Dec;
  originalSize: Dec;
  remainingSize: Dec;
  /** Highest bid seen since entry (trailing stop state). */
  highWaterBid: Dec;
  partialStagesDone: number;
  circuitBreakerTripped: boolean;
  rebalanceRequested: boolean;
}

export interface TriggeredExit {
  reason: ExitReason;
  urgency: Urgency;
  detail: string;
  /** Contracts to sell (partial exits sell a stage; everything else the remaining size). */
  size: Dec;
}

export interface ExitEvaluation {
  /** Every condition that holds now, highest priority first (all are logged). */
  triggered: TriggeredExit[];
  decision?: TriggeredExit;
}

/** Pure: evaluates all ten exit conditions; the highest-priority one decides. */
export function evaluateExits(position: ExitPositionView, market: ExitMarketView, config: ExitConfig): ExitEvaluation {
  const triggered: TriggeredExit[] = [];
  const all = position.remainingSize;
  const add = (reason: ExitReason, detail: string, size: Dec = all) => triggered.push({ reason, urgency: PRIORITY_OF[reason], detail, size });
  const entry = position.entryPrice;
  const bid = market.bid;
  const gain = bid ? bid.minus(entry).div(entry) : undefined;
  const toClose = market.closeTimeMs - market.nowMs;

  if (bid && bid.lte(entry.times(new Dec(1).minus(config.stopLossFraction)))) add('stop_loss', `bid ${bid} <= entry ${entry} - ${config.stopLossFraction.times(100)}%`);
  if (position.circuitBreakerTripped) add('circuit_breaker', 'risk circuit breaker tripped');
  if (bid && position.highWaterBid.gte(entry.times(new Dec(1).plus(config.trailingActivationFraction)))) {
    const stop = position.highWaterBid.times(new Dec(1).minus(config.trailingStopFraction));
    if (bid.lte(stop)) add('trailing_stop', `bid ${bid} <= ${stop.toFixed(4)} (high water ${position.highWaterBid})`);
  }
  if (toClose <= config.urgentBeforeCloseMs) add('time_based_urgent', `${Math.max(0, toClose)} ms to close`);
  const spread = bid && market.ask ? market.ask.minus(bid) : undefined;
  if (!bid || market.bidSize.lt(config.minExitLiquidity) || (spread && spread.gt(config.maxSpread))) {
    add('liquidity_dried_up', !bid ? 'no bid' : spread && spread.gt(config.maxSpread) ? `spread ${spread} > ${config.maxSpread}` : `bid size ${market.bidSize} < ${config.minExitLiquidity}`);
  }
  if (gain && gain.gte(config.profitTargetFraction)) add('profit_target', `gain ${gain.times(100).toFixed(1)}% >= ${config.profitTargetFraction.times(100)}%`);
  const stage = config.partialStages[position.partialStagesDone];
  if (gain && stage && gain.gte(stage.gainFraction)) {
    const stageSize = Dec.min(position.originalSize.times(stage.sizeFraction).toDecimalPlaces(2, Dec.ROUND_DOWN), all);
    if (stageSize.gt(0)) add('partial_exit_target', `stage ${position.partialStagesDone + 1}: gain ${gain.times(100).toFixed(1)}% >= ${stage.gainFraction.times(100)}%`, stageSize);
  }
  if (toClose <= config.earlyExitBeforeCloseMs && gain && gain.gte(config.earlyExitMinGainFraction)) add('early_exit', `take ${gain.times(100).toFixed(1)}% with ${toClose} ms to close`);
  if (market.modelProbability && bid && market.modelProbability.minus(bid).lt(config.minEdge)) add('edge_disappeared', `model ${market.modelProbability} - bid ${bid} < ${config.minEdge}`);
  if (position.rebalanceRequested) add('rebalance', 'portfolio rebalance requested');

  triggered.sort((a, b) => urgencyRank(b.urgency) - urgencyRank(a.urgency));
  return { triggered, decision: triggered[0] };
}
