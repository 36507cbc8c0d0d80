import { index, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Public trade prints as ingested from a venue or a replayed recording. Idempotent on (venue, trade_id). */
export const tradePrints = pgTable(
  'trade_prints',
  {
    venue: text('venue').notNull(),
    tradeId: text('trade_id').notNull(),
    marketTicker: text('market_ticker').notNull(),
    yesPrice: numeric('yes_price', { precision: 12, scale: 4 }).notNull(),
    count: numeric('count', { precision: 18, scale: 2 }).notNull(),
    takerSide: text('taker_side').notNull(),
    exchangeTs: timestamp('exchange_ts', { withTimezone: true, precision: 3 }).notNull(),
    /** Which ingestion batch (and so which Temporal workflow) wrote the row. */
    batchId: text('batch_id').notNull(),
    ingestedAt: timestamp('ingested_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.venue, t.tradeId] }), index('trade_prints_market_ts_idx').on(t.marketTicker, t.exchangeTs)],
);
