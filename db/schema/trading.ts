import { bigint, bigserial, index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** One row per position workflow; `state` holds the trailing stop and staging state (JSONB). */
export const positions = pgTable('positions', {
  positionId: text('position_id').primaryKey(),
  strategyId: text('strategy_id').notNull(),
  venue: text('venue').notNull(),
  marketTicker: text('market_ticker').notNull(),
  outcome: text('outcome').notNull(),
  status: text('status').notNull(),
  entryPrice: numeric('entry_price', { precision: 12, scale: 4 }),
  size: numeric('size', { precision: 24, scale: 6 }).notNull().default('0'),
  remainingSize: numeric('remaining_size', { precision: 24, scale: 6 }).notNull().default('0'),
  realizedPnl: numeric('realized_pnl', { precision: 18, scale: 6 }).notNull().default('0'),
  fees: numeric('fees', { precision: 18, scale: 6 }).notNull().default('0'),
  state: jsonb('state').notNull(),
  /** Provenance: which strategy version, model version and signal caused this position. */
  strategyVersionId: bigint('strategy_version_id', { mode: 'number' }),
  modelVersionId: bigint('model_version_id', { mode: 'number' }),
  signalId: text('signal_id'),
  openedAt: timestamp('opened_at', { withTimezone: true, precision: 3 }),
  closedAt: timestamp('closed_at', { withTimezone: true, precision: 3 }),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** Every order sent to a venue, keyed by its deterministic client order id (a retry can never add a row). */
export const orders = pgTable(
  'orders',
  {
    clientOrderId: text('client_order_id').primaryKey(),
    positionId: text('position_id').notNull(),
    venue: text('venue').notNull(),
    venueOrderId: text('venue_order_id'),
    marketTicker: text('market_ticker').notNull(),
    purpose: text('purpose').notNull(),
    outcome: text('outcome').notNull(),
    action: text('action').notNull(),
    limitPrice: numeric('limit_price', { precision: 12, scale: 4 }).notNull(),
    size: numeric('size', { precision: 24, scale: 6 }).notNull(),
    timeInForce: text('time_in_force').notNull(),
    status: text('status').notNull(),
    filledSize: numeric('filled_size', { precision: 24, scale: 6 }).notNull().default('0'),
    averagePrice: numeric('average_price', { precision: 12, scale: 6 }),
    fees: numeric('fees', { precision: 18, scale: 6 }).notNull().default('0'),
    /** The market_snapshots row (SCD-2) current when the order was sent. */
    marketSnapshotId: bigint('market_snapshot_id', { mode: 'number' }),
    submittedAt: timestamp('submitted_at', { withTimezone: true, precision: 3 }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('orders_position_idx').on(t.positionId)],
);

export const fills = pgTable(
  'fills',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    clientOrderId: text('client_order_id').notNull(),
    seq: integer('seq').notNull(),
    price: numeric('price', { precision: 12, scale: 4 }).notNull(),
    size: numeric('size', { precision: 24, scale: 6 }).notNull(),
    liquidity: text('liquidity').notNull(),
    fee: numeric('fee', { precision: 18, scale: 6 }).notNull(),
    filledAt: timestamp('filled_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [uniqueIndex('fills_order_seq_uq').on(t.clientOrderId, t.seq)],
);

/** Every exit attempt: what was sent, how long it was given, what came back. */
export const exitAttempts = pgTable(
  'exit_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    positionId: text('position_id').notNull(),
    exitNo: integer('exit_no').notNull(),
    attemptNo: integer('attempt_no').notNull(),
    reason: text('reason').notNull(),
    urgency: text('urgency').notNull(),
    orderType: text('order_type').notNull(),
    limitPrice: numeric('limit_price', { precision: 12, scale: 4 }).notNull(),
    timeoutMs: integer('timeout_ms').notNull(),
    clientOrderId: text('client_order_id').notNull(),
    filledSize: numeric('filled_size', { precision: 24, scale: 6 }).notNull(),
    outcome: text('outcome').notNull(),
    attemptedAt: timestamp('attempted_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [uniqueIndex('exit_attempts_uq').on(t.positionId, t.exitNo, t.attemptNo)],
);

/** A finished exit (full or partial) with every condition that was triggered when it was decided. */
export const positionExits = pgTable(
  'position_exits',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    positionId: text('position_id').notNull(),
    exitNo: integer('exit_no').notNull(),
    reason: text('reason').notNull(),
    urgency: text('urgency').notNull(),
    requestedSize: numeric('requested_size', { precision: 24, scale: 6 }).notNull(),
    filledSize: numeric('filled_size', { precision: 24, scale: 6 }).notNull(),
    averagePrice: numeric('average_price', { precision: 12, scale: 6 }),
    fees: numeric('fees', { precision: 18, scale: 6 }).notNull(),
    realizedPnl: numeric('realized_pnl', { precision: 18, scale: 6 }).notNull(),
    attempts: integer('attempts').notNull(),
    triggered: jsonb('triggered').notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [uniqueIndex('position_exits_uq').on(t.positionId, t.exitNo)],
);
