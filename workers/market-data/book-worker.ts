import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { insertPricePoints } from '../../db/market-data-repo';
import { priceText, sizeText } from '../../domain/fixed-point';
import { type BookStore } from '../../domain/market-data/book-store';
import { marketEventBatchSchema, toUnits, type MarketEventBatch, type UnitEvent } from '../../domain/market-data/events';
import type { TopOfBook } from '../../domain/market-data/order-book';
import type { PricePoint } from '../../domain/market-data/price-history';
import { partitionQueueName } from './partitions';
import { describeIssues } from '../../domain/validation';

export interface BookWorkerResult {
  skipped: boolean;
  applied: number;
  refused: number;
  points: number;
}

export interface BookWorkerOptions {
  connection: Redis;
  /** Plain commands (checkpoints, top of book); must not be the blocking worker connection. */
  redis: Redis;
  prefix: string;
  queueBase: string;
  partition: number;
  db: Database;
  store: BookStore;
  /** Persistence is retried in place (never out of order) with this backoff until it succeeds. */
  persistRetry?: { initialMs: number; maxMs: number };
  log?: (line: string) => void;
  /** Called with each newly applied batch (the paper exchange matches resting orders on it). */
  onApplied?: (events: readonly UnitEvent[], batch: { source: string; partition: number; batchSeq: number }) => void;
}

export const checkpointKey = (prefix: string, source: string, partition: number) => `${prefix}:md:ckpt:${source}:${partition}`;
export const topOfBookKey = (prefix: string, market: string) => `${prefix}:md:top:${market}`;

/**
 * Consumes one partition's market-event batches in order (concurrency 1): applies them to the
 * in-memory books and price histories, persists sampled history, publishes top of book to Redis,
 * then advances the partition checkpoint. Redelivered batches at or below the checkpoint are
 * skipped. A failure to persist is retried in place, not by BullMQ, so a later batch can never
 * overtake an earlier one.
 */
export function createBookWorker(opts: BookWorkerOptions): { worker: Worker<MarketEventBatch, BookWorkerResult>; closing: AbortController } {
  const log = opts.log ?? (() => {});
  const applied = new Map<string, { batchSeq: number; points: { market: string; point: PricePoint }[]; tops: Map<string, TopOfBook> }>();
  const closing = new AbortController();
  const retry = opts.persistRetry ?? { initialMs: 100, maxMs: 5000 };

  const processor = async (job: Job<MarketEventBatch, BookWorkerResult>): Promise<BookWorkerResult> => {
    const parsed = marketEventBatchSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed market-event batch ${job.id}: ${describeIssues(parsed.error.issues, 5)}`);
    const batch = parsed.data;
    const key = `${batch.source}:${batch.partition}`;
    const ckptKey = checkpointKey(opts.prefix, batch.source, batch.partition);
    const checkpoint = Number((await opts.redis.get(ckptKey)) ?? -1);
    if (batch.batchSeq <= checkpoint) return { skipped: true, applied: 0, refused: 0, points: 0 };

    let units: UnitEvent[];
    try {
      units = batch.events.map(toUnits);
    } catch (err) {
      throw new UnrecoverableError(`batch ${job.id} has an event with an invalid price or size: ${(err as Error).message}`);
    }
    let state = applied.get(key);
    let refused = 0;
    let count = 0;
    if (!state || state.batchSeq < batch.batchSeq) {
      const outcome = opts.store.applyAll(units, Date.now());
      opts.onApplied?.(units, { source: batch.source, partition: batch.partition, batchSeq: batch.batchSeq });
      refused = outcome.refused.length;
      count = outcome.applied;
      for (const r of outcome.refused.slice(0, 3)) log(`refused delta for ${r.market}: ${r.reason}`);
      state = { batchSeq: batch.batchSeq, points: outcome.points, tops: outcome.tops };
      applied.set(key, state);
    }

    for (let attempt = 0; ; attempt++) {
      try {
        await insertPricePoints(opts.db, batch.source, state.points);
        break;
      } catch (err) {
        if (closing.signal.aborted) throw err;
        const wait = Math.min(retry.maxMs, retry.initialMs * 2 ** attempt);
        log(`persisting history for batch ${job.id} failed (${(err as Error).message}); retrying in ${wait} ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }

    const multi = opts.redis.multi();
    for (const [market, top] of state.tops) {
      const book = opts.store.state(market).book;
      multi.hset(topOfBookKey(opts.prefix, market), {
        yesBid: top.yesBid ? priceText(top.yesBid.price) : '',
        yesBidSize: top.yesBid ? sizeText(top.yesBid.size) : '',
        yesAsk: top.yesAsk ? priceText(top.yesAsk.price) : '',
        yesAskSize: top.yesAsk ? sizeText(top.yesAsk.size) : '',
        ts: String(book.lastUpdateMs),
        stale: book.stale ? (book.staleBecause ?? 'stale') : '',
      });
    }
    multi.set(ckptKey, String(batch.batchSeq));
    await multi.exec();
    return { skipped: false, applied: count, refused, points: state.points.length };
  };

  const worker = new Worker<MarketEventBatch, BookWorkerResult>(partitionQueueName(opts.queueBase, opts.partition), processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: 1,
  });
  return { worker, closing };
}
