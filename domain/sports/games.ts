import { columnIndex, DataFileError, optionalColumn, parseCsv } from './csv';

export const LEAGUES = ['nfl', 'nba', 'mlb', 'nhl', 'soccer'] as const;
export type League = (typeof LEAGUES)[number];

/** One game as the models see it: team1 is home (or the designated home team at a neutral site). */
export interface Game {
  /** 1-based line in the source file, for error messages and tracing. */
  line: number;
  /** YYYY-MM-DD (the local game date as the source gives it). */
  date: string;
  season: number;
  neutral: boolean;
  playoff: boolean;
  home: string;
  away: string;
  /** Both scores, or neither (a game not played yet, rated forward but not scored). */
  score?: { home: number; away: number };
  /** The winner when the source has no score (a settled market); used only when `score` is absent. */
  homeWon?: boolean;
  /** Probabilities published by others for this game (references only; never model inputs). */
  reference?: { fiveThirtyEight?: number; market?: number };
}

/** 1 home win, 0 away win, 0.5 tie, undefined not played. */
export function homeResult(game: Game): 0 | 0.5 | 1 | undefined {
  if (!game.score) return game.homeWon === undefined ? undefined : game.homeWon ? 1 : 0;
  return game.score.home > game.score.away ? 1 : game.score.home < game.score.away ? 0 : 0.5;
}

/** `YYYY/M/D`, `YYYY-MM-DD` or `M/D/YYYY` → `YYYY-MM-DD`; undefined when it is not a real date. */
export function isoDate(text: string): string | undefined {
  const t = text.trim();
  let m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(t);
  let y: number, mo: number, d: number;
  if (m) [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  else if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t))) [y, mo, d] = [Number(m[3]), Number(m[1]), Number(m[2])];
  else return undefined;
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return undefined;
  return probe.toISOString().slice(0, 10);
}

const FLAG_TRUE = new Set(['1', '1.0', 'true', 'TRUE', 'True']);
const FLAG_FALSE = new Set(['', '0', '0.0', 'false', 'FALSE', 'False']);

/** Columns of FiveThirtyEight's game file that the models may read (never its elo* / qbelo* columns). */
export const GAME_COLUMNS = ['date', 'season', 'neutral', 'playoff', 'team1', 'team2', 'score1', 'score2'] as const;

/**
 * Parses a games file in the format of 538's `nfl_elo.csv`. Only `GAME_COLUMNS` are read, plus
 * `elo_prob1` as a reference when `withReferences` (the `models evaluate` side-by-side table).
 * Rows must run in date order; every problem names its line and column.
 */
export function parseGames538(text: string, options: { what?: string; withReferences?: boolean } = {}): Game[] {
  const what = options.what ?? 'games file';
  const table = parseCsv(text, what);
  const col = columnIndex(table, GAME_COLUMNS, what);
  const refCol = options.withReferences ? optionalColumn(table, 'elo_prob1') : undefined;
  const games: Game[] = [];
  for (const { line, cells } of table.rows) {
    const at = (name: string) => `${what} line ${line}, column ${name}`;
    const cell = (name: (typeof GAME_COLUMNS)[number]) => (cells[col[name]] ?? '').trim();
    // Only the columns read must be present: blanked or dropped trailing columns elsewhere are fine.
    const needed = Math.max(...GAME_COLUMNS.map((name) => col[name])) + 1;
    if (cells.length < needed) throw new DataFileError(`${what} line ${line}: ${cells.length} fields, the columns read need ${needed}`);
    const date = isoDate(cell('date'));
    if (!date) throw new DataFileError(`${at('date')}: not a date: ${JSON.stringify(cell('date'))}`);
    const season = Number(cell('season'));
    if (!/^\d{4}$/.test(cell('season'))) throw new DataFileError(`${at('season')}: not a season year: ${JSON.stringify(cell('season'))}`);
    const neutralText = cell('neutral');
    if (!FLAG_TRUE.has(neutralText) && !FLAG_FALSE.has(neutralText)) throw new DataFileError(`${at('neutral')}: expected 0 or 1, got ${JSON.stringify(neutralText)}`);
    const home = cell('team1');
    const away = cell('team2');
    if (!home) throw new DataFileError(`${at('team1')}: missing team`);
    if (!away) throw new DataFileError(`${at('team2')}: missing team`);
    if (home === away) throw new DataFileError(`${what} line ${line}: ${home} plays itself`);
    const [s1, s2] = [cell('score1'), cell('score2')];
    let score: Game['score'];
    if (s1 !== '' || s2 !== '') {
      const [h, a] = [Number(s1), Number(s2)];
      if (s1 === '' || !Number.isFinite(h) || h < 0) throw new DataFileError(`${at('score1')}: not a score: ${JSON.stringify(s1)}`);
      if (s2 === '' || !Number.isFinite(a) || a < 0) throw new DataFileError(`${at('score2')}: not a score: ${JSON.stringify(s2)}`);
      score = { home: h, away: a };
    }
    const previous = games[games.length - 1];
    if (previous && date < previous.date) throw new DataFileError(`${at('date')}: ${date} comes after ${previous.date} (line ${previous.line}); rows must run in date order`);
    const game: Game = { line, date, season, neutral: FLAG_TRUE.has(neutralText), playoff: !FLAG_FALSE.has(cell('playoff')), home, away, score };
    if (refCol !== undefined) {
      const p = Number(cells[refCol]);
      if (cells[refCol]?.trim() && Number.isFinite(p) && p >= 0 && p <= 1) game.reference = { fiveThirtyEight: p };
    }
    games.push(game);
  }
  return games;
}
