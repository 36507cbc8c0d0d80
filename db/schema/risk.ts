import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** The risk manager's state (mode, breakers, daily P&L, loss streak, venue error counts), one row per scope. */
export const riskState = pgTable('risk_state', {
  scope: text('scope').primaryKey(),
  state: jsonb('state').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Every risk decision that is not a plain "allowed": denials, breaker trips, mode changes, resets. */
export const riskEvents = pgTable(
  'risk_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').notNull(),
    rule: text('rule').notNull(),
    reason: text('reason').notNull(),
    positionId: text('position_id'),
    market: text('market'),
    details: jsonb('details'),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('risk_events_at_idx').on(t.at)],
);
