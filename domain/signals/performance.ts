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
