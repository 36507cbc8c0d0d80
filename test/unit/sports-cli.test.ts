import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { modelsCommand } from '../../cli/commands/models';
import { runModelEdgeBacktestCommand } from '../../cli/commands/backtest-model-edge';

/** Runs a command body with stdout/stderr captured. */
async function capture(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const [write, writeErr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), stdout, stderr };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

const HEADER = 'date,season,neutral,playoff,team1,team2,elo1_pre,elo2_pre,elo_prob1,elo_prob2,elo1_post,elo2_post,score1,score2';

describe('sports CLI: models elo evaluate / models evaluate / backtest --strategy model-edge', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kestrel-sports-'));
    const rows = [HEADER];
    const teams = ['AAA', 'BBB', 'CCC', 'DDD'];
    for (let season = 2015; season <= 2019; season++)
      for (let i = 0; i < 24; i++) {
        const date = `${season}/9/${1 + i}`;
        const [home, away] = [teams[i % 4]!, teams[(i + 1 + (i % 3)) % 4]!];
        const homeStrong = home === 'AAA' || away === 'DDD';
        rows.push([date, season, 0, '', home, away, '', '', '0.6', '0.4', '', '', homeStrong ? 27 : 13, homeStrong ? 10 : 20].join(','));
      }
    rows.push(['2019/9/30', 2019, 0, '', 'AAA', 'BBB', '', '', '', '', '', '', '', ''].join(','));
    writeFileSync(path.join(dir, 'games.csv'), rows.join('\n') + '\n');
    writeFileSync(path.join(dir, 'bad.csv'), `${HEADER}\n2019/9/5,2019,0,,AAA,BBB,,,,,,,3,10\n2019/9/4,2019,0,,CCC,DDD,,,,,,,1,2\n`);
    writeFileSync(path.join(dir, 'short.csv'), 'date,season,team1,team2\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the contract: exit 0 and the last stdout line is {"games","brier","logLoss"} for seasons ≥ S (unplayed games not scored)', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'cli/run.ts', 'models', 'elo', 'evaluate', '--league', 'nfl', '--games', path.join(dir, 'games.csv'), '--from-season', '2018', '--json'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const last = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(Object.keys(last), ['games', 'brier', 'logLoss']);
    assert.equal(last.games, 48);
    assert.ok(last.brier > 0 && last.brier < 0.25, `brier ${last.brier}`);
    assert.ok(last.logLoss > 0 && last.logLoss < 0.7);
  });

  it('bad input: exit 2 with the file line, column or option named, no stack trace', async () => {
    const elo = (args: Record<string, string>) => capture(() => modelsCommand.run({ values: { league: 'nfl', 'from-season': '2018', ...args }, positionals: ['elo', 'evaluate'] }));
    const outOfOrder = await elo({ games: path.join(dir, 'bad.csv') });
    assert.equal(outOfOrder.code, 2);
    assert.match(outOfOrder.stderr, /bad\.csv line 3, column date: 2019-09-04 comes after 2019-09-05/);
    assert.doesNotMatch(outOfOrder.stderr, /\n\s+at /);
    assert.match((await elo({ games: path.join(dir, 'short.csv') })).stderr, /missing columns neutral, playoff, score1, score2/);
    assert.match((await elo({ games: path.join(dir, 'nope.csv') })).stderr, /cannot read games file/);
    assert.match((await elo({ games: path.join(dir, 'games.csv'), 'from-season': 'soon' })).stderr, /--from-season must be an integer/);
    const sub = await capture(() => modelsCommand.run({ values: {}, positionals: ['train'] }));
    assert.equal(sub.code, 2);
  });

  it('models evaluate prints every model in-sample and out-of-sample, 538 included when the file has it', async () => {
    const r = await capture(() => modelsCommand.run({ values: { league: 'nfl', games: path.join(dir, 'games.csv'), 'from-season': '2018', 'train-seasons': '3', json: true }, positionals: ['evaluate'] }));
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(result.inSample.seasons, [2015, 2017]);
    assert.deepEqual(Object.keys(result.outOfSample.scores).sort(), ['elo', 'ensemble', 'fiveThirtyEight', 'historical', 'regression']);
    assert.equal(result.outOfSample.scores.elo.games, 48);
    assert.equal(result.outOfSample.scores.ensemble.calibration.length, 10);
  });

  it('backtest --strategy model-edge on a candle folder prints the JSON contract line', async () => {
    const candles = path.join(dir, 'candles');
    mkdirSync(path.join(candles, 'files'), { recursive: true });
    const ticker = 'KXNBAGAME-25OCT21HOUOKC-OKC';
    const t0 = Date.parse('2025-10-21T00:00:00Z') / 1000;
    const lines = ['game_id,ticker,timestamp,datetime,open,high,low,close,volume', ...Array.from({ length: 30 }, (_, i) => `1,${ticker},${t0 + i * 600},x,40,40,40,40,100`), `1,${ticker},${t0 + 30 * 600},x,,,,,0`];
    writeFileSync(path.join(candles, 'files', 'g.csv.gz'), gzipSync(lines.join('\n') + '\n'));
    writeFileSync(path.join(candles, 'MANIFEST.csv'), `file,ticker,yes_side_won\nfiles/g.csv.gz,${ticker},1\n`);
    const r = await capture(() => runModelEdgeBacktestCommand({ strategy: 'model-edge', league: 'nba', candles, json: true }));
    assert.equal(r.code, 0, r.stderr);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.deepEqual(Object.keys(last), ['games', 'trades', 'pnl', 'fees', 'winRate', 'modelBrier', 'marketBrier']);
    assert.equal(last.games, 1);
    assert.ok(Math.abs(last.marketBrier - 0.36) < 1e-12);
    writeFileSync(path.join(candles, 'MANIFEST.csv'), `file,ticker,yes_side_won\nfiles/g.csv.gz,KXNBAGAME-25OCT21HOUOKC,1\n`);
    const bad = await capture(() => runModelEdgeBacktestCommand({ strategy: 'model-edge', league: 'nba', candles }));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MANIFEST\.csv line 2, column ticker/);
  });
});
