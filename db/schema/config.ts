import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Operator overrides of configuration keys; highest precedence (DB > env > YAML > defaults). */
export const configOverrides = pgTable('config_overrides', {
  key: text('key').primaryKey(),
  /**
   * JSON text, encoded and decoded by db/config-overrides.ts. Not jsonb: drizzle's jsonb mapping over
   * postgres.js re-parses JSON strings, turning the decimal string "25000.50" into a float.
   */
  valueJson: text('value_json').notNull(),
  reason: text('reason'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
