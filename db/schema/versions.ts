import { bigint, bigserial, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Immutable strategy versions: to change a strategy's configuration you create a new version.
 * The database refuses UPDATE and DELETE on this table (trigger in migration 0005); status lives in
 * the append-only `strategy_version_status` log.
 */
export const strategyVersions = pgTable(
  'strategy_versions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    strategyName: text('strategy_name').notNull(),
    version: text('version').notNull(),
    config: jsonb('config').notNull(),
    configHash: text('config_hash').notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('strategy_versions_name_version_uq').on(t.strategyName, t.version)],
);

export const strategyVersionStatus = pgTable(
  'strategy_version_status',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    strategyVersionId: bigint('strategy_version_id', { mode: 'number' }).notNull().references(() => strategyVersions.id),
    status: text('status').notNull(),
    reason: text('reason'),
    changedAt: timestamp('changed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('strategy_version_status_idx').on(t.strategyVersionId, t.id)],
);

/** Immutable probability-model versions (parameters, training window, metrics), same rules as strategies. */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelName: text('model_name').notNull(),
    version: text('version').notNull(),
    parameters: jsonb('parameters').notNull(),
    metrics: jsonb('metrics').notNull(),
    parametersHash: text('parameters_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('model_versions_name_version_uq').on(t.modelName, t.version)],
);

export const modelVersionStatus = pgTable(
  'model_version_status',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    modelVersionId: bigint('model_version_id', { mode: 'number' }).notNull().references(() => modelVersions.id),
    status: text('status').notNull(),
    reason: text('reason'),
    changedAt: timestamp('changed_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('model_version_status_idx').on(t.modelVersionId, t.id)],
);

/** Every retraining run (scheduled or manual) and what it decided. */
export const retrainingRuns = pgTable(
  'retraining_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: text('workflow_id').notNull(),
    modelName: text('model_name').notNull(),
    /** promoted | rejected | unchanged | insufficient_data */
    status: text('status').notNull(),
    modelVersionId: bigint('model_version_id', { mode: 'number' }),
    activeVersionId: bigint('active_version_id', { mode: 'number' }),
    inSample: doublePrecision('in_sample'),
    outOfSample: doublePrecision('out_of_sample'),
    activeOutOfSample: doublePrecision('active_out_of_sample'),
    trainOutcomes: integer('train_outcomes').notNull(),
    testOutcomes: integer('test_outcomes').notNull(),
    reason: text('reason').notNull(),
    trainFrom: timestamp('train_from', { withTimezone: true, precision: 3 }).notNull(),
    testFrom: timestamp('test_from', { withTimezone: true, precision: 3 }).notNull(),
    testTo: timestamp('test_to', { withTimezone: true, precision: 3 }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index('retraining_runs_model_idx').on(t.modelName, t.id)],
);
