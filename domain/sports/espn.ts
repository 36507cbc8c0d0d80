import { z } from 'zod';
import { describeIssues } from '../validation';
import type { League } from './games';
import type { GameKey } from './game-key';
import { teamKey } from './teams';

/** ESPN's site API path per league (soccer: the English Premier League unless configured). */
export const ESPN_PATHS: Record<League, string> = { nfl: 'football/nfl', nba: 'basketball/nba', mlb: 'baseball/mlb', nhl: 'hockey/nhl', soccer: 'soccer/eng.1' };

/** The port the poller reads games through (ESPN over HTTP in production, recorded files in tests). */
export interface GameDataSource {
  scoreboard(league: League, date?: string): Promise<unknown>;
  summary(league: League, eventId: string): Promise<unknown>;
}

export type GamePhase = 'pre' | 'in' | 'post';

/** One game as ESPN reports it at one moment. */
export interface GameState {
  league: League;
  espnId: string;
  /** Scheduled start, ISO UTC. */
  startTime: string;
  phase: GamePhase;
  completed: boolean;
  detail: string;
  period: number;
  clock: string;
  neutral: boolean;
  home: { abbreviation: string; name: string; score: number };
  away: { abbreviation: string; name: string; score: number };
  /** Joins Kalshi markets and model predictions: the US (Eastern) date, away and home codes. */
  key: GameKey;
  /** ESPN's home win probability, when a summary carries one (latest play). */
  homeWinProbability?: number;
}

const competitor = z.object({
  homeAway: z.enum(['home', 'away']),
  score: z.union([z.string(), z.number()]).optional(),
  team: z.object({ abbreviation: z.string().min(1), displayName: z.string().min(1) }),
});
const status = z.object({ displayClock: z.string().optional(), period: z.number().optional(), type: z.object({ state: z.enum(['pre', 'in', 'post']), completed: z.boolean(), detail: z.string().optional(), shortDetail: z.string().optional() }) });
const competition = z.object({ date: z.string().optional(), neutralSite: z.boolean().optional(), competitors: z.array(competitor), status: status.optional() });
const scoreboardEvent = z.object({ id: z.string().min(1), date: z.string().min(1), competitions: z.array(competition).min(1), status: status.optional() });
const scoreboard = z.object({ events: z.array(z.unknown()) });
const summary = z.object({ header: z.object({ id: z.string().min(1), competitions: z.array(competition.extend({ date: z.string().min(1) })).min(1) }), winprobability: z.array(z.object({ homeWinPercentage: z.number() })).optional() });

/** The US Eastern calendar date of a start time: 6 h back from UTC puts every evening game on its local date. */
export function usGameDate(startTimeIso: string): string | undefined {
  const ms = Date.parse(startTimeIso);
  return Number.isFinite(ms) ? new Date(ms - 6 * 3_600_000).toISOString().slice(0, 10) : undefined;
}

function toState(league: League, espnId: string, startTime: string, c: z.infer<typeof competition>, eventStatus?: z.infer<typeof status>): GameState | string {
  const home = c.competitors.find((t) => t.homeAway === 'home');
  const away = c.competitors.find((t) => t.homeAway === 'away');
  if (!home || !away) return `event ${espnId}: missing ${!home ? 'home' : 'away'} team`;
  const st = c.status ?? eventStatus;
  if (!st) return `event ${espnId}: no status`;
  const score = (s: string | number | undefined) => (s === undefined || s === '' ? 0 : Number(s));
  const [hs, as] = [score(home.score), score(away.score)];
  if (!Number.isFinite(hs) || !Number.isFinite(as)) return `event ${espnId}: non-numeric score`;
  const date = usGameDate(startTime);
  if (!date) return `event ${espnId}: bad start time ${JSON.stringify(startTime)}`;
  return {
    league,
    espnId,
    startTime: new Date(Date.parse(startTime)).toISOString(),
    phase: st.type.state,
    completed: st.type.completed,
    detail: st.type.shortDetail ?? st.type.detail ?? '',
    period: st.period ?? 0,
    clock: st.displayClock ?? '',
    neutral: c.neutralSite ?? false,
    home: { abbreviation: home.team.abbreviation, name: home.team.displayName, score: hs },
    away: { abbreviation: away.team.abbreviation, name: away.team.displayName, score: as },
    // ESPN's codes differ from Kalshi's (GS / GSW): the NBA key comes from the full team name.
    key: { league, date, away: (league === 'nba' && teamKey(league, away.team.displayName)) || away.team.abbreviation, home: (league === 'nba' && teamKey(league, home.team.displayName)) || home.team.abbreviation },
  };
}

export interface ParsedGames {
  games: GameState[];
  /** Events that did not have the expected shape: counted and described, never thrown. */
  problems: string[];
}

/** A scoreboard response → game states; malformed events are reported one by one, the rest kept. */
export function parseScoreboard(payload: unknown, league: League): ParsedGames {
  const top = scoreboard.safeParse(payload);
  if (!top.success) return { games: [], problems: [`scoreboard: ${describeIssues(top.error.issues, 3)}`] };
  const games: GameState[] = [];
  const problems: string[] = [];
  top.data.events.forEach((raw, i) => {
    const e = scoreboardEvent.safeParse(raw);
    if (!e.success) return void problems.push(`event #${i}: ${describeIssues(e.error.issues, 3)}`);
    const state = toState(league, e.data.id, e.data.competitions[0]!.date ?? e.data.date, e.data.competitions[0]!, e.data.status);
    if (typeof state === 'string') problems.push(state);
    else games.push(state);
  });
  return { games, problems };
}

/** A game summary response → its state, with ESPN's latest home win probability. */
export function parseSummary(payload: unknown, league: League): ParsedGames {
  const s = summary.safeParse(payload);
  if (!s.success) return { games: [], problems: [`summary: ${describeIssues(s.error.issues, 3)}`] };
  const c = s.data.header.competitions[0]!;
  const state = toState(league, s.data.header.id, c.date, c);
  if (typeof state === 'string') return { games: [], problems: [state] };
  const last = s.data.winprobability?.at(-1);
  if (last) state.homeWinProbability = last.homeWinPercentage;
  return { games: [state], problems: [] };
}

export interface DataQualityIssue {
  kind: 'score_backwards' | 'phase_backwards' | 'stale_feed' | 'malformed_payload';
  espnId?: string;
  detail: string;
}

const PHASE_ORDER: Record<GamePhase, number> = { pre: 0, in: 1, post: 2 };

/** What a new report of a game contradicts in the previous one (scores and phase only move forward). */
export function transitionIssues(previous: GameState | undefined, next: GameState): DataQualityIssue[] {
  if (!previous) return [];
  const issues: DataQualityIssue[] = [];
  if (next.home.score < previous.home.score || next.away.score < previous.away.score)
    issues.push({ kind: 'score_backwards', espnId: next.espnId, detail: `${next.away.abbreviation}@${next.home.abbreviation}: ${previous.away.score}-${previous.home.score} → ${next.away.score}-${next.home.score}` });
  if (PHASE_ORDER[next.phase] < PHASE_ORDER[previous.phase]) issues.push({ kind: 'phase_backwards', espnId: next.espnId, detail: `${next.away.abbreviation}@${next.home.abbreviation}: ${previous.phase} → ${next.phase}` });
  return issues;
}

/** A game in play whose report has not changed for longer than `staleMs` (the feed may be stuck). */
export function staleIssues(games: readonly { state: GameState; changedAtMs: number }[], nowMs: number, staleMs: number): DataQualityIssue[] {
  return games
    .filter((g) => g.state.phase === 'in' && nowMs - g.changedAtMs > staleMs)
    .map((g) => ({ kind: 'stale_feed' as const, espnId: g.state.espnId, detail: `${g.state.away.abbreviation}@${g.state.home.abbreviation} in play, unchanged for ${Math.round((nowMs - g.changedAtMs) / 1000)} s` }));
}

/** Poll faster while any game is in play (or about to start), slower otherwise. */
export function pollDelayMs(games: readonly GameState[], nowMs: number, cadence: { liveMs: number; idleMs: number; startingSoonMs: number }): number {
  const live = games.some((g) => g.phase === 'in' || (g.phase === 'pre' && Date.parse(g.startTime) - nowMs <= cadence.startingSoonMs && Date.parse(g.startTime) > nowMs - 6 * 3_600_000));
  return live ? cadence.liveMs : cadence.idleMs;
}
