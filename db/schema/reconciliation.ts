import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Every difference a reconciliation found between a venue and Kestrel's records, and what was done about it. */
export const reconciliationEvents = pgTable(
  'reconciliation_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** One reconciliation run (all its rows share it). */
    runId: text('run_id').notNull(),
    venue: text('venue').notNull(),
    /** What started it: start, reconnect, timer, cli. */
    trigger: text('trigger').notNull(),
    kind: text('kind').notNull(),
    market: text('market'),
    clientOrderId: text('client_order_id'),
    /** applied, cancelled, reported. */
    action: text('action').notNull(),
    details: jsonb('details').notNull(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [index('reconciliation_events_at_idx').on(t.at)],
);
