import { columnIndex, DataFileError, parseCsv } from './csv';
import { type Game, isoDate, type League } from './games';
import { devigMoneyline } from './market-model';
import { NBA_TEAMS, teamKey } from './teams';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const COLUMNS = ['date', 'season_type', 'neutral', 'team_1', 'team_2', 'points_1', 'points_2', 'moneyline_1', 'moneyline_2', 'game_url'] as const;

/** `22 Jun 2025` → `2025-06-22`. */
function oddsportalDate(text: string): string | undefined {
  const m = /^(\d{1,2}) ([A-Z][a-z]{2}) (\d{4})$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[2]!) : -1;
  if (!m || month < 0) return undefined;
  const probe = new Date(Date.UTC(Number(m[3]), month, Number(m[1])));
  return probe.getUTCDate() === Number(m[1]) ? probe.toISOString().slice(0, 10) : undefined;
}

/** True when a header is OddsPortal's (as opposed to 538's game file). */
export const isOddsportalHeader = (header: readonly string[]) => header.includes('moneyline_1') && header.includes('game_url');

/**
 * OddsPortal results with average closing moneylines (`nba-lines/oddsportal_nba.csv`,
 * `nfl-lines/oddsportal_nfl_*.csv`). team_1 is home. Pre-season and All-Star rows are skipped.
 * The season comes from the URL (`nba-2018-2019`): the end year for the NBA (538's convention),
 * the start year otherwise. The file runs newest first; the games come back oldest first, and rows
 * out of date order (in the file's own direction) are an error naming the line.
 */
export function parseOddsportal(text: string, league: League, what = 'games file'): Game[] {
  const table = parseCsv(text, what);
  const col = columnIndex(table, COLUMNS, what);
  const games: Game[] = [];
  let direction = 0;
  let previous: { date: string; line: number } | undefined;
  for (const { line, cells } of table.rows) {
    const cell = (name: (typeof COLUMNS)[number]) => (cells[col[name]] ?? '').trim();
    const at = (name: string) => `${what} line ${line}, column ${name}`;
    const date = oddsportalDate(cell('date'));
    if (!date) throw new DataFileError(`${at('date')}: not a date like "22 Jun 2025": ${JSON.stringify(cell('date'))}`);
    if (previous && date !== previous.date) {
      const step = date > previous.date ? 1 : -1;
      if (direction === 0) direction = step;
      else if (step !== direction) throw new DataFileError(`${at('date')}: ${date} is out of order after ${previous.date} (line ${previous.line})`);
    }
    previous = { date, line };
    const type = cell('season_type');
    if (type === 'Pre-season' || type === 'All Stars') continue;
    const seasonMatch = /-(\d{4})-(\d{4})\//.exec(cell('game_url'));
    if (!seasonMatch) throw new DataFileError(`${at('game_url')}: no season like "nba-2018-2019" in ${JSON.stringify(cell('game_url'))}`);
    const season = Number(league === 'nba' ? seasonMatch[2] : seasonMatch[1]);
    const home = teamKey(league, cell('team_1'));
    const away = teamKey(league, cell('team_2'));
    if (!home) throw new DataFileError(`${at('team_1')}: unknown ${league.toUpperCase()} team ${JSON.stringify(cell('team_1'))}`);
    if (!away) throw new DataFileError(`${at('team_2')}: unknown ${league.toUpperCase()} team ${JSON.stringify(cell('team_2'))}`);
    const [p1, p2] = [cell('points_1'), cell('points_2')];
    const scored = /^\d+$/.test(p1) && /^\d+$/.test(p2);
    const [m1, m2] = [Number(cell('moneyline_1')), Number(cell('moneyline_2'))];
    const hasLine = Number.isFinite(m1) && Number.isFinite(m2) && Math.abs(m1) >= 100 && Math.abs(m2) >= 100;
    games.push({
      line,
      date,
      season,
      neutral: cell('neutral') === '1',
      playoff: type === 'Play Offs',
      home,
      away,
      score: scored ? { home: Number(p1), away: Number(p2) } : undefined,
      reference: hasLine ? { market: devigMoneyline(m1, m2) } : undefined,
    });
  }
  // Stable within a date: the file's order inside one day carries no meaning we rely on.
  return direction < 0 ? games.reverse() : games;
}

/**
 * Adds the market probability of `lines` (e.g. OddsPortal) to `games` (e.g. 538's file), matched
 * on date (±1 day: sources disagree on late kick-offs' dates) and final score, so no team-name table
 * is needed; a line whose home and away are swapped is turned around. Returns how many matched.
 */
export function attachMarketLines(games: Game[], lines: readonly Game[]): number {
  const byKey = new Map<string, Game[]>();
  const key = (date: string, a: number, b: number) => `${date}|${Math.min(a, b)}|${Math.max(a, b)}`;
  for (const l of lines) if (l.score && l.reference?.market !== undefined) byKey.set(key(l.date, l.score.home, l.score.away), [...(byKey.get(key(l.date, l.score.home, l.score.away)) ?? []), l]);
  let matched = 0;
  for (const g of games) {
    if (!g.score || g.score.home === g.score.away) continue;
    const day = Date.parse(`${g.date}T00:00:00Z`);
    const candidates = [-1, 0, 1].flatMap((d) => byKey.get(key(new Date(day + d * 86_400_000).toISOString().slice(0, 10), g.score!.home, g.score!.away)) ?? []);
    if (candidates.length !== 1) continue;
    const line = candidates[0]!;
    const p = line.reference!.market!;
    g.reference = { ...g.reference, market: line.score!.home === g.score.home ? p : 1 - p };
    matched++;
  }
  return matched;
}

/**
 * Adds FiveThirtyEight's published probabilities (`forecasts-538/nba_games_*.csv`: season, date,
 * team1 (home), team2, prob1 with nicknames such as "Trail Blazers") to NBA games, matched on date
 * (±1 day) and both teams; a row with the sides swapped is turned around. Returns how many matched.
 */
export function attachFiveThirtyEightForecasts(games: Game[], text: string, what = 'forecasts file'): number {
  const table = parseCsv(text, what);
  const col = columnIndex(table, ['date', 'team1', 'team2', 'prob1'], what);
  const codeOf = (nickname: string) => Object.entries(NBA_TEAMS).find(([name]) => name.endsWith(` ${nickname}`))?.[1];
  const byKey = new Map<string, number>();
  for (const { line, cells } of table.rows) {
    const [date, home, away] = [isoDate(cells[col.date] ?? ''), codeOf(cells[col.team1]?.trim() ?? ''), codeOf(cells[col.team2]?.trim() ?? '')];
    const p = Number(cells[col.prob1]);
    if (!date) throw new DataFileError(`${what} line ${line}, column date: not a date: ${JSON.stringify(cells[col.date])}`);
    if (!home) throw new DataFileError(`${what} line ${line}, column team1: unknown NBA team ${JSON.stringify(cells[col.team1])}`);
    if (!away) throw new DataFileError(`${what} line ${line}, column team2: unknown NBA team ${JSON.stringify(cells[col.team2])}`);
    if (!(p >= 0 && p <= 1)) throw new DataFileError(`${what} line ${line}, column prob1: not a probability: ${JSON.stringify(cells[col.prob1])}`);
    byKey.set(`${date}|${home}|${away}`, p);
  }
  let matched = 0;
  for (const g of games) {
    const day = Date.parse(`${g.date}T00:00:00Z`);
    for (const d of [0, -1, 1]) {
      const date = new Date(day + d * 86_400_000).toISOString().slice(0, 10);
      const same = byKey.get(`${date}|${g.home}|${g.away}`);
      const swapped = byKey.get(`${date}|${g.away}|${g.home}`);
      const p = same ?? (swapped === undefined ? undefined : 1 - swapped);
      if (p === undefined) continue;
      g.reference = { ...g.reference, fiveThirtyEight: p };
      matched++;
      break;
    }
  }
  return matched;
}
