import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { insertPricePoints } from '../../db/market-data-repo';
import { priceText, sizeText } from '../../domain/fixed-point';
import { type ApplyOutcome, type BookStore } from '../../domain/market-data/book-store';
import { isPackedBatch, MalformedPackedBatch, packedMarketEventBatchSchema, RefusedWireEvent, unpackEvents, wireEventToUnits, type PackedMarketEventBatch } from '../../domain/market-data/batch-codec';
import { marketEventBatchEnvelopeSchema, type UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook, TopOfBook } from '../../domain/market-data/order-book';
import { isMarketId } from '../../domain/market-data/validation';
import type { z } from 'zod';
import type { PricePoint } from '../../domain/market-data/price-history';
import { partitionQueueName } from './partitions';
import type { MarketEventJob } from './publisher';
import { describeIssues } from '../../domain/validation';

export interface BookWorkerResult {
  skipped: boolean;
  applied: number;
  /** Events the books refused (invalid, or not applicable to the book as it was). */
  refused: number;
  /** Events refused before reaching a book: not a market event, or a value off the fixed-point grid. */
  invalid: number;
  /** Books marked stale because batches before this one never arrived. */
  staleAfterGap: number;
  points: number;
}

/** A batch as the worker takes it: packed (what publishers send), or its events as objects, each still unchecked. */
type BatchEnvelope = z.infer<typeof marketEventBatchEnvelopeSchema> | PackedMarketEventBatch;

/** At most this much of a refused event's raw payload goes into a log line. */
const RAW_LOG_LIMIT = 500;

export interface BatchApplyResult {
  outcome: ApplyOutcome;
  /** The events that reached the books, in units (what the paper exchange matches on). */
  units: UnitEvent[];
  invalid: { index: number; raw: string; error: string }[];
  /** Markets marked stale because batches between the last one applied and this one are missing. */
  staleAfterGap: string[];
}

/**
 * Applies one partition's batches to the books so that no batch can be half-applied: every event is
 * checked on its own (a bad one is refused and marks only its market stale, the rest of the batch
 * applies; a packed batch that cannot be unpacked throws `MalformedPackedBatch` before anything is
 * touched), each market remembers the last (batch, event) it took from the stream, so a batch
 * delivered again skips what was applied, and a batch number that jumps past the last one applied
 * marks the books the stream fed stale until a snapshot re-bases them.
 */
export class BatchApplier {
  private readonly lastBatch = new Map<string, number>();

  constructor(private readonly store: BookStore) {}

  /** `checkpoint`: the last batch of the stream known applied (persisted), -1 when none. */
  apply(batch: BatchEnvelope, receivedAtMs: number, checkpoint = -1): BatchApplyResult {
    const stream = `${batch.source}:${batch.partition}`;
    // Every event checked (and a packed batch unpacked) before any book is touched.
    const checked = 'packed' in batch ? unpackEvents(batch.packed, batch.count) : batch.events.map(wireEventToUnits);
    const staleAfterGap = this.markGap(stream, batch.batchSeq, Math.max(checkpoint, this.lastBatch.get(stream) ?? -1));
    const units: UnitEvent[] = [];
    const invalid: BatchApplyResult['invalid'] = [];
    for (let index = 0; index < checked.length; index++) {
      const event = checked[index]!;
      if (!(event instanceof RefusedWireEvent)) {
        units.push(event);
        continue;
      }
      const { raw, error } = event;
      invalid.push({ index, raw: rawText(raw), error });
      // The market's book missed an update it cannot apply: it waits for a snapshot. A bad trade
      // print leaves the book as it was.
      const { m, t, ts } = (typeof raw === 'object' && raw !== null ? raw : {}) as { m?: unknown; t?: unknown; ts?: unknown };
      if (isMarketId(m) && t !== 'trade') units.push({ t: 'stale', m, ts: Number.isSafeInteger(ts) && (ts as number) >= 0 ? (ts as number) : 0, reason: `refused event: ${error}`.slice(0, 500) });
    }
    const outcome = this.store.applyAll(units, receivedAtMs, { stream, batchSeq: batch.batchSeq });
    for (const market of staleAfterGap) if (!outcome.tops.has(market)) outcome.tops.set(market, this.store.state(market).book.top());
    this.lastBatch.set(stream, Math.max(batch.batchSeq, this.lastBatch.get(stream) ?? -1));
    return { outcome, units, invalid, staleAfterGap };
  }

  private markGap(stream: string, batchSeq: number, last: number): string[] {
    if (last < 0 || batchSeq <= last + 1) return [];
    const reason = `batches ${last + 1}..${batchSeq - 1} of ${stream} never arrived`;
    const marked: string[] = [];
    for (const [market, state] of this.store.markets) {
      if (state.appliedStream !== stream) continue;
      state.book.markStale(reason);
      marked.push(market);
    }
    return marked;
  }
}

function rawText(raw: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(raw) ?? String(raw);
  } catch {
    text = String(raw);
  }
  return text.length > RAW_LOG_LIMIT ? `${text.slice(0, RAW_LOG_LIMIT)}… (${text.length} chars)` : text;
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

/** A book's top as its Redis hash (`topOfBookKey`): decimal texts, '' for an empty side. */
export function topOfBookFields(book: BinaryOrderBook, top: TopOfBook = book.top()): Record<string, string> {
  return {
    yesBid: top.yesBid ? priceText(top.yesBid.price) : '',
    yesBidSize: top.yesBid ? sizeText(top.yesBid.size) : '',
    yesAsk: top.yesAsk ? priceText(top.yesAsk.price) : '',
    yesAskSize: top.yesAsk ? sizeText(top.yesAsk.size) : '',
    ts: String(book.lastUpdateMs),
    stale: book.stale ? (book.staleBecause ?? 'stale') : '',
  };
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
export function createBookWorker(opts: BookWorkerOptions): { worker: Worker<MarketEventJob, BookWorkerResult>; closing: AbortController } {
  const log = opts.log ?? (() => {});
  const applied = new Map<string, { batchSeq: number; points: { market: string; point: PricePoint }[]; tops: Map<string, TopOfBook> }>();
  const applier = new BatchApplier(opts.store);
  const closing = new AbortController();
  const retry = opts.persistRetry ?? { initialMs: 100, maxMs: 5000 };

  const processor = async (job: Job<MarketEventJob, BookWorkerResult>): Promise<BookWorkerResult> => {
    // The envelope is checked once per batch; the events one by one as they are unpacked (apply).
    const parsed = isPackedBatch(job.data) ? packedMarketEventBatchSchema.safeParse(job.data) : marketEventBatchEnvelopeSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed market-event batch ${job.id}: ${describeIssues(parsed.error.issues, 5)}`);
    const batch = parsed.data;
    const key = `${batch.source}:${batch.partition}`;
    const ckptKey = checkpointKey(opts.prefix, batch.source, batch.partition);
    const stored = Number((await opts.redis.get(ckptKey)) ?? -1);
    const checkpoint = Number.isSafeInteger(stored) ? stored : -1;
    if (batch.batchSeq <= checkpoint) return { skipped: true, applied: 0, refused: 0, invalid: 0, staleAfterGap: 0, points: 0 };

    let state = applied.get(key);
    let refused = 0;
    let invalid = 0;
    let staleAfterGap = 0;
    let count = 0;
    if (!state || state.batchSeq < batch.batchSeq) {
      let result: BatchApplyResult;
      try {
        result = applier.apply(batch, Date.now(), checkpoint);
      } catch (err) {
        if (err instanceof MalformedPackedBatch) throw new UnrecoverableError(`malformed market-event batch ${job.id}: ${err.message}`);
        throw err;
      }
      const { outcome } = result;
      opts.onApplied?.(result.units, { source: batch.source, partition: batch.partition, batchSeq: batch.batchSeq });
      refused = outcome.refused.length;
      invalid = result.invalid.length;
      staleAfterGap = result.staleAfterGap.length;
      count = outcome.applied;
      if (staleAfterGap > 0) log(`batch ${batch.batchSeq} of ${key} follows a gap: ${staleAfterGap} book(s) stale until their next snapshot`);
      for (const bad of result.invalid.slice(0, 3)) log(`refused event ${bad.index} of batch ${job.id} (${bad.error}): ${bad.raw}`);
      for (const r of outcome.refused.slice(0, 3)) log(`refused event for ${r.market}: ${r.reason}: ${rawText(result.units[r.index])}`);
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
      multi.hset(topOfBookKey(opts.prefix, market), topOfBookFields(book, top));
    }
    multi.set(ckptKey, String(batch.batchSeq));
    await multi.exec();
    return { skipped: false, applied: count, refused, invalid, staleAfterGap, points: state.points.length };
  };

  const worker = new Worker<MarketEventJob, BookWorkerResult>(partitionQueueName(opts.queueBase, opts.partition), processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: 1,
  });
  return { worker, closing };
}
