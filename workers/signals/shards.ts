import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { kalshiEvent } from '../../domain/market-data/kalshi-tickers';
import type { SignalEngine } from '../../domain/signals/engine';
import { PartitionLeases, type PartitionOwnership } from '../market-data/partition-leases';
import { partitionOf } from '../market-data/partitions';
import { isRedisConnectionError } from '../redis';
import { CheckpointedSignalEngine, engineCheckpointKey, type RestoreReport } from './engine-checkpoint';
import { createSignalQueue, enqueueTicks, type SignalTickBatch, type SignalTickWire } from './signal-queue';
import type { SignalWorkerResult } from './signal-worker';

/**
 * The signal shard of a market: the shard of its correlation group (the Kalshi event), so markets
 * that are correlated with each other always meet in one engine. The engine keeps nothing across
 * groups (trackers per market, correlation per group), so N shards detect exactly what one would.
 */
export const signalShardOf = (market: string, shards: number): number => partitionOf(kalshiEvent(market), shards);

/** One shard keeps the configured queue name (the single queue Kestrel had before sharding); more are `<name>-s<k>`. */
export const signalShardQueueName = (base: string, shard: number, shards: number): string => (shards === 1 ? base : `${base}-s${shard}`);

/**
 * What an owner of shards is told: a shard became this process's alone, or stopped being so —
 * given back (`release`: finish the batch in flight, checkpoint) or found taken (`lost`: stop at
 * once and write nothing, the shard is someone else's).
 */
export interface ShardHandlers {
  /** `lease`: the shard's lease key and this process's owner id, which fence the shard's checkpoint writes. */
  acquired(shard: number, lease?: { key: string; owner: string }): Promise<void>;
  released(shard: number, reason?: 'release' | 'lost'): Promise<void>;
}

/**
 * Who consumes which shard: exactly one live process per shard (a lease in Redis across processes).
 * `start` begins claiming and calls the handlers as shards come and go; `close` gives up every
 * shard this process holds (calling `released` for each) so another process can take it over.
 */
export interface ShardOwnership {
  start(handlers: ShardHandlers): Promise<void>;
  close(): Promise<void>;
}

/**
 * Shards shared by the live processes through Redis leases: the market-data partitions' lease
 * machinery (PartitionLeases: fair share, renewal every third of the TTL, give-back), on keys and a
 * membership of the signal queue's own.
 */
export function leasedShards(opts: { redis: Redis; prefix: string; queueBase: string; shards: number; leaseTtlMs: number; log(line: string): void }): ShardOwnership & { ownership(): PartitionOwnership | undefined } {
  let leases: PartitionLeases | undefined;
  return {
    async start(handlers) {
      const shardLeases: PartitionLeases = new PartitionLeases({
        redis: opts.redis,
        prefix: opts.prefix,
        queueBase: `signals:${opts.queueBase}`,
        partitions: opts.shards,
        leaseTtlMs: opts.leaseTtlMs,
        start: (shard) => handlers.acquired(shard, { key: shardLeases.leaseKey(shard), owner: shardLeases.owner }),
        stop: (shard, reason) => handlers.released(shard, reason),
        subject: 'signal shard',
        log: opts.log,
      });
      leases = shardLeases;
      await shardLeases.start();
    },
    close: () => leases?.stop() ?? Promise.resolve(),
    ownership: () => leases?.ownership(),
  };
}

export interface SignalShardsOptions {
  count: number;
  queueBase: string;
  prefix: string;
  /** For the shard queues (producers) and the engine checkpoints. */
  connection: Redis;
  /** The detection settings checkpoints are taken under (detectionSettings). */
  detection: string;
  checkpointMs: number;
  createEngine(): SignalEngine;
  /** The BullMQ worker of a shard this process owns, not running yet (createSignalWorker). */
  createWorker(queueName: string, engine: CheckpointedSignalEngine): Worker<SignalTickBatch, SignalWorkerResult>;
  log(line: string): void;
}

interface OwnedShard {
  engine: CheckpointedSignalEngine;
  worker: Worker<SignalTickBatch, SignalWorkerResult>;
  restored: RestoreReport;
}

/**
 * The signal engine split into `count` shards: one queue, one engine and one checkpoint key per
 * shard. Any process enqueues ticks to any shard; only the shard's owner runs its engine, which it
 * restores from the shard's checkpoint (plus the batches completed since) when it takes the shard.
 */
export class SignalShards implements ShardHandlers {
  readonly queues: Queue<SignalTickBatch, unknown>[];
  private readonly owned = new Map<number, OwnedShard>();
  /** Taking and giving up one shard never overlap (a lease flapping must not start two workers). */
  private readonly transitions = new Map<number, Promise<void>>();

  constructor(private readonly opts: SignalShardsOptions) {
    if (!Number.isInteger(opts.count) || opts.count < 1) throw new Error(`signal shards must be a positive integer, got ${opts.count}`);
    this.queues = Array.from({ length: opts.count }, (_, shard) => createSignalQueue(this.queueName(shard), opts.connection, opts.prefix));
    for (const queue of this.queues) {
      queue.on('error', (err) => {
        if (!isRedisConnectionError(err)) opts.log(`signal queue ${queue.name} error: ${err.message}`);
      });
    }
  }

  get count(): number {
    return this.opts.count;
  }

  queueName(shard: number): string {
    return signalShardQueueName(this.opts.queueBase, shard, this.opts.count);
  }

  checkpointKey(shard: number): string {
    return engineCheckpointKey(this.opts.prefix, this.queueName(shard));
  }

  /** Shards this process runs now, ascending. */
  ownedShards(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  /** How the shard's engine was picked up when this process took it (undefined: not owned here). */
  restored(shard: number): RestoreReport | undefined {
    return this.owned.get(shard)?.restored;
  }

  /** Sends one applied batch's ticks to the shards of their markets (one job per shard touched, same id in each). */
  async enqueue(batch: { source: string; partition: number; batchSeq: number }, ticks: readonly SignalTickWire[]): Promise<void> {
    const byShard = new Map<number, SignalTickWire[]>();
    for (const tick of ticks) {
      const shard = signalShardOf(tick.m, this.opts.count);
      const list = byShard.get(shard);
      if (list) list.push(tick);
      else byShard.set(shard, [tick]);
    }
    await Promise.all([...byShard].map(([shard, shardTicks]) => enqueueTicks(this.queues[shard]!, { ...batch, ticks: shardTicks })));
  }

  acquired(shard: number, lease?: { key: string; owner: string }): Promise<void> {
    return this.transition(shard, async () => {
      if (this.owned.has(shard)) return;
      const o = this.opts;
      const queue = this.queues[shard]!;
      // The shard is ours, so a batch still active was left by an owner that died: back to the front first.
      const active = (await queue.getActive()) as Job[];
      for (const job of active) await job.moveToWait('0');
      if (active.length > 0) o.log(`signal shard ${shard}: ${active.length} batch(es) left active by the previous owner put back first`);
      const engine = new CheckpointedSignalEngine(o.createEngine(), { redis: o.connection, key: this.checkpointKey(shard), detection: o.detection, shards: o.count, lease, everyMs: o.checkpointMs, log: o.log });
      const restored = await engine.restore(queue);
      o.log(`signal shard ${shard}/${o.count} taken: engine ${restored.outcome}${restored.why ? ` (${restored.why})` : ''}, checkpoint at batch ${restored.checkpointSeq ?? '-'}, ${restored.replayed} batches re-applied, ${restored.missing} missing`);
      const worker = o.createWorker(this.queueName(shard), engine);
      worker.run().catch((err: Error) => o.log(`signal worker of shard ${shard} stopped: ${err.message}`));
      this.owned.set(shard, { engine, worker, restored });
    });
  }

  released(shard: number, reason: 'release' | 'lost' = 'release'): Promise<void> {
    return this.transition(shard, async () => {
      const owned = this.owned.get(shard);
      if (!owned) return;
      this.owned.delete(shard);
      if (reason === 'lost') {
        // Another process may already run this shard: no checkpoint from here, its batch in flight goes back to it.
        await owned.worker.close(true);
        this.opts.log(`signal shard ${shard}/${this.opts.count} lost: stopped without a checkpoint`);
        return;
      }
      await owned.worker.close();
      // The last batch is done: the next owner carries on from here without re-applying anything.
      await owned.engine.save().catch((err: Error) => this.opts.log(`signal shard ${shard} checkpoint at release failed: ${err.message}`));
      this.opts.log(`signal shard ${shard}/${this.opts.count} released`);
    });
  }

  /** Releases every shard still held (an ownership's close normally did) and closes the queues. */
  async close(): Promise<void> {
    await Promise.all([...this.owned.keys()].map((shard) => this.released(shard)));
    await Promise.all(this.queues.map((q) => q.close()));
  }

  private transition(shard: number, step: () => Promise<void>): Promise<void> {
    const next = (this.transitions.get(shard) ?? Promise.resolve()).then(step);
    const settled = next.catch(() => {});
    this.transitions.set(shard, settled);
    void settled.then(() => {
      if (this.transitions.get(shard) === settled) this.transitions.delete(shard);
    });
    return next;
  }
}
