import { z } from 'zod';
import { Dec } from '../decimal';
import { kalshiFee } from '../fees';
import { ONE_DOLLAR, PRICE_SCALE } from '../fixed-point';
import type { OutcomeRow, SignalWeight } from './performance';

/**
 * The signal model: per signal type × category, a confidence threshold and a weight, fitted on
 * resolved outcomes only. One implementation for `kestrel signals optimize`, the backtests and the
 * retraining workflow.
 */

export const SIGNAL_MODEL_OBJECTIVE =
  'expected P&L after Kalshi taker fees per acted-on signal, in price units per contract: buy the favoured outcome at the ask when the signal fires (mid + half the spread then), ' +
  'value it at the horizon at the mid less the same half spread and the exit fee, or at the settlement value when the market settled first; ' +
  'the mean is shrunk toward 0 by priorCount pseudo-signals of zero P&L, and a cell with fewer than minCount acted-on outcomes gets no weight';

/** Candidate per-cell confidence thresholds; the configured floor (`actionableMinConfidence`) is always one. */
export const CONFIDENCE_GRID: readonly number[] = [0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

export const signalModelFitSettingsSchema = z.object({
  horizonMs: z.number().int().positive(),
  /** Pseudo-signals of zero P&L that pull a thin cell's expectation toward "no edge". */
  priorCount: z.number().min(0),
  /** A cell with fewer acted-on outcomes than this (at any threshold) gets no weight. */
  minCount: z.number().int().min(1),
  confidenceGrid: z.array(z.number().min(0).max(1)).min(1),
  /** Taker fee rate (multiplier included) as a decimal string. */
  takerFeeRate: z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string'),
  /** The static actionable rules: only signals they pass can ever be traded, so only those are fitted. */
  rules: z.object({ minConfidence: z.number().min(0).max(1), priorities: z.array(z.string()), types: z.array(z.string()) }),
});
export type SignalModelFitSettings = z.infer<typeof signalModelFitSettingsSchema>;

export const signalWeightSchema = z.object({
  type: z.string().min(1),
  category: z.string().min(1),
  winRate: z.number(),
  expectedMove: z.number(),
  weight: z.number().min(0).max(1),
  count: z.number().int().min(0),
  expectedPnl: z.number().optional(),
  minConfidence: z.number().min(0).max(1).optional(),
});

/** What a signal model version stores; versions made before thresholds were fitted have weights only. */
export const signalModelParametersSchema = z.object({ weights: z.array(signalWeightSchema) });

/** The weights of a stored model version, validated (the content comes from the database). */
export function parseSignalModel(content: unknown, what: string): SignalWeight[] {
  const parsed = signalModelParametersSchema.safeParse(content);
  if (!parsed.success) throw new Error(`${what} is not a signal model (weights per type × category): ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data.weights;
}

/** The weight of a signal's cell: its own category, else the type's catch-all (`*`). */
export function weightFor(weights: readonly SignalWeight[], type: string, category: string): SignalWeight | undefined {
  return weights.find((w) => w.type === type && w.category === category) ?? weights.find((w) => w.type === type && w.category === '*');
}

/** Why a model does not act on a signal of this confidence, or undefined when it does. */
export function modelRejection(weight: SignalWeight | undefined, type: string, category: string, confidence: number): string | undefined {
  if (!weight || weight.weight <= 0 || weight.expectedMove <= 0) return `model has no positive edge for ${type}/${category}`;
  if (weight.minConfidence !== undefined && confidence < weight.minConfidence) return `confidence ${confidence.toFixed(2)} < the model's threshold ${weight.minConfidence} for ${type}/${category}`;
  return undefined;
}

/** An outcome a strategy could have traded: its direction, mid at fire, confidence and priority are known. */
type TradableOutcome = OutcomeRow & { direction: 'yes' | 'no'; midAtFire: number; confidence: number; priority: string };

function tradable(r: OutcomeRow, s: SignalModelFitSettings): r is TradableOutcome {
  return r.horizonMs === s.horizonMs && r.direction !== undefined && r.midAtFire !== undefined && r.confidence !== undefined && r.priority !== undefined && s.rules.types.includes(r.type) && s.rules.priorities.includes(r.priority) && r.confidence >= s.rules.minConfidence;
}

const feeUnits = (priceUnits: number, rate: Dec) => kalshiFee({ contracts: new Dec(1), price: new Dec(Math.min(ONE_DOLLAR, Math.max(0, priceUnits))).div(PRICE_SCALE), rate }).times(PRICE_SCALE).toNumber();

/** One contract's P&L after fees for a tradable outcome (see SIGNAL_MODEL_OBJECTIVE), in price units. */
export function signalPnl(r: TradableOutcome, takerFeeRate: string): number {
  const rate = new Dec(takerFeeRate);
  const outcomeMid = r.direction === 'yes' ? r.midAtFire : ONE_DOLLAR - r.midAtFire;
  const halfSpread = (r.spreadAtFire ?? 0) / 2;
  const ask = Math.min(ONE_DOLLAR, outcomeMid + halfSpread);
  const valueAfter = outcomeMid + r.move;
  // Settled: paid out at the result, no exit order. Otherwise sold at the bid, with its fee.
  const exit = r.resolvedBy === 'settlement' ? valueAfter : Math.max(0, valueAfter - halfSpread);
  const exitFee = r.resolvedBy === 'settlement' ? 0 : feeUnits(exit, rate);
  return exit - ask - feeUnits(ask, rate) - exitFee;
}

interface Scored {
  row: TradableOutcome;
  pnl: number;
}

/** Candidate thresholds at or above the floor, the floor included, ascending. */
function thresholds(s: SignalModelFitSettings): number[] {
  return [...new Set([s.rules.minConfidence, ...s.confidenceGrid.filter((t) => t > s.rules.minConfidence)])].sort((a, b) => a - b);
}

/**
 * Fits a threshold and a weight per signal type × category on training outcomes only: for each
 * candidate threshold, the outcomes at or above it are the ones the model would have acted on; the
 * threshold with the highest shrunk expected P&L per signal wins (ties: the lower threshold, more
 * signals). A cell with fewer than `minCount` outcomes at every threshold, or whose best shrunk
 * expectation is not positive, gets weight 0 (never traded).
 */
export function fitSignalModel(rows: readonly OutcomeRow[], settings: SignalModelFitSettings): SignalWeight[] {
  const s = signalModelFitSettingsSchema.parse(settings);
  const cells = new Map<string, Scored[]>();
  for (const row of rows) {
    if (!tradable(row, s)) continue;
    const key = `${row.type}|${row.category}`;
    const list = cells.get(key) ?? [];
    list.push({ row, pnl: signalPnl(row, s.takerFeeRate) });
    cells.set(key, list);
  }
  const candidates = thresholds(s);
  const weights: SignalWeight[] = [];
  for (const list of cells.values()) {
    const { type, category } = list[0]!.row;
    let best: { threshold: number; acted: Scored[]; expectedPnl: number } | undefined;
    for (const threshold of candidates) {
      const acted = list.filter((x) => x.row.confidence >= threshold);
      if (acted.length < s.minCount) continue;
      const expectedPnl = acted.reduce((a, x) => a + x.pnl, 0) / (acted.length + s.priorCount);
      if (!best || expectedPnl > best.expectedPnl) best = { threshold, acted, expectedPnl };
    }
    if (!best) {
      weights.push({ type, category, winRate: 0.5, expectedMove: 0, expectedPnl: 0, weight: 0, count: list.length, minConfidence: s.rules.minConfidence });
      continue;
    }
    const n = best.acted.length;
    const wins = best.acted.filter((x) => x.pnl > 0).length;
    const losses = best.acted.filter((x) => x.pnl < 0).length;
    const expectedMove = best.acted.reduce((a, x) => a + x.row.move, 0) / (n + s.priorCount);
    const edge = best.expectedPnl > 0;
    weights.push({
      type,
      category,
      // Win rate after fees, shrunk toward a coin flip like the expectation.
      winRate: (wins + s.priorCount / 2) / (wins + losses + s.priorCount),
      expectedMove,
      expectedPnl: best.expectedPnl,
      // How much of the expectation is the cell's own data rather than the prior; 0 without an edge.
      weight: edge ? n / (n + s.priorCount) : 0,
      count: n,
      minConfidence: best.threshold,
    });
  }
  return weights.sort((a, b) => a.type.localeCompare(b.type) || a.category.localeCompare(b.category));
}

export interface ModelScore {
  /** Mean P&L after fees per acted-on signal, in price units per contract (0 when none was acted on). */
  edge: number;
  acted: number;
  /** Summed P&L after fees of the acted-on signals, in price units per contract. */
  totalPnl: number;
}

/** How a model does on some outcomes: the signals it acts on (same rule as `actionableEntry`) and their P&L after fees. */
export function scoreSignalModel(weights: readonly SignalWeight[], rows: readonly OutcomeRow[], settings: SignalModelFitSettings): ModelScore {
  const s = signalModelFitSettingsSchema.parse(settings);
  let acted = 0;
  let totalPnl = 0;
  for (const row of rows) {
    if (!tradable(row, s)) continue;
    if (modelRejection(weightFor(weights, row.type, row.category), row.type, row.category, row.confidence) !== undefined) continue;
    acted++;
    totalPnl += signalPnl(row, s.takerFeeRate);
  }
  return { edge: acted > 0 ? totalPnl / acted : 0, acted, totalPnl };
}

/** Resolved outcomes at the model's horizon that the static rules let through (what a fit can use). */
export function tradableOutcomes(rows: readonly OutcomeRow[], settings: SignalModelFitSettings): number {
  return rows.filter((r) => tradable(r, settings)).length;
}

/**
 * The walk-forward step shared by `signals optimize` and the retraining workflow: fit on the
 * training outcomes alone, then score the same model in sample and on the test outcomes, which
 * never reach the fit.
 */
export function fitAndScore(train: readonly OutcomeRow[], test: readonly OutcomeRow[], settings: SignalModelFitSettings): { weights: SignalWeight[]; inSample: ModelScore; outOfSample: ModelScore } {
  const weights = fitSignalModel(train, settings);
  return { weights, inSample: scoreSignalModel(weights, train, settings), outOfSample: scoreSignalModel(weights, test, settings) };
}
