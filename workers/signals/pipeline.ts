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
import type { SignalWeight } from '../../domain/signals/performance';
import { actionableRules, createSignalEngine, detectionSettings } from '../../domain/signals/settings';
import type { DetectedSignal, MarketTick } from '../../domain/signals/types';
import { SignalRouter } from './router';
import { createSignalQueue, enqueueTicks, ticksAfterBatch, type SignalTickBatch } from './signal-queue';
import { CheckpointedSignalEngine, engineCheckpointKey, type RestoreReport } from './engine-checkpoint';
import { createSignalWorker, type SignalWorkerResult } from './signal-worker';
import { isRedisConnectionError } from '../redis';

/** The model whose active version holds the signal weights (see the retraining workflow). */
export const SIGNAL_MODEL = 'signal-weights';

/** Weights of the active `signal-weights` model version, re-read at most every `ttlMs`. */
export function activeWeights(db: Database, ttlMs: number): () => Promise<readonly SignalWeight[]> {
  let cached: { at: number; weights: readonly SignalWeight[] } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.weights;
    const active = await activeVersion(db, 'model', SIGNAL_MODEL);
    const weights = ((active?.content as { weights?: SignalWeight[] } | undefined)?.weights ?? []) as readonly SignalWeight[];
    cached = { at: Date.now(), weights };
    return weights;
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
  queue: Queue<SignalTickBatch, unknown>;
  worker: Worker<SignalTickBatch, SignalWorkerResult>;
  router: SignalRouter;
  configHash: string;
  /** How the engine's state was picked up at start (checkpoint + replayed batches, or fresh). */
  restored: RestoreReport;
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
  /** Other signal sources on the same ticks, given the router to offer through. */
  tickConsumers?: (router: SignalRouter) => ((ticks: readonly MarketTick[]) => Promise<void>)[];
  /** A market's own taker fee rate from the venue's metadata (see SignalRouterOptions.takerFeeRate). */
  takerFeeRate?: (market: string) => Promise<string | undefined>;
  log: (line: string) => void;
}): Promise<SignalPipeline> {
  const { config, db, log } = opts;
  const s = config.signals;
  const prefix = config.redis.keyPrefix;
  const configHash = await registerSignalConfig(db, s);
  const queue = createSignalQueue(s.queueName, opts.connection, prefix);
  const router = new SignalRouter({ temporal: opts.temporal, subscriptions: () => runningSubscriptions(db), batchMs: s.batchMs, takerFeeRate: opts.takerFeeRate, log });
  router.start();
  const consumers = opts.tickConsumers?.(router) ?? [];
  const engine = new CheckpointedSignalEngine(createSignalEngine(s), { redis: opts.connection, key: engineCheckpointKey(prefix, s.queueName), detection: detectionSettings(s), everyMs: s.checkpointMs, log });
  const restored = await engine.restore(queue);
  if (restored.outcome !== 'fresh' || restored.missing > 0) log(`signal engine ${restored.outcome}${restored.why ? ` (${restored.why})` : ''}: checkpoint at batch ${restored.checkpointSeq ?? '-'}, ${restored.replayed} batches re-applied, ${restored.missing} missing`);
  const worker = createSignalWorker({
    connection: opts.workerConnection,
    prefix,
    queueName: s.queueName,
    db,
    engine,
    configHash,
    horizonsMs: s.horizonsMs,
    rules: actionableRules(s),
    weights: activeWeights(db, 10_000),
    router,
    closeTimeOf: opts.closeTimeOf ?? closeTimeFromSnapshots(db),
    onSignals: opts.onSignals,
    onTicks: consumers.length ? async (ticks) => void (await Promise.all(consumers.map((c) => c(ticks)))) : undefined,
    log,
  });
  worker.run().catch((err: Error) => log(`signal worker stopped: ${err.message}`));

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
    enqueueTicks(queue, { ...batch, ticks }).catch((err: Error) => log(`enqueueing ticks of ${batch.source}/${batch.partition}/${batch.batchSeq} failed: ${err.message}`));
  };
  const close = async () => {
    await Promise.all([worker.close(), outcomeWorker.close()]);
    // The last batch is done: the next start carries on from here without re-applying anything.
    await engine.save().catch((err: Error) => log(`signal engine checkpoint at shutdown failed: ${err.message}`));
    await router.close();
    await Promise.all([queue.close(), outcomeQueue.close()]);
  };
  return { queue, worker, router, configHash, restored, onApplied, ensureSchedulers, close };
}
