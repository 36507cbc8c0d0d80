import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseScoreboard, parseSummary, pollDelayMs, staleIssues, transitionIssues, usGameDate } from '../../domain/sports/espn';

const DATA = path.resolve(__dirname, '..', '..', '..', 'shared', 'data');
const load = (dir: string, file: string): unknown => JSON.parse(readFileSync(path.join(DATA, dir, file), 'utf8'));

describe('ESPN parsers on the recorded payloads', () => {
  it('scoreboard: every event with teams, phase, scores and the Kalshi-style game key', () => {
    const before = parseScoreboard(load('espn-scoreboard', 'nfl_2025wk1_pregame.json'), 'nfl');
    const after = parseScoreboard(load('espn-scoreboard', 'nfl_2025wk1_after_thu_final.json'), 'nfl');
    assert.deepEqual([before.games.length, before.problems, after.games.length, after.problems], [16, [], 16, []]);
    const dalPhi = (games: typeof before.games) => games.find((g) => g.key.away === 'DAL' && g.key.home === 'PHI')!;
    assert.deepEqual(dalPhi(before.games).key, { league: 'nfl', date: '2025-09-04', away: 'DAL', home: 'PHI' });
    assert.equal(dalPhi(before.games).phase, 'pre');
    const final = dalPhi(after.games);
    assert.deepEqual([final.phase, final.completed, final.home.score, final.away.score], ['post', true, 24, 20]);
    assert.deepEqual(transitionIssues(dalPhi(before.games), final), []);
    assert.equal(after.games.filter((g) => g.phase === 'pre').length, 15);
  });

  it('NBA keys use Kalshi codes from the full team names; summaries carry ESPN’s last win probability', () => {
    const nba = parseScoreboard(load('espn-scoreboard', 'nba_2025-10-02_preseason_pregame.json'), 'nba');
    assert.deepEqual(nba.games[0]!.key, { league: 'nba', date: '2025-10-02', away: 'PHI', home: 'NYK' });
    const summary = parseSummary(load('espn-game-summary', 'nba_summary_401585135_BOS-at-IND_2024-01-08_final.json'), 'nba');
    const g = summary.games[0]!;
    assert.deepEqual([g.espnId, g.key.away, g.key.home, g.home.score, g.away.score, g.phase, g.homeWinProbability], ['401585135', 'BOS', 'IND', 133, 131, 'post', 1]);
    const nfl = parseSummary(load('espn-game-summary', 'nfl_summary_401671784_DAL-at-PIT_2024-10-06_final.json'), 'nfl').games[0]!;
    assert.deepEqual([nfl.home.abbreviation, nfl.home.score, nfl.away.score, nfl.homeWinProbability], ['PIT', 17, 20, 0]);
  });

  it('unexpected shapes are counted and described, never thrown; good events are kept', () => {
    assert.deepEqual(parseScoreboard('nope', 'nfl').games, []);
    assert.match(parseScoreboard({ leagues: [] }, 'nfl').problems[0]!, /^scoreboard: events:/);
    const real = load('espn-scoreboard', 'nfl_2025wk1_pregame.json') as { events: unknown[] };
    const noHome = structuredClone(real.events[1]) as { competitions: { competitors: { homeAway: string }[] }[] };
    noHome.competitions[0]!.competitors = noHome.competitions[0]!.competitors.filter((c) => c.homeAway !== 'home');
    const mixed = parseScoreboard({ events: [real.events[0], { id: 7 }, noHome] }, 'nfl');
    assert.equal(mixed.games.length, 1);
    assert.equal(mixed.problems.length, 2);
    assert.match(mixed.problems[0]!, /^event #1: /);
    assert.match(mixed.problems[1]!, /missing home team/);
    assert.deepEqual(parseSummary({ header: {} }, 'nba').games, []);
  });

  it('data quality: score or phase going backwards, and a game in play gone quiet', () => {
    const after = parseScoreboard(load('espn-scoreboard', 'nfl_2025wk1_after_thu_final.json'), 'nfl').games;
    const before = parseScoreboard(load('espn-scoreboard', 'nfl_2025wk1_pregame.json'), 'nfl').games;
    const final = after.find((g) => g.espnId === before[0]!.espnId)!;
    assert.deepEqual(
      transitionIssues(final, before[0]!).map((i) => i.kind),
      ['score_backwards', 'phase_backwards'],
    );
    const live = { ...final, phase: 'in' as const };
    assert.deepEqual(staleIssues([{ state: live, changedAtMs: 0 }], 200_000, 180_000).map((i) => i.kind), ['stale_feed']);
    assert.deepEqual(staleIssues([{ state: live, changedAtMs: 100_000 }], 200_000, 180_000), []);
    assert.deepEqual(staleIssues([{ state: final, changedAtMs: 0 }], 10_000_000, 180_000), []);
  });

  it('polls fast while a game is in play or about to start, slowly otherwise; local dates for evening games', () => {
    const games = parseScoreboard(load('espn-scoreboard', 'nfl_2025wk1_pregame.json'), 'nfl').games;
    const cadence = { liveMs: 15_000, idleMs: 300_000, startingSoonMs: 1_800_000 };
    const kickoff = Date.parse(games[0]!.startTime);
    assert.equal(pollDelayMs(games, kickoff - 3_600_000, cadence), 300_000);
    assert.equal(pollDelayMs(games, kickoff - 600_000, cadence), 15_000);
    assert.equal(pollDelayMs([{ ...games[0]!, phase: 'in' }], kickoff + 99_999_999, cadence), 15_000);
    assert.equal(usGameDate('2025-10-22T00:30:00Z'), '2025-10-21');
    assert.equal(usGameDate('2025-10-21T17:00:00Z'), '2025-10-21');
  });
});
