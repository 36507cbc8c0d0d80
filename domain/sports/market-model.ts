/**
 * The market as a model: de-vigged moneylines, or a point spread turned into a probability.
 * These are probabilities (model math), not prices we trade at.
 */

/** American odds (+150 / −175) → the implied probability including the bookmaker's margin. */
export function americanImplied(odds: number): number {
  if (!Number.isFinite(odds) || (odds > -100 && odds < 100)) throw new Error(`not American odds: ${odds}`);
  return odds > 0 ? 100 / (odds + 100) : -odds / (-odds + 100);
}

/** Home win probability from both sides' American odds, the margin removed proportionally. */
export function devigMoneyline(homeOdds: number, awayOdds: number): number {
  const h = americanImplied(homeOdds);
  const a = americanImplied(awayOdds);
  return h / (h + a);
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 via erf; error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Home win probability from the home team's closing spread (negative = home favoured): Φ(−spread / σ). */
export const spreadProbability = (homeSpread: number, sigma: number) => normalCdf(-homeSpread / sigma);
