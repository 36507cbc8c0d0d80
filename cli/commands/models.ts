import { defaultEloParams, type EloParams, rateGames } from '../../domain/sports/elo';
import { parseWeights } from '../../domain/sports/ensemble';
import { scoredPairs, scoreProbabilities, type Score } from '../../domain/sports/evaluation';
import { type Game, isoDate, LEAGUES, type League, parseGames538 } from '../../domain/sports/games';
import { seasonOf, type SportsModelContent } from '../../domain/sports/live-model';
import { defaultSuiteParams, FEATURE_NAMES, fitRegressionWindow, GameModels, REPORTED_MODELS, runModelSuite, scoreModels, type ModelScore, type ReportedModel, type SuiteParams } from '../../domain/sports/model-suite';
import { attachFiveThirtyEightForecasts, attachMarketLines, isOddsportalHeader, parseOddsportal } from '../../domain/sports/oddsportal';
import { parseCsv } from '../../domain/sports/csv';
import { loadBootstrapConfig } from '../../config/load';
import { openDatabase } from '../../db/client';
import { createVersion, transitionVersion } from '../../db/versions-repo';
import { asCommand, type CliCommand, CommandInputError, EXIT, numberOption, out, readTextFile, requiredString } from './cli-support';

const USAGE = [
  'kestrel models elo evaluate --league nfl|nba|mlb|nhl|soccer --games FILE --from-season S [--k K] [--home-advantage POINTS] [--json]',
  'kestrel models evaluate --league nfl|nba --games FILE --from-season S [--lines FILE] [--references 538-FORECASTS] [--weights elo=0.4,regression=0.35,market=0.25,historical=0.3] [--train-seasons N] [--save] [--json]',
  'kestrel models fit --league nfl|nba --games FILE [--through YYYY-MM-DD] [--season S] [--activate] [--json]',
].join('\n       ');

export function parseLeague(value: string | boolean | undefined): League {
  if (typeof value !== 'string' || !LEAGUES.includes(value as League)) throw new CommandInputError(`--league must be one of ${LEAGUES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as League;
}

/**
 * A games file: 538's game-file format (only date, season, neutral, playoff, teams and scores are
 * read) or OddsPortal's results with moneylines; the header decides.
 */
export function readGamesFile(file: string, league: League, options: { withReferences?: boolean } = {}): Game[] {
  const text = readTextFile(file, 'games file');
  const header = parseCsv(text.slice(0, text.search(/\r|\n/) + 1 || undefined), file).header;
  return isOddsportalHeader(header) ? parseOddsportal(text, league, file) : parseGames538(text, { what: file, withReferences: options.withReferences });
}

function eloParamsFrom(values: Record<string, string | boolean | undefined>, league: League): EloParams {
  const params = defaultEloParams(league);
  params.k = numberOption(values, 'k', params.k, { min: 0.1, max: 200 });
  if (values['home-advantage'] !== undefined) params.homeAdvantage = [{ fromSeason: 0, points: numberOption(values, 'home-advantage', 0, { min: -200, max: 400 }) }];
  return params;
}

const fmt = (x: number | undefined, digits = 4) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));
const scoreJson = (s: Score) => ({ games: s.games, brier: s.games ? s.brier : null, logLoss: s.games ? s.logLoss : null });

async function eloEvaluate(values: Record<string, string | boolean | undefined>): Promise<number> {
  const league = parseLeague(values.league);
  const fromSeason = numberOption(values, 'from-season', NaN, { min: 1800, max: 2200, integer: true });
  if (Number.isNaN(fromSeason)) throw new CommandInputError('--from-season is required');
  const params = eloParamsFrom(values, league);
  // Only the game columns are read: 538's own elo*/qbelo* columns are never parsed here.
  const games = readGamesFile(requiredString(values, 'games'), league);
  const probabilities = rateGames(games, params).map((p) => p.probability);
  const score = scoreProbabilities(scoredPairs(games, probabilities, { fromSeason }));
  out(`${league.toUpperCase()} Elo (K ${params.k}, home advantage ${params.homeAdvantage.map((h) => `${h.points} from ${h.fromSeason}`).join(', ')}): ${games.length} games rated, ${score.games} scored (season ≥ ${fromSeason}): Brier ${fmt(score.brier)}, log loss ${fmt(score.logLoss)}`);
  if (values.json) out(JSON.stringify(scoreJson(score)));
  return EXIT.ok;
}

const LABEL: Record<ReportedModel, string> = { elo: 'Elo', regression: 'regression', historical: 'historical', market: 'market (closing line)', ensemble: 'ensemble', fiveThirtyEight: "538's published" };

function printTable(title: string, scores: Partial<Record<ReportedModel, ModelScore>>) {
  out(title);
  out(`  ${'model'.padEnd(24)} ${'games'.padStart(6)} ${'Brier'.padStart(7)} ${'log loss'.padStart(9)}`);
  for (const m of REPORTED_MODELS) {
    const s = scores[m];
    if (s) out(`  ${LABEL[m].padEnd(24)} ${String(s.games).padStart(6)} ${fmt(s.brier).padStart(7)} ${fmt(s.logLoss).padStart(9)}`);
  }
}

async function evaluateAll(values: Record<string, string | boolean | undefined>): Promise<number> {
  const league = parseLeague(values.league);
  const fromSeason = numberOption(values, 'from-season', NaN, { min: 1800, max: 2200, integer: true });
  if (Number.isNaN(fromSeason)) throw new CommandInputError('--from-season is required');
  const params: SuiteParams = { ...defaultSuiteParams(league), elo: eloParamsFrom(values, league) };
  params.regressionTrainSeasons = numberOption(values, 'train-seasons', params.regressionTrainSeasons, { min: 1, max: 50, integer: true });
  if (typeof values.weights === 'string') {
    try {
      params.weights = parseWeights(values.weights);
    } catch (e) {
      throw new CommandInputError(`--weights: ${(e as Error).message}`);
    }
  }
  const games = readGamesFile(requiredString(values, 'games'), league, { withReferences: true });
  let linesMatched: number | undefined;
  if (typeof values.lines === 'string') linesMatched = attachMarketLines(games, readGamesFile(values.lines, league));
  let referencesMatched: number | undefined;
  if (typeof values.references === 'string') {
    if (league !== 'nba') throw new CommandInputError('--references (538 forecasts by team nickname) is for --league nba; the NFL games file carries 538\'s elo_prob1 itself');
    referencesMatched = attachFiveThirtyEightForecasts(games, readTextFile(values.references, 'forecasts file'), values.references);
  }
  const train = { from: fromSeason - params.regressionTrainSeasons, to: fromSeason - 1 };
  const suite = runModelSuite(games, params, train);
  const inSample = scoreModels(suite.inSample ?? [], { fromSeason: train.from, toSeason: train.to });
  const outOfSample = scoreModels(suite.walkForward, { fromSeason });
  // Side by side on the same games: those with a market line (the reference the ensemble is judged against).
  const withLine = (rows: typeof suite.walkForward) => rows.filter((r) => r.probabilities.market !== undefined);
  const outOfSampleWithLine = scoreModels(withLine(suite.walkForward), { fromSeason });
  const outOfSampleWith538 = scoreModels(suite.walkForward.filter((r) => r.probabilities.fiveThirtyEight !== undefined), { fromSeason });
  const bySeason = [...new Set(games.filter((g) => g.season >= fromSeason).map((g) => g.season))].map((season) => {
    const s = scoreModels(suite.walkForward, { fromSeason: season, toSeason: season });
    return { season, ...Object.fromEntries(Object.entries(s).map(([m, v]) => [m, { games: v.games, brier: v.brier }])) };
  });
  const result = {
    league,
    games: games.length,
    linesMatched,
    referencesMatched,
    parameters: params,
    inSample: { seasons: [train.from, train.to], note: 'regression fitted on these seasons and scored on them; Elo, historical and the ensemble weights are not fitted', scores: inSample },
    outOfSample: { fromSeason, note: 'walk-forward: each season scored with a regression fitted on the seasons before it only', scores: outOfSample, onGamesWithMarketLine: outOfSampleWithLine, onGamesWith538: outOfSampleWith538, bySeason },
    regressionFits: suite.fits.map((f) => ({ season: f.season, trainSeasons: f.trainSeasons, trainGames: f.trainGames, coefficients: Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, f.model.coefficients[i]])) })),
  };
  printTable(`In-sample, seasons ${train.from}–${train.to} (regression fitted on them):`, inSample);
  printTable(`Out-of-sample, seasons ≥ ${fromSeason} (walk-forward by season):`, outOfSample);
  if (outOfSampleWithLine.market) printTable(`Out-of-sample, only games with a market line:`, outOfSampleWithLine);
  if (outOfSampleWith538.fiveThirtyEight && outOfSampleWith538.fiveThirtyEight.games < (outOfSample.elo?.games ?? 0)) printTable(`Out-of-sample, only games with 538's probability:`, outOfSampleWith538);
  const calibration = outOfSample.ensemble?.calibration;
  if (calibration) out(`Ensemble calibration out of sample (bin: games, mean prediction → observed): ${calibration.filter((b) => b.games).map((b) => `${b.from.toFixed(1)}–${b.to.toFixed(1)}: ${b.games}, ${fmt(b.meanProbability!, 3)}→${fmt(b.observedRate!, 3)}`).join('; ')}`);
  if (linesMatched !== undefined) out(`market lines matched to ${linesMatched} games`);
  if (referencesMatched !== undefined) out(`538 forecasts matched to ${referencesMatched} games`);
  if (values.save) {
    const saved = await saveModelVersions(result, params, train);
    out(`model versions: ${saved.map((v) => `${v.name} ${v.version}`).join(', ')}`);
  }
  if (values.json) out(JSON.stringify(result));
  return EXIT.ok;
}

/** One immutable `model_versions` row per model of the run: parameters, training window and scores. */
async function saveModelVersions(result: { outOfSample: { scores: Partial<Record<ReportedModel, ModelScore>> }; inSample: { scores: Partial<Record<ReportedModel, ModelScore>> }; regressionFits: unknown[] }, params: SuiteParams, train: { from: number; to: number }) {
  const { config } = loadBootstrapConfig();
  const handle = openDatabase(config.database.url, { max: 1, applicationName: 'kestrel-models' });
  try {
    const metricsOf = (m: ReportedModel) => ({ inSample: strip(result.inSample.scores[m]), outOfSample: strip(result.outOfSample.scores[m]) });
    const strip = (s: ModelScore | undefined) => (s ? { games: s.games, brier: s.brier, logLoss: s.logLoss } : null);
    const window = { trainSeasons: [train.from, train.to] };
    const rows = [
      await createVersion(handle.db, 'model', `${params.league}-elo`, { ...params.elo, ...window }, metricsOf('elo')),
      await createVersion(handle.db, 'model', `${params.league}-regression`, { features: FEATURE_NAMES, trainSeasonsEach: params.regressionTrainSeasons, fits: result.regressionFits, ...window }, metricsOf('regression')),
      await createVersion(handle.db, 'model', `${params.league}-historical`, { historyGames: params.historyGames, historyPriorGames: params.historyPriorGames, ...window }, metricsOf('historical')),
      // The tradeable ensemble (with its learned team state) is `models fit`'s `<league>-ensemble`.
      await createVersion(handle.db, 'model', `${params.league}-ensemble-evaluation`, { weights: params.weights, elo: params.elo, formGames: params.formGames, historyGames: params.historyGames, historyPriorGames: params.historyPriorGames, regressionTrainSeasons: params.regressionTrainSeasons, ...window }, metricsOf('ensemble')),
    ];
    return rows;
  } finally {
    await handle.close();
  }
}

/**
 * `models fit`: learns team state from every game up to `--through` and stores it as the next
 * `<league>-ensemble` model version (what the live model-edge path predicts from), with the
 * regression for the season to trade fitted on the seasons before it; `--activate` promotes it.
 */
async function fitLive(values: Record<string, string | boolean | undefined>): Promise<number> {
  const league = parseLeague(values.league);
  const through = typeof values.through === 'string' ? isoDate(values.through) : undefined;
  if (values.through !== undefined && !through) throw new CommandInputError(`--through must be a date YYYY-MM-DD, got ${JSON.stringify(values.through)}`);
  const params: SuiteParams = { ...defaultSuiteParams(league), elo: eloParamsFrom(values, league) };
  const games = readGamesFile(requiredString(values, 'games'), league).filter((g) => !through || g.date <= through);
  if (games.length === 0) throw new CommandInputError('no games to fit on');
  const last = games[games.length - 1]!;
  // By default the season being played now (or next, between seasons); the clock is the CLI's.
  const season = numberOption(values, 'season', seasonOf(league, new Date().toISOString().slice(0, 10)), { min: 1900, max: 2200, integer: true });
  if (season <= last.season - 1) throw new CommandInputError(`--season ${season} is before the last season of the games (${last.season}): the model would have seen its results`);
  const models = new GameModels(params);
  const rows = games.map((game) => {
    const pre = models.preGame(game);
    models.record(game);
    return { game, pre };
  });
  const regression = fitRegressionWindow(rows, season - params.regressionTrainSeasons, season - 1);
  const content: SportsModelContent = { kind: 'sports-ensemble', league, trainedFrom: games[0]!.date, trainedThrough: last.date, params, state: models.exportState(), regression: regression ? { season, coefficients: regression.model.coefficients } : null };
  const evaluated = scoreModels(runModelSuite(games, params).walkForward, { fromSeason: last.season - 1, toSeason: last.season - 1 });
  const metrics = Object.fromEntries(Object.entries(evaluated).map(([m, v]) => [m, { games: v.games, brier: v.brier, logLoss: v.logLoss }]));
  const { config } = loadBootstrapConfig();
  const handle = openDatabase(config.database.url, { max: 1, applicationName: 'kestrel-models' });
  try {
    const name = `${league}-ensemble`;
    const version = await createVersion(handle.db, 'model', name, content as unknown as Record<string, unknown>, { walkForwardSeason: last.season - 1, ...metrics });
    if (values.activate) for (const to of ['training', 'validating', 'active']) await transitionVersion(handle.db, 'model', version.id, to, `models fit --activate (trained ${content.trainedFrom}..${content.trainedThrough})`);
    out(`${name} ${version.version} (id ${version.id}, ${values.activate ? 'active' : 'draft'}): ${games.length} games ${content.trainedFrom}..${content.trainedThrough}, ${Object.keys(content.state.elo).length} teams, regression for season ${season} ${regression ? `on ${regression.games} games` : 'not fitted (too few games)'}; season ${last.season - 1} walk-forward Brier: ${Object.entries(metrics).map(([m, v]) => `${m} ${fmt(v.brier)}`).join(', ')}`);
    if (values.json) out(JSON.stringify({ name, version: version.version, id: version.id, status: values.activate ? 'active' : 'draft', trainedThrough: content.trainedThrough, season }));
    return EXIT.ok;
  } finally {
    await handle.close();
  }
}

export const modelsCommand: CliCommand = {
  summary: 'sports models: Elo, regression, historical, market and ensemble win probabilities; Brier, log loss and calibration, in-sample vs walk-forward',
  usage: USAGE,
  options: {
    league: { type: 'string' },
    games: { type: 'string' },
    lines: { type: 'string' },
    references: { type: 'string' },
    'from-season': { type: 'string' },
    'train-seasons': { type: 'string' },
    weights: { type: 'string' },
    k: { type: 'string' },
    'home-advantage': { type: 'string' },
    save: { type: 'boolean' },
    through: { type: 'string' },
    season: { type: 'string' },
    activate: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run: ({ values, positionals }) =>
    asCommand('models', USAGE, async () => {
      const [a, b] = positionals;
      if (a === 'elo' && b === 'evaluate') return eloEvaluate(values);
      if (a === 'evaluate' && b === undefined) return evaluateAll(values);
      if (a === 'fit' && b === undefined) return fitLive(values);
      throw new CommandInputError(`unknown subcommand ${JSON.stringify(positionals.join(' '))} (models elo evaluate | models evaluate)`);
    }),
};
