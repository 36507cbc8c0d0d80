import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Every action taken from the web console (allowed, refused or failed), with who took it. */
export const consoleActions = pgTable(
  'console_actions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    /** The operator name given at login (or `api` for a bearer-token client), and where the request came from. */
    actor: text('actor').notNull(),
    remoteAddress: text('remote_address'),
    /** exit, flatten-all, cancel-all, strategy-start, strategy-stop, risk-reset. */
    action: text('action').notNull(),
    /** What it acted on: a position or strategy run id, a strategy name; null for all-positions actions. */
    target: text('target'),
    params: jsonb('params').notNull(),
    /** ok, rejected (the engine refused it, e.g. an Update validator), failed (an error on the way). */
    outcome: text('outcome').notNull(),
    message: text('message').notNull(),
  },
  (t) => [index('console_actions_at_idx').on(t.at)],
);
