import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, doublePrecision, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Every signal configuration ever used, by content hash: a signal row names the exact thresholds it was computed with. */
export const signalConfigs = pgTable('signal_configs', {
  hash: text('hash').primaryKey(),
  config: jsonb('config').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Detected signals with their inputs; idempotent on `signal_key` (type, market, exchange time). */
export const signals = pgTable(
  'signals',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    signalKey: text('signal_key').notNull().unique(),
    type: text('type').notNull(),
    marketTicker: text('market_ticker').notNull(),
    markets: text('markets').array().notNull(),
    category: text('category').notNull(),
    direction: text('direction'),
    /** Statistics (ratios, correlations), not money: floats are fine here. */
    strength: doublePrecision('strength').notNull(),
    confidence: doublePrecision('confidence').notNull(),
    priority: text('priority').notNull(),
    firedAt: timestamp('fired_at', { withTimezone: true, precision: 3 }).notNull(),
    midAtFire: numeric('mid_at_fire', { precision: 12, scale: 5 }),
    inputs: jsonb('inputs').notNull(),
    configHash: text('config_hash')
      .notNull()
      .references(() => signalConfigs.hash),
    /** Sent on to strategies (passed the actionable filter). */
    actionable: boolean('actionable').notNull().default(false),
    source: text('source').notNull(),
    detectedAt: timestamp('detected_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('signals_fired_idx').on(t.firedAt), index('signals_market_idx').on(t.marketTicker, t.firedAt)],
);

/** One row per signal and horizon (+10m, +30m, +1h, +4h): pending until the price at fired_at + horizon is known. */
export const signalOutcomes = pgTable(
  'signal_outcomes',
  {
    signalId: bigint('signal_id', { mode: 'number' })
      .notNull()
      .references(() => signals.id),
    horizonMs: integer('horizon_ms').notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, precision: 3 }).notNull(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, precision: 3 }),
    priceAfter: numeric('price_after', { precision: 12, scale: 5 }),
    /** Directional move in dollars (mids can fall on half a tick, hence 5 places) (positive = the signal was right). */
    move: numeric('move', { precision: 12, scale: 5 }),
    correct: boolean('correct'),
    /** 'price' (mid from price history at the due time) or 'settlement' (market settled before it). */
    resolvedBy: text('resolved_by'),
  },
  (t) => [primaryKey({ columns: [t.signalId, t.horizonMs] }), index('signal_outcomes_pending_idx').on(t.dueAt).where(sql`${t.resolvedAt} is null`)],
);

/** Which strategy runs take which signal types (the router sends actionable signals only there). */
export const strategyRuns = pgTable(
  'strategy_runs',
  {
    workflowId: text('workflow_id').primaryKey(),
    strategyVersionId: bigint('strategy_version_id', { mode: 'number' }).notNull(),
    venue: text('venue').notNull(),
    feed: text('feed').notNull(),
    signalTypes: text('signal_types').array().notNull(),
    categories: text('categories').array().notNull(),
    status: text('status').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    stoppedAt: timestamp('stopped_at', { withTimezone: true, precision: 3 }),
  },
  (t) => [index('strategy_runs_status_idx').on(t.status)],
);
