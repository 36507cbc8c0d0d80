import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Operator overrides of configuration keys; highest precedence (DB > env > YAML > defaults). */
export const configOverrides = pgTable('config_overrides', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  reason: text('reason'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
