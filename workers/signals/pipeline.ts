import type { Client } from '@temporalio/client';
import { Queue, Worker } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { KestrelConfig } from '../../config/schema';
import type { Database } from '../../db/client';
import { closeTimeMs } from '../../db/market-data-repo';
import { marketSnapshots } from '../../db/schema';
import { RecordedSettlements } from '../../db/settlements';
import { registerSignalConfig, resolveDueOutcomes, runningSubscriptions } from '../../db/signals-repo';
import { activeVersion } from '../../db/versions-repo';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BookStore } from '../../domain/market-data/book-store';
import { parseSignalModel } from '../../domain/signals/model';
import type { SignalWeight } from '../../domain/signals/performance';
import { actionableRules, createSignalEngine, detectionSettings } from '../../domain/signals/settings';
import type { DetectedSignal, MarketTick } from '../../domain/signals/types';
import { SignalRouter } from './router';
import { ticksAfterBatch, type SignalTickBatch } from './signal-queue';
import { createSignalWorker } from './signal-worker';
import type { CheckpointedSignalEngine } from './engine-checkpoint';
import { leasedShards, SignalShards, type ShardOwnership } from './shards';
import { isRedisConnectionError } from '../redis';

/** The model whose active version holds the signal weights (see the retraining workflow). */
export const SIGNAL_MODEL = 'signal-weights';

/**
 * The active signal model version (id, and weights with their per-cell confidence thresholds; none
 * active: no id, no weights), re-read at most every `ttlMs`. `modelName`: config.retraining.modelName.
 */
export function activeSignalModel(db: Database, ttlMs: number, modelName = SIGNAL_MODEL): () => Promise<{ id?: number; weights: readonly SignalWeight[] }> {
  let cached: { at: number; model: { id?: number; weights: readonly SignalWeight[] } } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.model;
    const active = await activeVersion(db, 'model', modelName);
    const weights = active ? parseSignalModel(active.content, `active model ${modelName} ${active.version}`) : [];
    cached = { at: Date.now(), model: { id: active?.id, weights } };
    return cached.model;
  };
}

/** Close time from the market's current snapshot (`close_time`), in this process's clock. */
export function closeTimeFromSnapshots(db: Database): (market: string) => Promise<number | undefined> {
  return async (market) => {
    const [row] = await db.select({ attributes: marketSnapshots.attributes }).from(marketSnapshots).where(and(eq(marketSnapshots.marketTicker, market), eq(marketSnapshots.rowCurrentInd, true)));
    return closeTimeMs(row?.attributes);
  };
}

export interface SignalPipeline {
  /** The first shard's queue (the only one when `signals.shards` is 1); every shard's: `queues`. */
  queue: Queue<SignalTickBatch, unknown>;
  /** One queue per shard (`signals.shards`), index = shard. */
  queues: readonly Queue<SignalTickBatch, unknown>[];
  /** The shards: which this process owns, and how each owned engine was restored. */
  shards: SignalShards;
  router: SignalRouter;
  configHash: string;
  /** Tick batches not yet through the engines (waiting, active or delayed, all shards). */
  pendingBatches(): Promise<number>;
  /** Called by the book workers after each applied batch. */
  onApplied(events: readonly UnitEvent[], batch: { source: string; partition: number; batchSeq: number }): void;
  /** Puts the job schedulers back (after Redis came back empty); an existing scheduler is left as it is. */
  ensureSchedulers(): Promise<void>;
  close(): Promise<void>;
}

export async function startSignalPipeline(opts: {
  config: KestrelConfig;
  db: Database;
  books: BookStore;
  temporal: Client;
  connection: Redis;
  workerConnection: Redis;
  closeTimeOf?: (market: string) => Promise<number | undefined>;
  onSignals?: (signals: readonly (DetectedSignal & { actionable: boolean })[]) => void;
  /** Ticks each engine batch processed (feature health judges the engines' rate on it). */
  onTicksProcessed?: (ticks: number) => void;
  /** Other signal sources on the same ticks, given the router to offer through. */
  tickConsumers?: (router: SignalRouter) => ((ticks: readonly MarketTick[]) => Promise<void>)[];
  /** A market's own taker fee rate from the venue's metadata (see SignalRouterOptions.takerFeeRate). */
  takerFeeRate?: (market: string) => Promise<string | undefined>;
  /** Which shards this process runs (default: its fair share among the live processes, by Redis leases). */
  ownership?: ShardOwnership;
  log: (line: string) => void;
}): Promise<SignalPipeline> {
  const { config, db, log } = opts;
  const s = config.signals;
  const prefix = config.redis.keyPrefix;
  const configHash = await registerSignalConfig(db, s);
  const router = new SignalRouter({ temporal: opts.temporal, subscriptions: () => runningSubscriptions(db), batchMs: s.batchMs, takerFeeRate: opts.takerFeeRate, log });
  router.start();
  const consumers = opts.tickConsumers?.(router) ?? [];
  const closeTimeOf = opts.closeTimeOf ?? closeTimeFromSnapshots(db);
  const model = activeSignalModel(db, 10_000, config.retraining.modelName);
  const createWorker = (queueName: string, engine: CheckpointedSignalEngine) => {
    const worker = createSignalWorker({
      connection: opts.workerConnection,
      prefix,
      queueName,
      db,
      engine,
      configHash,
      horizonsMs: s.horizonsMs,
      rules: actionableRules(s),
      model,
      router,
      closeTimeOf,
      onSignals: opts.onSignals,
      onTicks: consumers.length ? async (ticks) => void (await Promise.all(consumers.map((c) => c(ticks)))) : undefined,
      log,
    });
    const onTicksProcessed = opts.onTicksProcessed;
    if (onTicksProcessed) worker.on('completed', (_job, result) => onTicksProcessed(result.ticks));
    return worker;
  };
  const shards = new SignalShards({ count: s.shards, queueBase: s.queueName, prefix, connection: opts.connection, detection: detectionSettings(s), checkpointMs: s.checkpointMs, createEngine: () => createSignalEngine(s), createWorker, log });
  const ownership = opts.ownership ?? leasedShards({ redis: opts.connection, prefix, queueBase: s.queueName, shards: s.shards, leaseTtlMs: config.marketData.leaseTtlMs, log });
  await ownership.start(shards);

  // Outcomes are resolved by a scheduled job from price history, so restarts lose nothing.
  const outcomeQueueName = `${s.queueName}-outcomes`;
  const outcomeQueue = new Queue(outcomeQueueName, { connection: opts.connection, prefix });
  outcomeQueue.on('error', (err) => {
    if (!isRedisConnectionError(err)) log(`signal outcome queue error: ${err.message}`);
  });
  const ensureSchedulers = async () => {
    await outcomeQueue.upsertJobScheduler('signal-outcomes', { every: s.outcomeEveryMs }, { name: 'signal-outcomes', data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } });
  };
  await ensureSchedulers();
  const settlements = new RecordedSettlements(db);
  const outcomeWorker = new Worker(outcomeQueueName, () => resolveDueOutcomes(db, settlements), { connection: opts.workerConnection, prefix, concurrency: 1 });
  outcomeWorker.on('failed', (_job, err) => log(`signal outcome resolution failed: ${err.message}`));
  outcomeWorker.on('error', (err) => {
    if (!isRedisConnectionError(err)) log(`signal outcome worker error: ${err.message}`);
  });

  const onApplied = (events: readonly UnitEvent[], batch: { source: string; partition: number; batchSeq: number }) => {
    const ticks = ticksAfterBatch(opts.books, events);
    if (ticks.length === 0) return;
    shards.enqueue(batch, ticks).catch((err: Error) => log(`enqueueing ticks of ${batch.source}/${batch.partition}/${batch.batchSeq} failed: ${err.message}`));
  };
  const close = async () => {
    // Each shard's worker stops and checkpoints its engine, so its next owner re-applies nothing.
    await Promise.all([ownership.close(), outcomeWorker.close()]);
    await router.close();
    await Promise.all([shards.close(), outcomeQueue.close()]);
  };
  const pendingBatches = async () => {
    const counts = await Promise.all(shards.queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed')));
    return counts.reduce((n, c) => n + (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0), 0);
  };
  return { queue: shards.queues[0]!, queues: shards.queues, shards, router, configHash, pendingBatches, onApplied, ensureSchedulers, close };
}
