import { z } from 'zod';
import { type Game, homeResult, type League } from './games';

/**
 * Elo parameters. Home advantage is a schedule by season, because it changed: the seed's
 * post-2020 values (nfl 30, nba 40, mlb 20, nhl 30, soccer 25) apply from 2020, and the earlier
 * value is FiveThirtyEight's published one for the league (NFL 65, NBA 100), not fitted on any
 * season we score.
 */
export const eloParamsSchema = z.object({
  k: z.number().positive(),
  homeAdvantage: z.array(z.object({ fromSeason: z.number().int(), points: z.number() })).min(1),
  /** 538's margin-of-victory multiplier ln(|MOV|+1) · 2.2 / (0.001 · winner's Elo edge + 2.2). */
  marginOfVictory: z.boolean(),
  /** Fraction of the distance to `mean` a team's rating moves back at the start of each season. */
  seasonRegression: z.number().min(0).max(1),
  mean: z.number(),
  /** Rating of a team the first time it appears. */
  initialRating: z.number(),
  /** Playoff games: the rating difference is multiplied by this (538 NFL: 1.2; favourites win more often). */
  playoffMultiplier: z.number().positive(),
  /** A result known without its score (a settled market) moves ratings as a win by this margin would. */
  marginWhenUnknown: z.number().positive(),
});
export type EloParams = z.infer<typeof eloParamsSchema>;

const POST_2020_HOME_ADVANTAGE: Record<League, number> = { nfl: 30, nba: 40, mlb: 20, nhl: 30, soccer: 25 };
const PRE_2020_HOME_ADVANTAGE: Record<League, number> = { nfl: 65, nba: 100, mlb: 24, nhl: 50, soccer: 60 };
const SEED_K: Record<League, number> = { nfl: 28, nba: 32, mlb: 4, nhl: 6, soccer: 20 };

export function defaultEloParams(league: League): EloParams {
  return {
    k: SEED_K[league],
    homeAdvantage: [
      { fromSeason: 0, points: PRE_2020_HOME_ADVANTAGE[league] },
      { fromSeason: 2020, points: POST_2020_HOME_ADVANTAGE[league] },
    ],
    marginOfVictory: true,
    seasonRegression: league === 'nfl' ? 1 / 3 : 0.25,
    mean: 1505,
    initialRating: 1500,
    playoffMultiplier: league === 'nfl' ? 1.2 : 1,
    marginWhenUnknown: league === 'nfl' || league === 'nba' ? 11 : 2,
  };
}

export function homeAdvantageFor(params: EloParams, season: number): number {
  let points = params.homeAdvantage[0]!.points;
  for (const step of params.homeAdvantage) if (season >= step.fromSeason) points = step.points;
  return points;
}

export const winProbability = (ratingDiff: number) => 1 / (1 + 10 ** (-ratingDiff / 400));

export interface EloPrediction {
  homeRating: number;
  awayRating: number;
  /** Home minus away, with home advantage and the playoff multiplier applied. */
  diff: number;
  probability: number;
}

/** Team ratings that move game by game; a team is pulled toward the mean at its first game of each season. */
export class EloRatings {
  private readonly teams: Map<string, { rating: number; season: number }>;
  constructor(
    readonly params: EloParams,
    /** Ratings to start from (a stored model version), as `exportRatings` wrote them. */
    initial: Record<string, { rating: number; season: number }> = {},
  ) {
    this.teams = new Map(Object.entries(initial).map(([team, e]) => [team, { ...e }]));
  }

  exportRatings(): Record<string, { rating: number; season: number }> {
    return Object.fromEntries([...this.teams].map(([team, e]) => [team, { ...e }]));
  }

  rating(team: string, season: number): number {
    const entry = this.teams.get(team);
    if (!entry) {
      this.teams.set(team, { rating: this.params.initialRating, season });
      return this.params.initialRating;
    }
    if (season > entry.season) {
      entry.rating = entry.rating + (this.params.mean - entry.rating) * this.params.seasonRegression;
      entry.season = season;
    }
    return entry.rating;
  }

  predict(game: Pick<Game, 'home' | 'away' | 'season' | 'neutral' | 'playoff'>): EloPrediction {
    const homeRating = this.rating(game.home, game.season);
    const awayRating = this.rating(game.away, game.season);
    let diff = homeRating - awayRating + (game.neutral ? 0 : homeAdvantageFor(this.params, game.season));
    if (game.playoff) diff *= this.params.playoffMultiplier;
    return { homeRating, awayRating, diff, probability: winProbability(diff) };
  }

  /** Applies a finished game; returns the prediction it was rated against. Unplayed games change nothing. */
  update(game: Game): EloPrediction {
    const prediction = this.predict(game);
    const result = homeResult(game);
    if (result === undefined) return prediction;
    let multiplier = 1;
    if (this.params.marginOfVictory) {
      const margin = game.score ? Math.abs(game.score.home - game.score.away) : this.params.marginWhenUnknown;
      const winnerEdge = result === 0.5 ? 0 : result === 1 ? prediction.diff : -prediction.diff;
      multiplier = (Math.log(Math.max(margin, 1) + 1) * 2.2) / (winnerEdge * 0.001 + 2.2);
    }
    const shift = this.params.k * multiplier * (result - prediction.probability);
    this.teams.get(game.home)!.rating += shift;
    this.teams.get(game.away)!.rating -= shift;
    return prediction;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.teams].map(([team, e]) => [team, e.rating]));
  }
}

/** Rates every game in order (no result is used before its game); the pre-game prediction of each. */
export function rateGames(games: readonly Game[], params: EloParams): EloPrediction[] {
  const elo = new EloRatings(params);
  return games.map((g) => elo.update(g));
}
