import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { insertPricePoints } from '../../db/market-data-repo';
import { priceText, sizeText } from '../../domain/fixed-point';
import { type ApplyOutcome, type BookStore } from '../../domain/market-data/book-store';
import { isPackedBatch, MalformedPackedBatch, packedMarketEventBatchSchema, RefusedWireEvent, unpackColumns, wireEventToUnits, type PackedMarketEventBatch } from '../../domain/market-data/batch-codec';
import { EventColumns } from '../../domain/market-data/event-columns';
import { marketEventBatchEnvelopeSchema, type UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook, TopOfBook } from '../../domain/market-data/order-book';
import { isMarketId } from '../../domain/market-data/validation';
import type { z } from 'zod';
import type { PricePoint } from '../../domain/market-data/price-history';
import { partitionQueueName } from './partitions';
import type { MarketEventJob } from './publisher';
import { describeIssues } from '../../domain/validation';
import { encodeMarketSnapshot } from '../../domain/market-data/book-snapshot';

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
  /** The events that reached the books, in units (what the paper exchange matches on); built when first read. */
  readonly units: readonly UnitEvent[];
  /** Event `index` of `units` (the index `outcome.refused` gives), without building all of them. */
  unitAt(index: number): UnitEvent | undefined;
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
 * marks the books the stream fed stale until a snapshot re-bases them. A packed batch is unpacked
 * into columns and applied from them, with no object per event.
 */
export class BatchApplier {
  private readonly lastBatch = new Map<string, number>();

  constructor(private readonly store: BookStore) {}

  /** `checkpoint`: the last batch of the stream known applied (persisted), -1 when none. */
  apply(batch: BatchEnvelope, receivedAtMs: number, checkpoint = -1): BatchApplyResult {
    const stream = `${batch.source}:${batch.partition}`;
    const invalid: BatchApplyResult['invalid'] = [];
    const refuse = (event: RefusedWireEvent, index: number): UnitEvent | undefined => {
      invalid.push({ index, raw: rawText(event.raw), error: event.error });
      return staleMarkFor(event);
    };
    // Every event checked (and a packed batch unpacked) before any book is touched.
    let events: EventColumns | UnitEvent[];
    if ('packed' in batch) events = unpackColumns(batch.packed, batch.count, refuse);
    else {
      events = [];
      for (const [index, raw] of batch.events.entries()) {
        const event = wireEventToUnits(raw);
        const kept = event instanceof RefusedWireEvent ? refuse(event, index) : event;
        if (kept !== undefined) events.push(kept);
      }
    }
    const staleAfterGap = this.markGap(stream, batch.batchSeq, Math.max(checkpoint, this.lastBatch.get(stream) ?? -1));
    const position = { stream, batchSeq: batch.batchSeq };
    const outcome = events instanceof EventColumns ? this.store.applyAllColumns(events, receivedAtMs, position) : this.store.applyAll(events, receivedAtMs, position);
    for (const market of staleAfterGap) if (!outcome.tops.has(market)) outcome.tops.set(market, this.store.state(market).book.top());
    this.lastBatch.set(stream, Math.max(batch.batchSeq, this.lastBatch.get(stream) ?? -1));
    let units: readonly UnitEvent[] | undefined = events instanceof EventColumns ? undefined : events;
    return {
      outcome,
      get units() {
        return (units ??= (events as EventColumns).toArray());
      },
      unitAt: (index) => (events instanceof EventColumns ? (index < events.length ? events.at(index) : undefined) : events[index]),
      invalid,
      staleAfterGap,
    };
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

/**
 * What a refused event leaves in the batch: its market's book missed an update it cannot apply, so
 * it waits for a snapshot (a stale mark); a bad trade print leaves the book as it was (nothing).
 */
function staleMarkFor({ raw, error }: RefusedWireEvent): UnitEvent | undefined {
  const { m, t, ts } = (typeof raw === 'object' && raw !== null ? raw : {}) as { m?: unknown; t?: unknown; ts?: unknown };
  if (!isMarketId(m) || t === 'trade') return undefined;
  return { t: 'stale', m, ts: Number.isSafeInteger(ts) && (ts as number) >= 0 ? (ts as number) : 0, reason: `refused event: ${error}`.slice(0, 500) };
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
  /**
   * The partition's ownership lease (partition-leases.ts): a batch is taken only while `key` holds
   * `owner`, and the checkpoint write is fenced on it, so an owner that lost the partition (paused,
   * cut off) can neither apply ahead of the new owner nor advance the checkpoint after a takeover.
   */
  lease?: { key: string; owner: string };
  /** The lease turned out lost at a batch: the batch went back to the front of its queue, untouched. */
  onLeaseLost?: () => void;
  /** BullMQ worker settings (e.g. `autorun: false` to start after restoring the books). */
  workerOptions?: { autorun?: boolean };
  /** Each batch once its checkpoint is written, with the checkpoint it replaced (-1: none): what the scale-out checks audit. */
  onCheckpointed?: (batch: CheckpointedBatch) => void;
}

export interface CheckpointedBatch {
  source: string;
  partition: number;
  batchSeq: number;
  previous: number;
  events: number;
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
/** Per partition, a hash market → its state (book-snapshot.ts) as of the partition's checkpoints: what a new owner restores. */
export const bookSnapshotKey = (prefix: string, queueBase: string, partition: number) => `${prefix}:md:books:${queueBase}:${partition}`;

/**
 * The end of a batch in one atomic step, refused ({0}) unless KEYS[3] (the lease; '' when unleased)
 * holds ARGV[1]: the touched markets' snapshots (HSET KEYS[2]), their tops of book (KEYS[4..], each
 * given as a count of field/value strings then the strings), then the checkpoint (KEYS[1] = ARGV[2]).
 * Answers {1, the checkpoint it replaced}.
 */
const FINISH_BATCH_LUA = `
if KEYS[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return {0} end
local previous = redis.call('GET', KEYS[1]) or '-1'
local n = tonumber(ARGV[3])
local i = 4
for _ = 1, n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for k = 4, #KEYS do
  local c = tonumber(ARGV[i])
  redis.call('HSET', KEYS[k], unpack(ARGV, i + 1, i + c))
  i = i + c + 1
end
redis.call('SET', KEYS[1], ARGV[2])
return {1, previous}`;

type FinishBatchRedis = Redis & { kestrelFinishBatch(...args: (string | number)[]): Promise<[number, string?]> };

function finishBatchCommand(redis: Redis): FinishBatchRedis {
  if (!('kestrelFinishBatch' in redis)) redis.defineCommand('kestrelFinishBatch', { lua: FINISH_BATCH_LUA });
  return redis as FinishBatchRedis;
}
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

  const redis = finishBatchCommand(opts.redis);
  const snapshotKey = bookSnapshotKey(opts.prefix, opts.queueBase, opts.partition);
  /** Puts the batch back at the front of its queue for the partition's owner and stops here. */
  const giveBack = async (job: Job<MarketEventJob, BookWorkerResult>, token: string | undefined): Promise<never> => {
    if (token !== undefined) await job.moveToWait(token);
    opts.onLeaseLost?.();
    throw new WaitingError(`lease of market-data partition ${opts.partition} lost: batch ${job.id} left to the new owner`);
  };

  const processor = async (job: Job<MarketEventJob, BookWorkerResult>, token?: string): Promise<BookWorkerResult> => {
    // The envelope is checked once per batch; the events one by one as they are unpacked (apply).
    const parsed = isPackedBatch(job.data) ? packedMarketEventBatchSchema.safeParse(job.data) : marketEventBatchEnvelopeSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed market-event batch ${job.id}: ${describeIssues(parsed.error.issues, 5)}`);
    const batch = parsed.data;
    const key = `${batch.source}:${batch.partition}`;
    const ckptKey = checkpointKey(opts.prefix, batch.source, batch.partition);
    const [storedText, holder] = opts.lease ? await opts.redis.mget(ckptKey, opts.lease.key) : [await opts.redis.get(ckptKey), undefined];
    if (opts.lease && holder !== opts.lease.owner) return giveBack(job, token);
    const stored = Number(storedText ?? -1);
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
      for (const r of outcome.refused.slice(0, 3)) log(`refused event for ${r.market}: ${r.reason}: ${rawText(result.unitAt(r.index))}`);
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

    // Only the markets this batch touched: their snapshots and tops, with the checkpoint, fenced on the lease.
    const keys = [ckptKey, snapshotKey, opts.lease?.key ?? ''];
    const snapshots: string[] = [];
    const tops: string[] = [];
    for (const [market, top] of state.tops) {
      const marketState = opts.store.state(market);
      snapshots.push(market, encodeMarketSnapshot(marketState));
      keys.push(topOfBookKey(opts.prefix, market));
      // `at`: when the owner applied the market's newest event (its clock), what staleness is judged on.
      const fields = [...Object.entries(topOfBookFields(marketState.book, top)).flat(), 'at', String(marketState.receivedAtMs)];
      tops.push(String(fields.length), ...fields);
    }
    const [finished, previous] = await redis.kestrelFinishBatch(keys.length, ...keys, opts.lease?.owner ?? '', String(batch.batchSeq), String(snapshots.length / 2), ...snapshots, ...tops);
    if (finished !== 1) return giveBack(job, token);
    opts.onCheckpointed?.({ source: batch.source, partition: batch.partition, batchSeq: batch.batchSeq, previous: Number(previous), events: 'packed' in batch ? batch.count : batch.events.length });
    return { skipped: false, applied: count, refused, invalid, staleAfterGap, points: state.points.length };
  };

  const worker = new Worker<MarketEventJob, BookWorkerResult>(partitionQueueName(opts.queueBase, opts.partition), processor, {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: 1,
    ...opts.workerOptions,
  });
  return { worker, closing };
}
