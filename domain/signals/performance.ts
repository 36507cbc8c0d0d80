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
  /** What the signal model's fit needs (absent on rows that cannot say): how it fired and how it was resolved. */
  direction?: 'yes' | 'no';
  /** YES mid when it fired, in price units. */
  midAtFire?: number;
  /** YES spread (ask − bid) when it fired, in price units. */
  spreadAtFire?: number;
  confidence?: number;
  priority?: string;
  resolvedBy?: 'price' | 'settlement';
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
  /** Fitted models (domain/signals/model.ts): shrunk expected P&L after fees per signal, in price units. */
  expectedPnl?: number;
  /** Fitted models: signals of this cell below this confidence are not acted on. */
  minConfidence?: number;
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
  /** Out-of-sample may fall at most this fraction below in-sample (0.2 = a fifth). */
  maxShortfall: number;
}

const dollars = (units: number) => `$${(units / 10_000).toFixed(4)}`;

/**
 * Promote a retrained model only if it has an out-of-sample edge, that edge is within the bound of
 * its in-sample edge (not an overfit), and it beats the active version evaluated on the same test
 * window (edges: mean P&L after fees per acted-on signal, price units per contract).
 */
export function promotionDecision(candidate: { inSample: number; outOfSample: number; inSampleSignals?: number; outOfSampleSignals?: number }, active: { version: string; outOfSample: number } | undefined, rule: PromotionRule): { promote: boolean; reason: string } {
  const { inSample, outOfSample } = candidate;
  if (candidate.inSampleSignals === 0) return { promote: false, reason: 'no signal type × category showed a positive expected P&L after fees with enough outcomes in the training window, so the model would act on no signal' };
  if (candidate.outOfSampleSignals === 0) return { promote: false, reason: 'the model acted on no signal in the test window: there is no out-of-sample evidence for it' };
  if (outOfSample <= 0) return { promote: false, reason: `no out-of-sample edge: ${dollars(outOfSample)} per signal after fees on the test window (in-sample ${dollars(inSample)})` };
  if (inSample <= 0 || outOfSample < inSample * (1 - rule.maxShortfall)) return { promote: false, reason: `out-of-sample ${dollars(outOfSample)} per signal is more than ${(rule.maxShortfall * 100).toFixed(0)}% below in-sample ${dollars(inSample)} (retraining.maxShortfall): likely an overfit` };
  if (active && outOfSample <= active.outOfSample) return { promote: false, reason: `out-of-sample ${dollars(outOfSample)} per signal does not beat the active version ${active.version}, which made ${dollars(active.outOfSample)} per signal on the same test window` };
  return { promote: true, reason: `out-of-sample ${dollars(outOfSample)} per signal after fees (in-sample ${dollars(inSample)})${active ? `, beating the active version ${active.version} (${dollars(active.outOfSample)}) on the same test window` : '; there was no active version'}` };
}
