import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { gameKeyId } from '../domain/sports/game-key';
import type { GameState } from '../domain/sports/espn';
import type { League } from '../domain/sports/games';
import type { Database } from './client';
import { inTransaction } from './transactions';
import { gameStates } from './schema';

/** Everything a report says; any change makes a new version. */
const stateHash = (s: GameState) => createHash('sha256').update(JSON.stringify([s.phase, s.completed, s.home, s.away, s.period, s.clock, s.detail, s.startTime, s.neutral, s.homeWinProbability ?? null])).digest('hex');

export interface GameStateUpsert {
  outcome: 'inserted' | 'versioned' | 'unchanged';
  /** The current report before this one (for the data-quality checks). */
  previous?: GameState;
  /** When the current report last changed. */
  changedAtMs: number;
}

/** SCD-2 upsert of one game's report, atomically (same rules as `market_snapshots`). */
export async function upsertGameState(db: Database, state: GameState, observedAtMs: number): Promise<GameStateUpsert> {
  const hash = stateHash(state);
  const at = new Date(observedAtMs);
  return inTransaction(db, async (tx) => {
    const [current] = await tx
      .select({ id: gameStates.id, hash: gameStates.stateHash, state: gameStates.state, effectiveTs: gameStates.effectiveTs })
      .from(gameStates)
      .where(and(eq(gameStates.league, state.league), eq(gameStates.espnId, state.espnId), eq(gameStates.rowCurrentInd, true)))
      .for('update');
    const previous = current?.state as GameState | undefined;
    if (current?.hash === hash) return { outcome: 'unchanged', previous, changedAtMs: current.effectiveTs.getTime() };
    if (current) await tx.update(gameStates).set({ rowCurrentInd: false, expirationTs: at }).where(eq(gameStates.id, current.id));
    await tx.insert(gameStates).values({
      league: state.league,
      espnId: state.espnId,
      gameKey: gameKeyId(state.key),
      phase: state.phase,
      completed: state.completed,
      homeTeam: state.key.home,
      awayTeam: state.key.away,
      homeScore: state.home.score,
      awayScore: state.away.score,
      period: state.period,
      clock: state.clock,
      detail: state.detail,
      startTime: new Date(state.startTime),
      homeWinProbability: state.homeWinProbability ?? null,
      stateHash: hash,
      effectiveTs: at,
      state: sql`${JSON.stringify(state)}::jsonb`,
    });
    return { outcome: current ? 'versioned' : 'inserted', previous, changedAtMs: observedAtMs };
  });
}

/** The current report of every game of a league. */
export async function currentGameStates(db: Database, league: League): Promise<{ state: GameState; changedAtMs: number }[]> {
  const rows = await db.select({ state: gameStates.state, effectiveTs: gameStates.effectiveTs }).from(gameStates).where(and(eq(gameStates.league, league), eq(gameStates.rowCurrentInd, true)));
  return rows.map((r) => ({ state: r.state as GameState, changedAtMs: r.effectiveTs.getTime() }));
}
