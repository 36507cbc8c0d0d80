import { combine, type ComponentModel, DEFAULT_ENSEMBLE_WEIGHTS, type EnsembleProbability } from './ensemble';
import { defaultEloParams, type EloParams, type EloPrediction, EloRatings } from './elo';
import { calibrationTable, type CalibrationBin, scoredPairs, scoreProbabilities, type Score } from './evaluation';
import { type Game, homeResult, type League } from './games';
import { fitLogistic, type LogisticModel, predictLogistic } from './regression';

/** Everything the models need besides the games; each run's parameters go into its model version. */
export interface SuiteParams {
  league: League;
  elo: EloParams;
  weights: Record<ComponentModel, number>;
  /** The regression for season S is fitted on seasons S−N … S−1 (walk-forward). */
  regressionTrainSeasons: number;
  /** Rolling form: mean point margin over a team's last N games. */
  formGames: number;
  /** Historical model: a team's win rate over its last N games, shrunk toward .500 by `historyPriorGames`. */
  historyGames: number;
  historyPriorGames: number;
}

export function defaultSuiteParams(league: League): SuiteParams {
  return { league, elo: defaultEloParams(league), weights: { ...DEFAULT_ENSEMBLE_WEIGHTS }, regressionTrainSeasons: 10, formGames: 5, historyGames: league === 'nfl' ? 17 : 82, historyPriorGames: 5 };
}

/** Regression features, all known before the game; the first is the constant. */
export const FEATURE_NAMES = ['constant', 'ratingDiff/100', 'homeField', 'restDiff/7', 'formDiff/10', 'playoff·ratingDiff/100'] as const;

export interface PreGame {
  elo: EloPrediction;
  features: number[];
  historical: number;
}

interface TeamHistory {
  lastDate?: string;
  margins: number[];
  results: number[];
}

/** Everything `GameModels` has learned, as plain JSON (stored in a model version). */
export interface GameModelsState {
  elo: Record<string, { rating: number; season: number }>;
  teams: Record<string, TeamHistory>;
  homeWinsBySeason: Record<string, { games: number; wins: number }>;
}

const DAY_MS = 86_400_000;
const daysBetween = (from: string, to: string) => (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS;
const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Team state that moves game by game: Elo ratings, rest, rolling form, recent win rate and the home
 * win rate of earlier seasons. `preGame` reads it; `record` applies a finished game. No result is
 * seen before its game is recorded, so callers control look-ahead by when they call `record`.
 */
export class GameModels {
  readonly elo: EloRatings;
  private readonly teams: Map<string, TeamHistory>;
  private readonly homeWinsBySeason: Map<number, { games: number; wins: number }>;
  constructor(
    readonly params: SuiteParams,
    state?: GameModelsState,
  ) {
    this.elo = new EloRatings(params.elo, state?.elo);
    this.teams = new Map(Object.entries(structuredClone(state?.teams ?? {})));
    this.homeWinsBySeason = new Map(Object.entries(state?.homeWinsBySeason ?? {}).map(([s, r]) => [Number(s), { ...r }]));
  }

  exportState(): GameModelsState {
    return { elo: this.elo.exportRatings(), teams: structuredClone(Object.fromEntries(this.teams)), homeWinsBySeason: Object.fromEntries([...this.homeWinsBySeason].map(([s, r]) => [String(s), { ...r }])) };
  }

  private team(name: string): TeamHistory {
    let t = this.teams.get(name);
    if (!t) this.teams.set(name, (t = { margins: [], results: [] }));
    return t;
  }

  /** Home win rate of non-neutral games over the ten seasons before `season` (0.5 when none). */
  private homeRate(season: number): number {
    let games = 0;
    let wins = 0;
    for (let s = season - 10; s < season; s++) {
      const r = this.homeWinsBySeason.get(s);
      if (r) [games, wins] = [games + r.games, wins + r.wins];
    }
    return games ? (wins + 1) / (games + 2) : 0.5;
  }

  private winRate(t: TeamHistory): number {
    const prior = this.params.historyPriorGames;
    return (t.results.reduce((a, b) => a + b, 0) + prior * 0.5) / (t.results.length + prior);
  }

  preGame(game: Game): PreGame {
    const elo = this.elo.predict(game);
    const home = this.team(game.home);
    const away = this.team(game.away);
    const rest = (t: TeamHistory) => (t.lastDate ? Math.min(14, Math.max(0, daysBetween(t.lastDate, game.date))) : 14);
    const ratingDiff = (elo.homeRating - elo.awayRating) / 100;
    const features = [1, ratingDiff, game.neutral ? 0 : 1, Math.max(-7, Math.min(7, rest(home) - rest(away))) / 7, (mean(home.margins) - mean(away.margins)) / 10, game.playoff ? ratingDiff : 0];
    const [a, b] = [this.winRate(home), this.winRate(away)];
    const log5 = (a * (1 - b)) / (a * (1 - b) + b * (1 - a));
    const historical = game.neutral ? log5 : sigmoid(logit(log5) + logit(this.homeRate(game.season)));
    return { elo, features, historical };
  }

  /** Applies a finished game (unplayed games only advance the date of the teams' last game). */
  record(game: Game): void {
    this.elo.update(game);
    const result = homeResult(game);
    const home = this.team(game.home);
    const away = this.team(game.away);
    home.lastDate = away.lastDate = game.date;
    if (result === undefined) return;
    const margin = game.score ? game.score.home - game.score.away : (result - 0.5) * 2 * this.params.elo.marginWhenUnknown;
    const push = (t: TeamHistory, m: number, r: number) => {
      t.margins.push(m);
      if (t.margins.length > this.params.formGames) t.margins.shift();
      t.results.push(r);
      if (t.results.length > this.params.historyGames) t.results.shift();
    };
    push(home, margin, result);
    push(away, -margin, 1 - result);
    if (!game.neutral && result !== 0.5) {
      const s = this.homeWinsBySeason.get(game.season) ?? { games: 0, wins: 0 };
      this.homeWinsBySeason.set(game.season, { games: s.games + 1, wins: s.wins + result });
    }
  }
}

/**
 * The pre-game ensemble from team state alone: Elo, historical and (when fitted) the regression.
 * The market is left out: where this is used (trading against the market) its line is what we
 * compare with, and a closing line is not known before the game anyway.
 */
export function pregameEnsemble(models: GameModels, regression: LogisticModel | undefined, game: Game): EnsembleProbability | undefined {
  const pre = models.preGame(game);
  return combine({ elo: pre.elo.probability, historical: pre.historical, regression: regression ? predictLogistic(regression, pre.features) : undefined }, { ...models.params.weights, market: 0 });
}

export const REPORTED_MODELS = ['elo', 'regression', 'historical', 'market', 'ensemble', 'fiveThirtyEight'] as const;
export type ReportedModel = (typeof REPORTED_MODELS)[number];

export interface GamePrediction {
  game: Game;
  probabilities: Partial<Record<ReportedModel, number>>;
  ensemble?: EnsembleProbability;
}

export interface RegressionFit {
  season: number;
  trainSeasons: [number, number];
  trainGames: number;
  model: LogisticModel;
}

const trainingRows = (rows: readonly { game: Game; pre: PreGame }[], from: number, to: number) =>
  rows.flatMap(({ game, pre }) => {
    const r = homeResult(game);
    return game.season >= from && game.season <= to && (r === 0 || r === 1) ? [{ features: pre.features, outcome: r }] : [];
  });

/** Fits the regression on seasons [from, to]; undefined when too few games to fit (fewer than 50). */
export function fitRegressionWindow(rows: readonly { game: Game; pre: PreGame }[], from: number, to: number): { model: LogisticModel; games: number } | undefined {
  const train = trainingRows(rows, from, to);
  return train.length < 50 ? undefined : { model: fitLogistic(train), games: train.length };
}

/**
 * Every model on every game, in order. Elo, form and the historical model are online (each game
 * sees only earlier results); the regression for season S is fitted on the N seasons before S.
 * `inSampleFit` additionally fits one regression on the training window and predicts the same
 * games with it (the in-sample figure).
 */
export function runModelSuite(games: readonly Game[], params: SuiteParams, inSampleWindow?: { from: number; to: number }) {
  const models = new GameModels(params);
  const rows = games.map((game) => {
    const pre = models.preGame(game);
    models.record(game);
    return { game, pre };
  });
  const fits: RegressionFit[] = [];
  const fitBySeason = new Map<number, LogisticModel | undefined>();
  for (const season of [...new Set(games.map((g) => g.season))]) {
    const from = season - params.regressionTrainSeasons;
    const fit = fitRegressionWindow(rows, from, season - 1);
    fitBySeason.set(season, fit?.model);
    if (fit) fits.push({ season, trainSeasons: [from, season - 1], trainGames: fit.games, model: fit.model });
  }
  const inSampleFit = inSampleWindow ? fitRegressionWindow(rows, inSampleWindow.from, inSampleWindow.to) : undefined;
  const predict = (regressionFor: (game: Game) => LogisticModel | undefined): GamePrediction[] =>
    rows.map(({ game, pre }) => {
      const regressionModel = regressionFor(game);
      const components: Partial<Record<ComponentModel, number>> = { elo: pre.elo.probability, historical: pre.historical };
      if (regressionModel) components.regression = predictLogistic(regressionModel, pre.features);
      if (game.reference?.market !== undefined) components.market = game.reference.market;
      const ensemble = combine(components, params.weights);
      return { game, ensemble, probabilities: { ...components, ensemble: ensemble?.probability, fiveThirtyEight: game.reference?.fiveThirtyEight } };
    });
  const walkForward = predict((g) => fitBySeason.get(g.season));
  const inSample = inSampleFit ? predict(() => inSampleFit.model) : undefined;
  return { walkForward, inSample, fits, inSampleFit };
}

export interface ModelScore extends Score {
  calibration: CalibrationBin[];
}

/** Scores of each reported model over the played, untied games of a season window. */
export function scoreModels(predictions: readonly GamePrediction[], window: { fromSeason: number; toSeason?: number }): Partial<Record<ReportedModel, ModelScore>> {
  const scores: Partial<Record<ReportedModel, ModelScore>> = {};
  const games = predictions.map((p) => p.game);
  for (const model of REPORTED_MODELS) {
    const pairs = scoredPairs(games, predictions.map((p) => p.probabilities[model]), window);
    if (pairs.length) scores[model] = { ...scoreProbabilities(pairs), calibration: calibrationTable(pairs) };
  }
  return scores;
}
