import type { League } from './games';
import { NBA_CODES } from './teams';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Kalshi game series by league (one "team X wins" market per team per game). */
export const GAME_SERIES: Partial<Record<League, string>> = { nba: 'KXNBAGAME', nfl: 'KXNFLGAME', mlb: 'KXMLBGAME', nhl: 'KXNHLGAME' };

/** The identity of a game that joins Kalshi markets, ESPN games and model predictions. */
export interface GameKey {
  league: League;
  /** Local game date, YYYY-MM-DD. */
  date: string;
  away: string;
  home: string;
}

export interface GameMarket extends GameKey {
  ticker: string;
  /** The team whose win the YES side pays on. */
  yesTeam: string;
}

export const gameKeyId = (k: GameKey) => `${k.league}:${k.date}:${k.away}@${k.home}`;

/**
 * Parses a Kalshi game ticker, `KXNBAGAME-25OCT21HOUOKC-OKC`: series, then yy MON dd, away code,
 * home code, then the YES team. Returns a reason instead of a key when it is not one.
 */
export function parseGameTicker(ticker: string): GameMarket | { error: string } {
  const m = /^([A-Z0-9]+)-(\d{2})([A-Z]{3})(\d{2})([A-Z]+)-([A-Z]+)$/.exec(ticker.trim());
  if (!m) return { error: `${JSON.stringify(ticker)} is not a game ticker like KXNBAGAME-25OCT21HOUOKC-OKC` };
  const [, series, yy, mon, dd, teams, yes] = m as unknown as [string, string, string, string, string, string, string];
  const league = (Object.entries(GAME_SERIES).find(([, s]) => s === series)?.[0] ?? undefined) as League | undefined;
  if (!league) return { error: `${ticker}: unknown game series ${series} (known: ${Object.values(GAME_SERIES).join(', ')})` };
  const month = MONTHS.indexOf(mon);
  const probe = new Date(Date.UTC(2000 + Number(yy), month, Number(dd)));
  if (month < 0 || probe.getUTCDate() !== Number(dd)) return { error: `${ticker}: bad date ${yy}${mon}${dd}` };
  // Team codes are 2–4 letters; the YES team must be one of the two, which fixes the split.
  const splits = [2, 3, 4].map((n) => [teams.slice(0, n), teams.slice(n)] as const).filter(([a, h]) => h.length >= 2 && h.length <= 4 && (a === yes || h === yes));
  const known = league === 'nba' ? splits.filter(([a, h]) => NBA_CODES.has(a) && NBA_CODES.has(h)) : splits;
  if (known.length !== 1) return { error: `${ticker}: cannot tell the two teams apart in ${teams} with YES team ${yes}` };
  const [away, home] = known[0]!;
  return { league, ticker, date: probe.toISOString().slice(0, 10), away, home, yesTeam: yes };
}

/** What a contract pays on, for the equivalence check before a trade. */
export interface ContractTerms {
  game: GameKey;
  /** The team whose win pays $1. */
  outcomeTeam: string;
  /** How the market settles: the official final result, overtime included. */
  settlement: 'final_result_incl_overtime' | 'regulation_only' | 'other';
}

/**
 * Same game, same outcome, same settlement rule: the model's probability is for this contract.
 * Returns the first difference, or undefined when equivalent.
 */
export function contractDifference(model: ContractTerms, market: ContractTerms): string | undefined {
  if (gameKeyId(model.game) !== gameKeyId(market.game)) return `different games: model ${gameKeyId(model.game)}, market ${gameKeyId(market.game)}`;
  if (model.outcomeTeam !== market.outcomeTeam) return `different outcomes: model prices ${model.outcomeTeam} winning, market pays on ${market.outcomeTeam}`;
  if (model.settlement !== market.settlement) return `different settlement rules: model ${model.settlement}, market ${market.settlement}`;
  return undefined;
}
