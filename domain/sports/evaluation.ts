import { type Game, homeResult } from './games';

/** Probability scores. Model math, so plain numbers (no money here). */
export interface Score {
  games: number;
  brier: number;
  logLoss: number;
}

const EPS = 1e-15;

/** Brier score and natural-log loss over (probability, outcome) pairs; outcomes are 0 or 1. */
export function scoreProbabilities(pairs: readonly { p: number; outcome: 0 | 1 }[]): Score {
  let brier = 0;
  let logLoss = 0;
  for (const { p, outcome } of pairs) {
    brier += (p - outcome) ** 2;
    const q = Math.min(1 - EPS, Math.max(EPS, p));
    logLoss -= outcome === 1 ? Math.log(q) : Math.log(1 - q);
  }
  const n = pairs.length;
  return { games: n, brier: n ? brier / n : NaN, logLoss: n ? logLoss / n : NaN };
}

export interface CalibrationBin {
  from: number;
  to: number;
  games: number;
  meanProbability: number | null;
  observedRate: number | null;
}

/** Ten equal-width bins of predicted probability: mean prediction vs observed frequency in each. */
export function calibrationTable(pairs: readonly { p: number; outcome: 0 | 1 }[], bins = 10): CalibrationBin[] {
  const acc = Array.from({ length: bins }, () => ({ n: 0, p: 0, y: 0 }));
  for (const { p, outcome } of pairs) {
    const b = acc[Math.min(bins - 1, Math.floor(p * bins))]!;
    b.n++;
    b.p += p;
    b.y += outcome;
  }
  return acc.map((b, i) => ({ from: i / bins, to: (i + 1) / bins, games: b.n, meanProbability: b.n ? b.p / b.n : null, observedRate: b.n ? b.y / b.n : null }));
}

/**
 * The scored pairs of a run: games of season ≥ `fromSeason` (and ≤ `toSeason`) that were played and
 * not tied, with a prediction present.
 */
export function scoredPairs(games: readonly Game[], probabilities: readonly (number | undefined)[], window: { fromSeason: number; toSeason?: number }): { p: number; outcome: 0 | 1 }[] {
  const pairs: { p: number; outcome: 0 | 1 }[] = [];
  games.forEach((g, i) => {
    const result = homeResult(g);
    const p = probabilities[i];
    if (g.season < window.fromSeason || (window.toSeason !== undefined && g.season > window.toSeason)) return;
    if (result === undefined || result === 0.5 || p === undefined) return;
    pairs.push({ p, outcome: result });
  });
  return pairs;
}
