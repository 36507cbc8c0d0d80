/**
 * Signal outcomes and the performance matrix: how often each signal type was right, per category
 * and time of day, and the weights derived from that (shrunk toward "no edge" when data is thin).
 */

/** Price change after a signal, in the signal's favour (positive = it was right), in price units. */
export function signalOutcome(direction: 'yes' | 'no' | undefined, midAtFire: number, priceAfter: number): { move: number; correct: boolean | null } {
  const raw = priceAfter - midAtFire;
  if (!direction) return { move: Math.abs(raw), correct: null };
  const move = direction === 'yes' ? raw : 0 - raw; // 0 - raw: never -0
  return { move, correct: move > 0 ? true : move < 0 ? false : null };
}

export const TIME_OF_DAY_BUCKETS = ['00-06', '06-12', '12-18', '18-24'] as const;
export type TimeOfDay = (typeof TIME_OF_DAY_BUCKETS)[number];

/** UTC time-of-day bucket of an instant. */
export function timeOfDay(ms: number): TimeOfDay {
  const hour = new Date(ms).getUTCHours();
  return TIME_OF_DAY_BUCKETS[Math.floor(hour / 6)]!;
}

export interface OutcomeRow {
  type: string;
  category: string;
  firedAtMs: number;
  horizonMs: number;
  move: number;
  correct: boolean | null;
}

export interface PerformanceCell {
  type: string;
  category: string;
  timeOfDay: TimeOfDay | 'all';
  horizonMs: number;
  count: number;
  wins: number;
  losses: number;
  /** wins / (wins + losses); flat outcomes count in `count` only. */
  winRate: number | null;
  /** Mean directional move in price units (1 = $0.0001). */
  meanMove: number;
}

export function performanceMatrix(rows: readonly OutcomeRow[]): PerformanceCell[] {
  const cells = new Map<string, PerformanceCell & { moveSum: number }>();
  for (const r of rows) {
    for (const tod of [timeOfDay(r.firedAtMs), 'all'] as const) {
      const key = `${r.type}|${r.category}|${tod}|${r.horizonMs}`;
      let c = cells.get(key);
      if (!c) cells.set(key, (c = { type: r.type, category: r.category, timeOfDay: tod, horizonMs: r.horizonMs, count: 0, wins: 0, losses: 0, winRate: null, meanMove: 0, moveSum: 0 }));
      c.count++;
      c.moveSum += r.move;
      if (r.correct === true) c.wins++;
      if (r.correct === false) c.losses++;
    }
  }
  return [...cells.values()]
    .map(({ moveSum, ...c }) => ({ ...c, winRate: c.wins + c.losses > 0 ? c.wins / (c.wins + c.losses) : null, meanMove: moveSum / c.count }))
    .sort((a, b) => a.type.localeCompare(b.type) || a.category.localeCompare(b.category) || a.timeOfDay.localeCompare(b.timeOfDay) || a.horizonMs - b.horizonMs);
}

export interface SignalWeight {
  type: string;
  category: string;
  /** Win rate shrunk toward 0.5 by `priorCount` pseudo-outcomes. */
  winRate: number;
  /** Expected directional move in price units, shrunk toward 0 the same way. */
  expectedMove: number;
  /** 0 (ignore) … 1 (fully trusted): how far the shrunk win rate is above a coin flip. */
  weight: number;
  count: number;
}

/** Weights per signal type × category from the matrix's all-day cells at one horizon. */
export function deriveWeights(cells: readonly PerformanceCell[], horizonMs: number, priorCount: number): SignalWeight[] {
  return cells
    .filter((c) => c.timeOfDay === 'all' && c.horizonMs === horizonMs)
    .map((c) => {
      const decided = c.wins + c.losses;
      const winRate = (c.wins + priorCount / 2) / (decided + priorCount);
      const expectedMove = (c.meanMove * c.count) / (c.count + priorCount);
      return { type: c.type, category: c.category, winRate, expectedMove, weight: Math.max(0, Math.min(1, (winRate - 0.5) * 2)), count: c.count };
    });
}

/**
 * How a set of weights would have done on some outcomes: the mean directional move of the
 * outcomes (at `horizonMs`) of signals the weights say to act on (weight and expected move > 0).
 * Used for in-sample vs out-of-sample comparison when retraining.
 */
export function scoreWeights(weights: readonly SignalWeight[], rows: readonly OutcomeRow[], horizonMs: number): { score: number; acted: number } {
  const act = new Set(weights.filter((w) => w.weight > 0 && w.expectedMove > 0).map((w) => `${w.type}|${w.category}`));
  const chosen = rows.filter((r) => r.horizonMs === horizonMs && act.has(`${r.type}|${r.category}`));
  return { score: chosen.length ? chosen.reduce((a, r) => a + r.move, 0) / chosen.length : 0, acted: chosen.length };
}

export interface PromotionRule {
  /** Out-of-sample may fall at most this fraction below in-sample (0.5 = half). */
  maxShortfall: number;
}

/**
 * Promote a retrained model only if it has an out-of-sample edge, that edge is within the bound of
 * its in-sample edge (not an overfit), and it beats the active model's out-of-sample edge.
 */
export function promotionDecision(candidate: { inSample: number; outOfSample: number }, active: { outOfSample: number } | undefined, rule: PromotionRule): { promote: boolean; reason: string } {
  const { inSample, outOfSample } = candidate;
  if (outOfSample <= 0) return { promote: false, reason: `no out-of-sample edge (${outOfSample.toFixed(1)} units)` };
  if (inSample <= 0 || outOfSample < inSample * (1 - rule.maxShortfall)) return { promote: false, reason: `out-of-sample ${outOfSample.toFixed(1)} is more than ${(rule.maxShortfall * 100).toFixed(0)}% below in-sample ${inSample.toFixed(1)}` };
  if (active && outOfSample <= active.outOfSample) return { promote: false, reason: `out-of-sample ${outOfSample.toFixed(1)} does not beat the active model's ${active.outOfSample.toFixed(1)}` };
  return { promote: true, reason: `out-of-sample ${outOfSample.toFixed(1)} (in-sample ${inSample.toFixed(1)})${active ? ` beats active ${active.outOfSample.toFixed(1)}` : '; no active model'}` };
}
