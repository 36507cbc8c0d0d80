import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { insertSignals } from '../../db/signals-repo';
import { priceText } from '../../domain/fixed-point';
import { actionableEntry, type ActionableRules } from '../../domain/signals/actionable';
import type { SignalWeight } from '../../domain/signals/performance';
import type { DetectedSignal, MarketTick } from '../../domain/signals/types';
import type { AppliedBatch, CheckpointedSignalEngine } from './engine-checkpoint';
import type { SignalRouter } from './router';
import { signalTickBatchSchema, tickFromWire, type SignalTickBatch } from './signal-queue';
import { describeIssues } from '../../domain/validation';
import { isRedisConnectionError } from '../redis';

export interface SignalWorkerResult extends AppliedBatch {
  ticks: number;
  detected: number;
  actionable: number;
}

export interface SignalWorkerOptions {
  connection: Redis;
  prefix: string;
  queueName: string;
  db: Database;
  engine: CheckpointedSignalEngine;
  configHash: string;
  horizonsMs: readonly number[];
  rules: ActionableRules;
  /** The active model version's id and weights (cached by the caller); no id when no version is active. */
  model(): Promise<{ id?: number; weights: readonly SignalWeight[] }>;
  router: SignalRouter;
  /** Market close in this process's clock, for the strategy's timing rules. */
  closeTimeOf(market: string): Promise<number | undefined>;
  onSignals?(signals: readonly (DetectedSignal & { actionable: boolean })[]): void;
  /** Other signal sources priced on the same ticks (the sports model-edge path); failures are logged, never fail the batch. */
  onTicks?(ticks: readonly MarketTick[]): Promise<void>;
  log?: (line: string) => void;
}

/**
 * Consumes tick summaries in order (one worker, concurrency 1: the engine's windows and pair
 * moments are stateful), persists what fires with its inputs and config hash, and hands actionable
 * signals to the router, which batches them to the subscribed strategy workflows.
 */
export function createSignalWorker(opts: SignalWorkerOptions): Worker<SignalTickBatch, SignalWorkerResult> {
  /** Stores what fired and hands the actionable signals new to the database to the router; returns how many. */
  const persistAndRoute = async (detected: readonly DetectedSignal[], ticks: readonly MarketTick[], source: string): Promise<number> => {
    const lastTick = new Map(ticks.map((t) => [t.market, t]));
    const model = await opts.model();
    const marked = detected.map((s) => ({ signal: s, entry: actionableEntry(s, lastTick.get(s.market), model.weights, opts.rules) }));
    const rows = marked.map(({ signal, entry }) => ({ ...signal, actionable: !('rejected' in entry), inputs: { ...signal.inputs, ...('rejected' in entry ? { notActionable: entry.rejected } : { model: entry.weight, modelVersionId: model.id }) } }));
    const ids = await insertSignals(opts.db, rows, { configHash: opts.configHash, source, horizonsMs: opts.horizonsMs });
    opts.onSignals?.(rows);
    let actionable = 0;
    for (const { signal, entry } of marked) {
      // Only newly inserted signals go on: a redelivered batch never re-sends.
      if ('rejected' in entry || !ids.has(signal.key)) continue;
      const closeTimeMs = await opts.closeTimeOf(signal.market);
      if (closeTimeMs === undefined) continue;
      actionable++;
      opts.router.offer({
        signalId: `signal:${ids.get(signal.key)}`,
        market: signal.market,
        outcome: entry.outcome,
        modelProbability: priceText(entry.modelProbability),
        ask: priceText(entry.ask),
        closeTimeMs,
        reason: `${signal.type} ${signal.priority} (confidence ${signal.confidence.toFixed(2)})`,
        type: signal.type,
        category: signal.category,
        modelVersionId: model.id,
      });
    }
    return actionable;
  };
  const processor = async (job: Job<SignalTickBatch, SignalWorkerResult>): Promise<SignalWorkerResult> => {
    const parsed = signalTickBatchSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed tick batch ${job.id}: ${describeIssues(parsed.error.issues, 5)}`);
    let ticks: MarketTick[];
    try {
      ticks = parsed.data.ticks.map(tickFromWire);
    } catch (err) {
      throw new UnrecoverableError(`tick batch ${job.id} has an invalid price or size: ${(err as Error).message}`);
    }
    const { detected, applied } = opts.engine.apply(ticks);
    const actionable = detected.length === 0 ? 0 : await persistAndRoute(detected, ticks, parsed.data.source);
    await opts.engine.afterBatch();
    await opts.onTicks?.(ticks).catch((err: Error) => opts.log?.(`tick consumer failed on ${job.id}: ${err.message}`));
    return { ticks: ticks.length, detected: detected.length, actionable, ...applied };
  };
  // Not running yet: the caller restores the engine's checkpoint first, then calls run().
  const worker = new Worker<SignalTickBatch, SignalWorkerResult>(opts.queueName, processor, { connection: opts.connection, prefix: opts.prefix, concurrency: 1, autorun: false });
  worker.on('failed', (job, err) => opts.log?.(`signal job ${job?.id ?? '?'} failed: ${err.message}`));
  worker.on('error', (err) => {
    if (!isRedisConnectionError(err)) opts.log?.(`signal worker error: ${err.message}`);
  });
  return worker;
}
