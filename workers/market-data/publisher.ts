import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PACKED_FORMAT, packEvents, type PackedMarketEventBatch } from '../../domain/market-data/batch-codec';
import type { MarketEvent, MarketEventBatch } from '../../domain/market-data/events';
import { checkpointKey } from './book-worker';
import { partitionOf, partitionQueueName } from './partitions';

export interface PublisherOptions {
  connection: Redis;
  prefix: string;
  queueBase: string;
  partitions: number;
  /** Identifies the stream (e.g. a replay run or a live connection); batch numbering is per source. */
  source: string;
  batchSize: number;
  /** A partial batch is flushed after this long, so quiet markets are not held back. */
  maxDelayMs: number;
  attempts: number;
  /**
   * Events held in memory (buffered, being added, or added but not yet applied by a book worker)
   * before `publish` waits: the back-pressure a feed feels while Redis is down or the workers lag.
   */
  maxPendingEvents?: number;
  /** Backoff between tries of a batch Redis refused (outage); a batch is retried until added. */
  retry?: { initialMs: number; maxMs: number };
  /** How often applied batches are looked up (partition checkpoints) to release them from memory. */
  ackPollMs?: number;
  log?: (line: string) => void;
}

export const DEFAULT_MAX_PENDING_EVENTS = 200_000;

export interface PublisherStats {
  /** Events in memory: buffered, being added, or added and not yet applied. */
  pendingEvents: number;
  /** Times a batch add failed (Redis down) and was tried again. */
  addRetries: number;
  /** Batches added again after the connection dropped, in case Redis lost them. */
  republishedBatches: number;
  /** Times `publish` waited for the backlog to shrink. */
  backPressureWaits: number;
  /** The last add failure (cleared once a batch goes through). */
  lastError: string | undefined;
}

/** What a market-data partition queue carries: packed batches (what publishers send) or, still accepted, batches of event objects. */
export type MarketEventJob = PackedMarketEventBatch | MarketEventBatch;

/**
 * Turns a stream of market events into BullMQ jobs: one job per batch per partition (never one job
 * per tick), its events packed into one string when the batch is cut (batch-codec.ts), so a batch
 * costs BullMQ one short JSON text. Job ids are `source/partition/batchSeq`, so re-publishing the same
 * stream enqueues nothing twice.
 *
 * Redis outages lose nothing: batches are added one partition at a time, in order, each retried
 * until Redis takes it; a batch stays in memory until its partition checkpoint shows it applied,
 * and after a dropped connection the unapplied ones are added again before anything newer (Redis
 * may have come back empty). What is held is bounded (`maxPendingEvents`): past it `publish` waits.
 */
export class MarketDataPublisher {
  readonly queues: Queue<MarketEventJob>[];
  /** Per partition, the batch being filled. */
  private readonly buffers: MarketEvent[][];
  /** Partition of each market seen (the hash is per market, not per event). */
  private partitionOfMarket = new Map<string, number>();
  private readonly nextSeq: number[];
  private readonly timers: (NodeJS.Timeout | undefined)[];
  /** Per partition, the adds in batch order (one at a time, so a retry never lets a later batch overtake). */
  private readonly chains: Promise<void>[];
  /** Per partition, batches added but not yet applied, oldest first. */
  private readonly unapplied: PackedMarketEventBatch[][];
  /** Per partition: the connection dropped since the last add, so unapplied batches go again first. */
  private readonly republishFirst: boolean[];
  /** Fail-fast connection of this publisher: a command either runs now or is refused, never queued. */
  private readonly connection: Redis;
  private readonly maxPending: number;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly log: (line: string) => void;
  private readonly ackTimer: NodeJS.Timeout;
  private drained: Deferred | undefined;
  private connectionLost = deferred();
  private polling = false;
  /** Events cut into batches that are not in Redis yet. */
  private waitingToBeAdded = 0;
  private closed = false;
  published = { events: 0, batches: 0 };
  /** When close() finished (feature health tells a finished stream from a silent one). */
  closedAtMs: number | undefined;

  get source(): string {
    return this.opts.source;
  }
  readonly stats: PublisherStats = { pendingEvents: 0, addRetries: 0, republishedBatches: 0, backPressureWaits: 0, lastError: undefined };

  constructor(private readonly opts: PublisherOptions) {
    // BullMQ's guide: producers that can act on a failure should fail fast rather than wait in
    // ioredis's offline queue. A queued add could also land after a reconnect before the batches
    // Redis lost, out of order; maxRetriesPerRequest 0 also fails commands in flight at a drop.
    this.connection = opts.connection.duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 0, connectionName: 'kestrel-publisher' });
    this.connection.on('error', () => {});
    this.connection.on('close', () => {
      this.republishFirst.fill(true);
      this.connectionLost.resolve();
      this.connectionLost = deferred();
    });
    this.queues = Array.from({ length: opts.partitions }, (_, p) => new Queue<MarketEventJob>(partitionQueueName(opts.queueBase, p), { connection: this.connection, prefix: opts.prefix }));
    // Connection errors surface as failed adds, which are retried and logged (addInOrder).
    for (const queue of this.queues) queue.on('error', () => {});
    this.buffers = Array.from({ length: opts.partitions }, () => []);
    this.nextSeq = Array.from({ length: opts.partitions }, () => 0);
    this.timers = Array.from({ length: opts.partitions }, () => undefined);
    this.chains = Array.from({ length: opts.partitions }, () => Promise.resolve());
    this.unapplied = Array.from({ length: opts.partitions }, () => []);
    this.republishFirst = Array.from({ length: opts.partitions }, () => false);
    this.maxPending = opts.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS;
    this.retry = opts.retry ?? { initialMs: 100, maxMs: 2000 };
    this.log = opts.log ?? (() => {});
    this.ackTimer = setInterval(() => void this.releaseApplied(), opts.ackPollMs ?? 250);
    this.ackTimer.unref();
  }

  /**
   * Takes one event. Returns a promise only when the caller must wait before the next (a batch is
   * being added, or the backlog is full); `undefined` when the event was simply buffered, so a
   * feed's hot loop pays no promise per event (`await` on either works).
   */
  publish(event: MarketEvent): Promise<void> | undefined {
    if (this.stats.pendingEvents >= this.maxPending) return this.publishWhenRoom(event);
    const p = this.partition(event.m);
    const buffer = this.buffers[p]!;
    buffer.push(event);
    this.stats.pendingEvents++;
    if (buffer.length >= this.opts.batchSize) {
      const added = this.flushPartition(p);
      // Flow control is the add itself while Redis is up; during an outage the feed keeps going
      // into memory until maxPendingEvents (above).
      if (this.connection.status === 'ready') return Promise.race([added, this.connectionLost.promise]);
    } else this.timers[p] ??= setTimeout(() => void this.flushPartition(p), this.opts.maxDelayMs);
    return undefined;
  }

  private async publishWhenRoom(event: MarketEvent): Promise<void> {
    while (this.stats.pendingEvents >= this.maxPending) await this.waitForRoom();
    await this.publish(event);
  }

  private partition(market: string): number {
    let p = this.partitionOfMarket.get(market);
    if (p === undefined) {
      p = partitionOf(market, this.opts.partitions);
      // Bounded: a feed that names ever new markets re-hashes instead of growing this without end.
      if (this.partitionOfMarket.size >= 100_000) this.partitionOfMarket = new Map();
      this.partitionOfMarket.set(market, p);
    }
    return p;
  }

  /** Cuts the partition's buffer into a batch and resolves once that batch is in Redis. */
  private flushPartition(p: number): Promise<void> {
    clearTimeout(this.timers[p]);
    this.timers[p] = undefined;
    const events = this.buffers[p]!;
    const count = events.length;
    if (count === 0) return this.chains[p]!;
    this.buffers[p] = [];
    // Packed in one go, so the text is built and flattened while its pieces are young (cheap to collect).
    const batch: PackedMarketEventBatch = { source: this.opts.source, partition: p, batchSeq: this.nextSeq[p]!++, format: PACKED_FORMAT, count, packed: packEvents(events) };
    this.waitingToBeAdded += count;
    this.chains[p] = this.chains[p]!.then(() => this.addInOrder(batch)).finally(() => (this.waitingToBeAdded -= count));
    return this.chains[p]!;
  }

  private async addInOrder(batch: PackedMarketEventBatch): Promise<void> {
    const p = batch.partition;
    for (let attempt = 0; ; attempt++) {
      let republishing = false;
      try {
        if (this.republishFirst[p]) {
          this.republishFirst[p] = false;
          republishing = true;
          for (const earlier of [...this.unapplied[p]!]) await this.add(earlier);
          republishing = false;
          this.stats.republishedBatches += this.unapplied[p]!.length;
        }
        await this.add(batch);
        break;
      } catch (err) {
        // Closed while Redis was down (the close logged what was left).
        if (this.closed) return;
        // A republish cut short goes again in full before this batch.
        if (republishing) this.republishFirst[p] = true;
        this.stats.addRetries++;
        this.stats.lastError = (err as Error).message;
        const wait = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** Math.min(attempt, 16));
        if (attempt === 0 || attempt % 20 === 0) this.log(`publishing batch ${this.jobId(batch)} failed (${(err as Error).message}); retrying every ≤${this.retry.maxMs} ms, ${this.stats.pendingEvents} events held`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    this.stats.lastError = undefined;
    this.unapplied[p]!.push(batch);
    this.published.events += batch.count;
    this.published.batches++;
  }

  private jobId(batch: PackedMarketEventBatch): string {
    return `${batch.source}/${batch.partition}/${batch.batchSeq}`.replace(/[^A-Za-z0-9_./-]/g, '_');
  }

  private async add(batch: PackedMarketEventBatch): Promise<void> {
    await this.queues[batch.partition]!.add('market-events', batch, {
      jobId: this.jobId(batch),
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: { count: 1000 },
      removeOnFail: false,
    });
  }

  /** Drops batches their partition checkpoint shows applied; wakes a waiting `publish`. */
  private async releaseApplied(): Promise<void> {
    const partitions = this.unapplied.flatMap((batches, p) => (batches.length > 0 ? [p] : []));
    if (this.polling || partitions.length === 0 || this.connection.status !== 'ready') return;
    this.polling = true;
    try {
      const ckpts = await this.connection.mget(partitions.map((p) => checkpointKey(this.opts.prefix, this.opts.source, p)));
      partitions.forEach((p, i) => {
        const applied = Number(ckpts[i] ?? -1);
        const batches = this.unapplied[p]!;
        let n = 0;
        while (n < batches.length && batches[n]!.batchSeq <= applied) this.stats.pendingEvents -= batches[n++]!.count;
        batches.splice(0, n);
      });
    } catch {
      // Redis is down: the batches stay held and the next poll tries again.
    } finally {
      this.polling = false;
    }
    if (this.stats.pendingEvents < this.maxPending && this.drained) {
      this.drained.resolve();
      this.drained = undefined;
    }
  }

  private waitForRoom(): Promise<void> {
    this.stats.backPressureWaits++;
    if (!this.drained) {
      this.drained = deferred();
      // Buffers below a batch still count: flush them so the workers can apply (and release) them.
      for (let p = 0; p < this.opts.partitions; p++) void this.flushPartition(p);
    }
    return this.drained.promise;
  }

  async flush(): Promise<void> {
    await Promise.all(this.buffers.map((_, p) => this.flushPartition(p)));
  }

  /**
   * Flushes, then waits until the book workers have applied every batch published so far (each
   * partition's checkpoint reaches the last batch number this publisher used).
   */
  async waitUntilApplied(redis: Redis, pollMs = 20): Promise<void> {
    await this.flush();
    const pending = this.nextSeq.map((next, p) => ({ p, last: next - 1 })).filter((x) => x.last >= 0);
    for (;;) {
      const ckpts = await Promise.all(pending.map(({ p }) => redis.get(checkpointKey(this.opts.prefix, this.opts.source, p))));
      if (ckpts.every((c, i) => Number(c ?? -1) >= pending[i]!.last)) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /**
   * Flushes, then closes the queues. While Redis is down the flush waits for it, up to `timeoutMs`
   * if given (a shutdown must end): what was still not added then is logged with its count.
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    const flushed = this.flush().then(() => true);
    const done = opts.timeoutMs === undefined ? await flushed : await Promise.race([flushed, new Promise<boolean>((r) => setTimeout(() => r(false), opts.timeoutMs).unref())]);
    if (!done) this.log(`publisher ${this.opts.source} closing with Redis unreachable for ${opts.timeoutMs} ms: ${this.stats.pendingEvents} events not confirmed applied, ${this.buffers.flat().length + this.waitingToBeAdded} not added`);
    this.closed = true;
    this.closedAtMs = Date.now();
    clearInterval(this.ackTimer);
    await Promise.all(this.queues.map((q) => q.close()));
    if (this.connection.status !== 'end') await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
