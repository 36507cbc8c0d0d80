import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
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
}

/**
 * Turns a stream of market events into BullMQ jobs: one job per batch per partition (never one job
 * per tick). Job ids are `source/partition/batchSeq`, so re-publishing the same stream enqueues
 * nothing twice.
 */
export class MarketDataPublisher {
  readonly queues: Queue<MarketEventBatch>[];
  private readonly buffers: MarketEvent[][];
  private readonly nextSeq: number[];
  private readonly timers: (NodeJS.Timeout | undefined)[];
  private readonly inFlight = new Set<Promise<unknown>>();
  published = { events: 0, batches: 0 };

  constructor(private readonly opts: PublisherOptions) {
    this.queues = Array.from({ length: opts.partitions }, (_, p) => new Queue<MarketEventBatch>(partitionQueueName(opts.queueBase, p), { connection: opts.connection, prefix: opts.prefix }));
    this.buffers = Array.from({ length: opts.partitions }, () => []);
    this.nextSeq = Array.from({ length: opts.partitions }, () => 0);
    this.timers = Array.from({ length: opts.partitions }, () => undefined);
  }

  async publish(event: MarketEvent): Promise<void> {
    const p = partitionOf(event.m, this.opts.partitions);
    const buffer = this.buffers[p]!;
    buffer.push(event);
    if (buffer.length >= this.opts.batchSize) await this.flushPartition(p);
    else this.timers[p] ??= setTimeout(() => void this.track(this.flushPartition(p)), this.opts.maxDelayMs);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise)).catch(() => {});
    return promise;
  }

  private async flushPartition(p: number): Promise<void> {
    clearTimeout(this.timers[p]);
    this.timers[p] = undefined;
    const events = this.buffers[p]!;
    if (events.length === 0) return;
    this.buffers[p] = [];
    const batchSeq = this.nextSeq[p]!++;
    const batch: MarketEventBatch = { source: this.opts.source, partition: p, batchSeq, events };
    await this.queues[p]!.add('market-events', batch, {
      jobId: `${this.opts.source}/${p}/${batchSeq}`.replace(/[^A-Za-z0-9_./-]/g, '_'),
      attempts: this.opts.attempts,
      backoff: { type: 'exponential', delay: 200 },
      removeOnComplete: { count: 1000 },
      removeOnFail: false,
    });
    this.published.events += events.length;
    this.published.batches++;
  }

  async flush(): Promise<void> {
    await Promise.all(this.buffers.map((_, p) => this.flushPartition(p)));
    await Promise.all([...this.inFlight]);
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

  async close(): Promise<void> {
    await this.flush();
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
