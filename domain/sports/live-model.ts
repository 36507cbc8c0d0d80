import { z } from 'zod';
import type { EnsembleProbability } from './ensemble';
import type { GameKey } from './game-key';
import { type Game, type League, LEAGUES } from './games';
import { GameModels, type GameModelsState, pregameEnsemble, type SuiteParams } from './model-suite';
import type { LogisticModel } from './regression';

/**
 * The content of a sports model version (`model_versions.parameters`): the parameters, the training
 * window, the team state learned from it and the regression for the season that follows. Live
 * trading predicts from exactly this, so a position's model version says what it saw.
 */
export const sportsModelContentSchema = z.object({
  kind: z.literal('sports-ensemble'),
  league: z.enum(LEAGUES),
  trainedFrom: z.string(),
  trainedThrough: z.string(),
  params: z.custom<SuiteParams>((v) => typeof v === 'object' && v !== null && 'elo' in v && 'weights' in v, { message: 'params must be the suite parameters' }),
  state: z.custom<GameModelsState>((v) => typeof v === 'object' && v !== null && 'elo' in v && 'teams' in v, { message: 'state must be the team state' }),
  regression: z.object({ season: z.number().int(), coefficients: z.array(z.number()) }).nullable(),
});
export type SportsModelContent = z.infer<typeof sportsModelContentSchema>;

/** Season of a game date: the NBA (and NHL) name a season by its end year, the others by its start year. */
export function seasonOf(league: League, date: string): number {
  const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  if (league === 'nba' || league === 'nhl') return month >= 8 ? year + 1 : year;
  if (league === 'nfl') return month <= 2 ? year - 1 : year;
  return year;
}

/** Pre-game probabilities from a stored model version (read-only: live games do not move it). */
export class LiveGameModel {
  private readonly regression?: LogisticModel;
  constructor(readonly content: SportsModelContent) {
    this.regression = content.regression ? { coefficients: content.regression.coefficients } : undefined;
  }

  /** Home-win probability and model agreement for a game; undefined for a team the model has never seen. */
  predict(key: GameKey, options: { neutral?: boolean; playoff?: boolean } = {}): EnsembleProbability | undefined {
    if (key.league !== this.content.league) return undefined;
    if (!(key.home in this.content.state.elo) || !(key.away in this.content.state.elo)) return undefined;
    const season = seasonOf(key.league, key.date);
    const game: Game = { line: 0, date: key.date, season, neutral: options.neutral ?? false, playoff: options.playoff ?? false, home: key.home, away: key.away };
    // A GameModels copy per call: predicting applies the season regression lazily, which must not stick.
    const models = new GameModels(this.content.params, this.content.state);
    return pregameEnsemble(models, this.regression && this.content.regression?.season === season ? this.regression : undefined, game);
  }
}
