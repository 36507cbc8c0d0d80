import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { currentGameStates, upsertGameState } from '../../db/game-states-repo';
import type { AlertSink } from '../../domain/alerts';
import type { Clock } from '../../domain/clock';
import { type DataQualityIssue, type GameDataSource, type GameState, parseScoreboard, parseSummary, pollDelayMs, staleIssues, transitionIssues } from '../../domain/sports/espn';
import type { League } from '../../domain/sports/games';

/** Poll cadence: fast while a game is in play or starts within `startingSoonMs`, slow otherwise. */
export interface GamePollingSettings {
  leagues: League[];
  liveMs: number;
  idleMs: number;
  startingSoonMs: number;
  /** A game in play whose report has not changed for this long is reported as a stale feed. */
  staleMs: number;
}

export const DEFAULT_GAME_POLLING: GamePollingSettings = { leagues: ['nba', 'nfl'], liveMs: 15_000, idleMs: 300_000, startingSoonMs: 30 * 60_000, staleMs: 180_000 };

export interface LeaguePollResult {
  league: League;
  games: GameState[];
  inserted: number;
  versioned: number;
  unchanged: number;
  /** Events (or whole payloads) without the expected shape, and failed requests: counted, logged, never thrown. */
  malformed: number;
  fetchFailed: boolean;
  issues: DataQualityIssue[];
}

export interface GamePollDeps {
  db: Database;
  source: GameDataSource;
  clock: Clock;
  alert?: AlertSink;
  log: (line: string) => void;
}

/** One scoreboard poll of a league (plus summaries of games in play): parse, store as SCD-2 game states, check data quality, alert. */
export async function pollLeague(deps: GamePollDeps, league: League, staleMs: number): Promise<LeaguePollResult> {
  const result: LeaguePollResult = { league, games: [], inserted: 0, versioned: 0, unchanged: 0, malformed: 0, fetchFailed: false, issues: [] };
  let payload: unknown;
  try {
    payload = await deps.source.scoreboard(league);
  } catch (e) {
    deps.log(`ESPN ${league} scoreboard request failed: ${(e as Error).message}`);
    return { ...result, fetchFailed: true };
  }
  const parsed = parseScoreboard(payload, league);
  result.malformed = parsed.problems.length;
  for (const problem of parsed.problems) {
    deps.log(`ESPN ${league} scoreboard: unexpected shape: ${problem}`);
    result.issues.push({ kind: 'malformed_payload', detail: problem });
  }
  // Games in play: the summary adds ESPN's current home win probability.
  for (const game of parsed.games.filter((g) => g.phase === 'in')) {
    try {
      const summary = parseSummary(await deps.source.summary(league, game.espnId), league);
      const live = summary.games.find((g) => g.espnId === game.espnId);
      if (live?.homeWinProbability !== undefined) game.homeWinProbability = live.homeWinProbability;
      else {
        const problem = summary.problems[0] ?? `summary of event ${game.espnId} is for another event or has no win probability`;
        result.malformed++;
        deps.log(`ESPN ${league} summary: unexpected shape: ${problem}`);
        result.issues.push({ kind: 'malformed_payload', espnId: game.espnId, detail: problem });
      }
    } catch (e) {
      deps.log(`ESPN ${league} summary ${game.espnId} request failed: ${(e as Error).message}`);
    }
  }
  const nowMs = deps.clock.nowMs();
  for (const game of parsed.games) {
    const upsert = await upsertGameState(deps.db, game, nowMs);
    result[upsert.outcome]++;
    result.issues.push(...transitionIssues(upsert.previous, game));
  }
  result.games = parsed.games;
  result.issues.push(...staleIssues(await currentGameStates(deps.db, league), nowMs, staleMs));
  for (const issue of result.issues)
    deps.alert?.({ kind: 'game_data', severity: 'warning', title: `${league.toUpperCase()} game data: ${issue.kind.replace(/_/g, ' ')}`, detail: issue.detail, key: `game_data:${league}:${issue.kind}:${issue.espnId ?? 'feed'}` });
  return result;
}

/**
 * A BullMQ job scheduler polls every configured league; after each poll the scheduler's interval
 * becomes `liveMs` or `idleMs` depending on whether any game is in play (or about to be).
 */
export async function startGamePoller(opts: GamePollDeps & { connection: Redis; workerConnection: Redis; prefix: string; settings: GamePollingSettings }) {
  const name = 'kestrel-sports-games';
  const schedulerId = 'espn-scoreboards';
  const queue = new Queue<Record<string, never>, LeaguePollResult[]>(name, { connection: opts.connection, prefix: opts.prefix });
  let everyMs = opts.settings.idleMs;
  const schedule = (every: number) => queue.upsertJobScheduler(schedulerId, { every }, { name: 'poll', data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } });
  await schedule(everyMs);
  const worker = new Worker<Record<string, never>, LeaguePollResult[]>(
    name,
    async () => {
      const results: LeaguePollResult[] = [];
      for (const league of opts.settings.leagues) results.push(await pollLeague(opts, league, opts.settings.staleMs));
      const wanted = pollDelayMs(results.flatMap((r) => r.games), opts.clock.nowMs(), opts.settings);
      if (wanted !== everyMs) {
        everyMs = wanted;
        await schedule(everyMs);
        opts.log(`ESPN polling every ${everyMs / 1000} s (${everyMs === opts.settings.liveMs ? 'games in play' : 'no game in play'})`);
      }
      return results;
    },
    { connection: opts.workerConnection, prefix: opts.prefix, concurrency: 1 },
  );
  worker.on('failed', (_job, err) => opts.log(`ESPN poll failed: ${err.message}`));
  return {
    queue,
    worker,
    currentEveryMs: () => everyMs,
    /** Puts the scheduler back (at the current interval) after Redis came back without it. */
    ensureScheduler: async () => void (await schedule(everyMs)),
    async close() {
      await worker.close();
      await queue.removeJobScheduler(schedulerId);
      await queue.close();
    },
  };
}
