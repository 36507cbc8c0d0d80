import { sql } from 'drizzle-orm';
import { bigserial, boolean, date, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Public trade prints as ingested from a venue or a replayed recording. Idempotent on (venue, trade_id). */
export const tradePrints = pgTable(
  'trade_prints',
  {
    venue: text('venue').notNull(),
    tradeId: text('trade_id').notNull(),
    marketTicker: text('market_ticker').notNull(),
    yesPrice: numeric('yes_price', { precision: 12, scale: 4 }).notNull(),
    count: numeric('count', { precision: 24, scale: 6 }).notNull(),
    takerSide: text('taker_side').notNull(),
    exchangeTs: timestamp('exchange_ts', { withTimezone: true, precision: 3 }).notNull(),
    /** Which ingestion batch (and so which Temporal workflow) wrote the row. */
    batchId: text('batch_id').notNull(),
    ingestedAt: timestamp('ingested_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.venue, t.tradeId] }), index('trade_prints_market_ts_idx').on(t.marketTicker, t.exchangeTs)],
);

/** Sampled top of book + last trade per market (see BookStore); idempotent on (market, ts, source). */
export const priceHistory = pgTable(
  'price_history',
  {
    marketTicker: text('market_ticker').notNull(),
    ts: timestamp('ts', { withTimezone: true, precision: 3 }).notNull(),
    source: text('source').notNull(),
    yesBid: numeric('yes_bid', { precision: 12, scale: 4 }),
    yesAsk: numeric('yes_ask', { precision: 12, scale: 4 }),
    lastPrice: numeric('last_price', { precision: 12, scale: 4 }),
    cumulativeVolume: numeric('cumulative_volume', { precision: 24, scale: 6 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.marketTicker, t.ts, t.source] }), index('price_history_ts_idx').on(t.ts)],
);

/** Daily roll-up of price_history (kept after raw rows pass retention). */
export const priceHistoryDaily = pgTable(
  'price_history_daily',
  {
    marketTicker: text('market_ticker').notNull(),
    day: date('day').notNull(),
    source: text('source').notNull(),
    openMid: numeric('open_mid', { precision: 12, scale: 4 }),
    highMid: numeric('high_mid', { precision: 12, scale: 4 }),
    lowMid: numeric('low_mid', { precision: 12, scale: 4 }),
    closeMid: numeric('close_mid', { precision: 12, scale: 4 }),
    lastPrice: numeric('last_price', { precision: 12, scale: 4 }),
    volume: numeric('volume', { precision: 24, scale: 6 }).notNull(),
    points: integer('points').notNull(),
  },
  (t) => [primaryKey({ columns: [t.marketTicker, t.day, t.source] })],
);

/**
 * SCD type 2 market metadata: a change of any tracked attribute closes the current row
 * (expiration_ts, row_current_ind = false) and opens a new one. One current row per market.
 */
export const marketSnapshots = pgTable(
  'market_snapshots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    venue: text('venue').notNull(),
    marketTicker: text('market_ticker').notNull(),
    eventTicker: text('event_ticker'),
    status: text('status').notNull(),
    attributes: jsonb('attributes').notNull(),
    attributesHash: text('attributes_hash').notNull(),
    effectiveTs: timestamp('effective_ts', { withTimezone: true, precision: 3 }).notNull(),
    expirationTs: timestamp('expiration_ts', { withTimezone: true, precision: 3 }),
    rowCurrentInd: boolean('row_current_ind').notNull().default(true),
  },
  (t) => [
    uniqueIndex('market_snapshots_current_uq').on(t.venue, t.marketTicker).where(sql`${t.rowCurrentInd}`),
    index('market_snapshots_market_idx').on(t.venue, t.marketTicker, t.effectiveTs),
  ],
);
