import { sql } from 'drizzle-orm';
import { bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Live game states from ESPN as SCD-2 rows, like `market_snapshots`: an unchanged report is a no-op,
 * a change expires the current row and adds a new current one. `game_key` joins Kalshi markets and
 * model predictions (`nba:2025-10-21:HOU@OKC`).
 */
export const gameStates = pgTable(
  'game_states',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    league: text('league').notNull(),
    espnId: text('espn_id').notNull(),
    gameKey: text('game_key').notNull(),
    phase: text('phase').notNull(),
    completed: boolean('completed').notNull(),
    homeTeam: text('home_team').notNull(),
    awayTeam: text('away_team').notNull(),
    homeScore: integer('home_score').notNull(),
    awayScore: integer('away_score').notNull(),
    period: integer('period').notNull(),
    clock: text('clock').notNull(),
    detail: text('detail').notNull(),
    startTime: timestamp('start_time', { withTimezone: true, precision: 3 }).notNull(),
    homeWinProbability: doublePrecision('home_win_probability'),
    stateHash: text('state_hash').notNull(),
    effectiveTs: timestamp('effective_ts', { withTimezone: true, precision: 3 }).notNull(),
    expirationTs: timestamp('expiration_ts', { withTimezone: true, precision: 3 }),
    rowCurrentInd: boolean('row_current_ind').notNull().default(true),
    /** The parsed report (what the poller compares against the next one). */
    state: jsonb('state').notNull(),
  },
  (t) => [
    uniqueIndex('game_states_current_uq').on(t.league, t.espnId).where(sql`${t.rowCurrentInd}`),
    index('game_states_key_idx').on(t.gameKey, t.effectiveTs),
  ],
);
