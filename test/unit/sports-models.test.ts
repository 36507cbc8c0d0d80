import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { seededRandom } from '../../domain/random';
import { parseCsv } from '../../domain/sports/csv';
import { defaultEloParams, EloRatings, rateGames, winProbability } from '../../domain/sports/elo';
import { combine, DEFAULT_ENSEMBLE_WEIGHTS, parseWeights } from '../../domain/sports/ensemble';
import { calibrationTable, scoredPairs, scoreProbabilities } from '../../domain/sports/evaluation';
import { type Game, parseGames538 } from '../../domain/sports/games';
import { americanImplied, devigMoneyline, spreadProbability } from '../../domain/sports/market-model';
import { defaultSuiteParams, runModelSuite, scoreModels } from '../../domain/sports/model-suite';
import { attachFiveThirtyEightForecasts, attachMarketLines, parseOddsportal } from '../../domain/sports/oddsportal';
import { fitLogistic, predictLogistic } from '../../domain/sports/regression';

const HEADER = 'date,season,neutral,playoff,team1,team2,elo1_pre,elo2_pre,elo_prob1,elo_prob2,elo1_post,elo2_post,score1,score2';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';

describe('sports: CSV and the 538 games file', () => {
  it('parses quotes, CRLF and a BOM, numbering lines from the header', () => {
    const t = parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\n3,4\n');
    assert.deepEqual(t.header, ['a', 'b']);
    assert.deepEqual(t.rows, [
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 4, cells: ['3', '4'] },
    ]);
  });

  it('reads only the game columns, dates in either format, unplayed games without a score', () => {
    const games = parseGames538(csv('2019/9/5,2019,0,,CHI,GB,1,2,0.6,0.4,1,2,3,10', '2019-09-08,2019,1,w,KC,JAX,,,,,,,,'), { withReferences: true });
    assert.equal(games.length, 2);
    assert.deepEqual(games[0], { line: 2, date: '2019-09-05', season: 2019, neutral: false, playoff: false, home: 'CHI', away: 'GB', score: { home: 3, away: 10 }, reference: { fiveThirtyEight: 0.6 } });
    assert.equal(games[1]!.score, undefined);
    assert.equal(games[1]!.neutral, true);
    assert.equal(games[1]!.playoff, true);
  });

  it('names the missing columns, and the line and column of bad rows', () => {
    assert.throws(() => parseGames538('date,season,team1,team2,score1\n'), /missing columns neutral, playoff, score2 \(header has: date, season, team1, team2, score1\)/);
    assert.throws(() => parseGames538(csv('2019/9/5,2019,0,,CHI,GB,,,,,,,3,10', '2019/9/4,2019,0,,KC,JAX,,,,,,,1,2')), /line 3, column date: 2019-09-04 comes after 2019-09-05 \(line 2\)/);
    assert.throws(() => parseGames538(csv('2019/9/5,2019,0,,,GB,,,,,,,3,10')), /line 2, column team1: missing team/);
    assert.throws(() => parseGames538(csv('2019/9/5,2019,0,,CHI,GB,,,,,,,x,10')), /line 2, column score1: not a score/);
    assert.throws(() => parseGames538(csv('2019/13/5,2019,0,,CHI,GB,,,,,,,1,0')), /line 2, column date: not a date/);
    assert.throws(() => parseGames538(csv('2019/9/5,2019,2,,CHI,GB,,,,,,,1,0')), /line 2, column neutral: expected 0 or 1/);
  });
});

describe('sports: Elo', () => {
  const game = (o: Partial<Game>): Game => ({ line: 2, date: '2019-09-05', season: 2019, neutral: false, playoff: false, home: 'A', away: 'B', ...o });

  it('win probability from the rating difference with home advantage, and 538’s margin-of-victory update', () => {
    const params = { ...defaultEloParams('nfl'), k: 20, homeAdvantage: [{ fromSeason: 0, points: 65 }] };
    const elo = new EloRatings(params);
    const before = elo.update(game({ score: { home: 24, away: 17 } }));
    assert.ok(Math.abs(before.probability - 1 / (1 + 10 ** (-65 / 400))) < 1e-12);
    const multiplier = (Math.log(8) * 2.2) / (65 * 0.001 + 2.2);
    const shift = 20 * multiplier * (1 - before.probability);
    assert.ok(Math.abs(elo.snapshot().A! - (1500 + shift)) < 1e-9);
    assert.ok(Math.abs(elo.snapshot().B! - (1500 - shift)) < 1e-9);
  });

  it('no home advantage at neutral sites, ×1.2 in NFL playoffs, post-2020 home advantage from the seed', () => {
    const elo = new EloRatings(defaultEloParams('nfl'));
    assert.equal(elo.predict(game({ neutral: true })).probability, 0.5);
    assert.ok(Math.abs(elo.predict(game({ playoff: true })).diff - 65 * 1.2) < 1e-12);
    assert.equal(elo.predict(game({ season: 2021 })).diff, 30);
    assert.equal(new EloRatings(defaultEloParams('nba')).predict(game({ season: 2022 })).diff, 40);
  });

  it('regresses a rating a third of the way to 1505 at a team’s first game of a new season (NFL)', () => {
    const elo = new EloRatings(defaultEloParams('nfl'));
    elo.update(game({ score: { home: 40, away: 0 } }));
    const a = elo.snapshot().A!;
    elo.predict(game({ season: 2020, date: '2020-09-10' }));
    assert.ok(Math.abs(elo.snapshot().A! - (a + (1505 - a) / 3)) < 1e-9);
  });

  it('an unplayed game is predicted but moves nothing; a tie is rated but not scored', () => {
    const games = [game({ score: { home: 10, away: 10 } }), game({ date: '2019-09-06' })];
    const probs = rateGames(games, defaultEloParams('nfl')).map((p) => p.probability);
    assert.equal(probs.length, 2);
    assert.deepEqual(scoredPairs(games, probs, { fromSeason: 2019 }), []);
    const elo = new EloRatings(defaultEloParams('nfl'));
    elo.update(games[1]!);
    assert.deepEqual(elo.snapshot(), { A: 1500, B: 1500 });
  });

  it('never reads 538’s rating or probability columns: blanking them changes nothing', function () {
    const file = '../shared/data/sports/nfl-elo-538/nfl_elo_to2019.csv';
    if (!existsSync(file)) this.skip();
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, 4000);
    const blanked = lines.map((l, i) => (i === 0 || !l ? l : l.split(',').map((c, j) => (j >= 6 && j <= 11 ? '' : c)).join(','))).join('\n');
    const score = (text: string) => {
      const games = parseGames538(text);
      return scoreProbabilities(scoredPairs(games, rateGames(games, defaultEloParams('nfl')).map((p) => p.probability), { fromSeason: 1950 }));
    };
    const original = score(lines.join('\n'));
    assert.ok(original.games > 1000);
    assert.deepEqual(score(blanked), original);
  });
});

describe('sports: scores, market, regression, ensemble', () => {
  it('Brier, natural-log loss and a 10-bin calibration table', () => {
    const pairs = [
      { p: 0.8, outcome: 1 as const },
      { p: 0.3, outcome: 0 as const },
      { p: 0.6, outcome: 0 as const },
    ];
    const s = scoreProbabilities(pairs);
    assert.ok(Math.abs(s.brier - (0.04 + 0.09 + 0.36) / 3) < 1e-12);
    assert.ok(Math.abs(s.logLoss - -(Math.log(0.8) + Math.log(0.7) + Math.log(0.4)) / 3) < 1e-12);
    const table = calibrationTable(pairs);
    assert.equal(table.length, 10);
    assert.deepEqual(table[8], { from: 0.8, to: 0.9, games: 1, meanProbability: 0.8, observedRate: 1 });
    assert.equal(table[6]!.observedRate, 0);
  });

  it('de-vigs American moneylines and turns spreads into probabilities', () => {
    assert.ok(Math.abs(americanImplied(-175) - 175 / 275) < 1e-12);
    assert.ok(Math.abs(americanImplied(150) - 0.4) < 1e-12);
    assert.ok(Math.abs(devigMoneyline(-175, 150) - 175 / 275 / (175 / 275 + 0.4)) < 1e-12);
    assert.ok(Math.abs(spreadProbability(0, 13) - 0.5) < 1e-7);
    assert.ok(Math.abs(spreadProbability(-13, 13) - 0.8413447) < 1e-6);
  });

  it('the logistic regression recovers known coefficients', () => {
    const random = seededRandom(7);
    const truth = [0.3, 1.2, -0.8];
    const rows = Array.from({ length: 4000 }, () => {
      const features = [1, random() * 2 - 1, random() * 2 - 1];
      const p = predictLogistic({ coefficients: truth }, features);
      return { features, outcome: (random() < p ? 1 : 0) as 0 | 1 };
    });
    const fit = fitLogistic(rows, { ridge: 0 });
    fit.coefficients.forEach((c, i) => assert.ok(Math.abs(c - truth[i]!) < 0.15, `coefficient ${i}: ${c} vs ${truth[i]}`));
  });

  it('the ensemble normalises the weights of the models present; confidence is their agreement', () => {
    const e = combine({ elo: 0.6, regression: 0.7 }, DEFAULT_ENSEMBLE_WEIGHTS)!;
    assert.ok(Math.abs(e.probability - (0.4 * 0.6 + 0.35 * 0.7) / 0.75) < 1e-12);
    assert.ok(Math.abs(e.confidence - 0.9) < 1e-12);
    assert.equal(combine({ elo: 0.6 }, DEFAULT_ENSEMBLE_WEIGHTS)!.confidence, 0);
    assert.equal(combine({}, DEFAULT_ENSEMBLE_WEIGHTS), undefined);
    assert.deepEqual(parseWeights('elo=1,market=0'), { ...DEFAULT_ENSEMBLE_WEIGHTS, elo: 1, market: 0 });
    assert.throws(() => parseWeights('elo=x'), /weight of elo must be a number/);
    assert.throws(() => parseWeights('magic=1'), /unknown model "magic"/);
  });

  it('walk-forward: the regression for a season is fitted only on the seasons before it', () => {
    const random = seededRandom(3);
    const teams = ['A', 'B', 'C', 'D'];
    const games: Game[] = [];
    for (let season = 2000; season < 2006; season++)
      for (let day = 0; day < 60; day++) {
        const [home, away] = [teams[day % 4]!, teams[(day + 1 + (season % 3)) % 4]!];
        games.push({ line: games.length + 2, date: `${season}-0${1 + Math.floor(day / 28)}-${String(1 + (day % 28)).padStart(2, '0')}`, season, neutral: false, playoff: false, home, away, score: { home: Math.floor(random() * 30), away: Math.floor(random() * 30) } });
      }
    const params = { ...defaultSuiteParams('nfl'), regressionTrainSeasons: 2 };
    const suite = runModelSuite(games, params, { from: 2002, to: 2003 });
    assert.deepEqual(
      suite.fits.map((f) => [f.season, ...f.trainSeasons]),
      [
        [2001, 1999, 2000],
        [2002, 2000, 2001],
        [2003, 2001, 2002],
        [2004, 2002, 2003],
        [2005, 2003, 2004],
      ],
    );
    // Changing a result of 2005 cannot change any 2004 prediction.
    const changed = games.map((g) => (g.season === 2005 ? { ...g, score: { home: 0, away: 99 } } : g));
    const again = runModelSuite(changed, params);
    const p2004 = (s: typeof suite) => s.walkForward.filter((r) => r.game.season === 2004).map((r) => r.probabilities);
    assert.deepEqual(p2004(again), p2004(suite));
    const scores = scoreModels(suite.walkForward, { fromSeason: 2004 });
    assert.equal(scores.elo!.games, scores.ensemble!.games);
  });
});

describe('sports: OddsPortal results and lines', () => {
  const HEAD = 'date,season_type,neutral,team_1,team_2,points_1,points_2,moneyline_1,moneyline_2,game_url';
  const url = 'https://www.oddsportal.com/basketball/usa/nba-2018-2019/x/';
  it('oldest first, NBA names as Kalshi codes, season = end year, pre-season skipped, moneyline de-vigged', () => {
    const games = parseOddsportal([HEAD, `03 Jan 2019,Regular,0,Boston Celtics,Utah Jazz,110,100,-200,+170,${url}`, `02 Jan 2019,Pre-season,0,Boston Celtics,Team X,1,2,-,-,${url}`, `01 Jan 2019,Regular,0,Utah Jazz,Miami Heat,90,99,-,-,${url}`].join('\n'), 'nba');
    assert.deepEqual(
      games.map((g) => [g.date, g.season, g.home, g.away, g.reference?.market?.toFixed(4)]),
      [
        ['2019-01-01', 2019, 'UTA', 'MIA', undefined],
        ['2019-01-03', 2019, 'BOS', 'UTA', devigMoneyline(-200, 170).toFixed(4)],
      ],
    );
  });
  it('names unknown teams and out-of-order dates by line', () => {
    assert.throws(() => parseOddsportal([HEAD, `01 Jan 2019,Regular,0,Gotham Knights,Utah Jazz,1,2,-,-,${url}`].join('\n'), 'nba'), /line 2, column team_1: unknown NBA team "Gotham Knights"/);
    assert.throws(() => parseOddsportal([HEAD, ...['03', '01', '02'].map((d) => `${d} Jan 2019,Regular,0,Utah Jazz,Miami Heat,1,2,-,-,${url}`)].join('\n'), 'nba'), /line 4, column date: 2019-01-02 is out of order after 2019-01-01 \(line 3\)/);
  });
  it('attaches 538’s NBA forecasts by date and teams (nicknames), turned around when the sides are swapped', () => {
    const games = parseOddsportal([HEAD, `03 Jan 2019,Regular,0,Portland Trail Blazers,Utah Jazz,110,100,-200,+170,${url}`, `01 Jan 2019,Regular,0,Utah Jazz,Miami Heat,90,99,-,-,${url}`].join('\n'), 'nba');
    const forecasts = ['season,date,team1,team2,prob1,prob1_outcome,prob2,prob2_outcome', '2019,2019-01-03,Trail Blazers,Jazz,0.7,1,0.3,0', '2019,2019-01-01,Heat,Jazz,0.4,1,0.6,0'].join('\n');
    assert.equal(attachFiveThirtyEightForecasts(games, forecasts), 2);
    assert.deepEqual(games.map((g) => g.reference?.fiveThirtyEight), [0.6, 0.7]);
    assert.throws(() => attachFiveThirtyEightForecasts(games, 'date,team1,team2,prob1\n2019-01-01,Gotham,Jazz,0.5\n'), /line 2, column team1: unknown NBA team "Gotham"/);
  });
  it('matches lines to games by date (±1 day) and score, turning swapped sides around', () => {
    const games = parseGames538(csv('2019/9/5,2019,0,,CHI,GB,,,,,,,3,10', '2019/9/8,2019,0,,KC,JAX,,,,,,,40,26'));
    const lines = parseOddsportal([HEAD, `09 Sep 2019,Regular,0,Kansas City Chiefs,Jacksonville Jaguars,40,26,-200,+170,${url}`, `05 Sep 2019,Regular,0,Green Bay Packers,Chicago Bears,10,3,+150,-175,${url}`].join('\n'), 'nfl');
    assert.equal(attachMarketLines(games, lines), 2);
    assert.ok(Math.abs(games[0]!.reference!.market! - (1 - devigMoneyline(150, -175))) < 1e-12);
    assert.ok(Math.abs(games[1]!.reference!.market! - devigMoneyline(-200, 170)) < 1e-12);
  });
});

describe('sports: Elo win probability', () => {
  it('is symmetric and 0.5 at equal ratings', () => {
    assert.equal(winProbability(0), 0.5);
    assert.ok(Math.abs(winProbability(100) + winProbability(-100) - 1) < 1e-12);
  });
});
