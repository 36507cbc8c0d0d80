import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { SignalEngine } from '../../domain/signals/engine';
import type { DetectedSignal, MarketTick } from '../../domain/signals/types';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint-codec';
import { signalTickBatchSchema, tickFromWire, type SignalTickBatch } from './signal-queue';
import { describeIssues } from '../../domain/validation';

/**
 * Where the signal engine's state lives across restarts. Each applied batch gets the next sequence
 * number of the engine's epoch (a fresh engine starts a new epoch) and the job keeps it in its
 * result; a checkpoint is the engine's state after batch N of its epoch. Restoring loads the state
 * and re-applies, in sequence order, the completed jobs of the same epoch after N that the queue
 * still keeps, so a crash between checkpoints loses no ticks (Flink-style: state + replay).
 */
const checkpointSchema = z.object({
  /** The detection settings it was taken under; other settings start a fresh engine. */
  detection: z.string(),
  /** How many shards the markets were spread over (`signals.shards`; absent: written before sharding, one). */
  shards: z.number().int().positive().optional(),
  epoch: z.string().min(1),
  seq: z.number().int().nonnegative(),
  savedAtMs: z.number(),
  engine: z.unknown(),
});
type Checkpoint = z.infer<typeof checkpointSchema>;

/** SET KEYS[1] ARGV[1] only while the lease KEYS[2] holds ARGV[2]: 1 written, 0 not. */
const FENCED_SET_LUA = `if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0`;

/** Where a signal queue's engine checkpoint is kept (beside, not inside, BullMQ's keys). */
export const engineCheckpointKey = (prefix: string, queueName: string) => `${prefix}:kestrel-signal-engine:${queueName}`;

/** What an applied batch's job returns, so a restore can find and order it. */
export interface AppliedBatch {
  epoch: string;
  engineSeq: number;
}
const appliedBatchSchema = z.object({ epoch: z.string(), engineSeq: z.number().int().positive() });

export interface RestoreReport {
  /** fresh: nothing to restore; restored: carried on from a checkpoint; discarded: a checkpoint was there but unusable (kept aside). */
  outcome: 'fresh' | 'restored' | 'discarded';
  why?: string;
  epoch: string;
  /** Sequence number the checkpoint was taken at, and batches re-applied after it. */
  checkpointSeq?: number;
  replayed: number;
  /** Batches after the checkpoint the queue no longer had (removed, or failed before completing). */
  missing: number;
}

export class CheckpointedSignalEngine {
  private epochId: string = randomUUID();
  private seq = 0;
  private lastSavedMs: number;

  constructor(
    private readonly engine: SignalEngine,
    private readonly opts: {
      redis: Redis;
      key: string;
      detection: string;
      /** `signals.shards` now: a checkpoint of another shard count holds other markets' state and is discarded. */
      shards?: number;
      /** The shard's lease: a checkpoint is written only while `owner` still holds `key` (a cut-off owner writes nothing). */
      lease?: { key: string; owner: string };
      everyMs: number;
      nowMs?: () => number;
      log?: (line: string) => void;
    },
  ) {
    this.lastSavedMs = this.now();
  }

  get epoch(): string {
    return this.epochId;
  }

  private get shards(): number {
    return this.opts.shards ?? 1;
  }

  private now(): number {
    return (this.opts.nowMs ?? Date.now)();
  }

  /** Feeds one batch's ticks to the engine. */
  apply(ticks: readonly MarketTick[]): { detected: DetectedSignal[]; applied: AppliedBatch } {
    const detected = this.engine.onTicks(ticks);
    return { detected, applied: { epoch: this.epochId, engineSeq: ++this.seq } };
  }

  /**
   * After a batch's signals are stored: saves a checkpoint when one is due (checkpoints off at
   * everyMs 0). A failed save is logged, not thrown: the batch is done, and the next one tries again.
   */
  async afterBatch(): Promise<void> {
    if (this.opts.everyMs <= 0 || this.now() - this.lastSavedMs < this.opts.everyMs) return;
    await this.save().catch((err: Error) => this.opts.log?.(`signal engine checkpoint failed (the next batch tries again): ${err.message}`));
  }

  async save(): Promise<void> {
    if (this.opts.everyMs <= 0) return;
    const checkpoint: Checkpoint = { detection: this.opts.detection, shards: this.shards, epoch: this.epochId, seq: this.seq, savedAtMs: this.now(), engine: this.engine.snapshot() };
    const bytes = encodeCheckpoint(checkpoint);
    const lease = this.opts.lease;
    if (!lease) await this.opts.redis.set(this.opts.key, bytes);
    else if ((await this.opts.redis.eval(FENCED_SET_LUA, 2, this.opts.key, lease.key, bytes, lease.owner)) !== 1) {
      throw new Error(`not written: the shard's lease ${lease.key} is no longer held by ${lease.owner}`);
    }
    this.lastSavedMs = checkpoint.savedAtMs;
  }

  /** Loads the last checkpoint (if any, and usable) and re-applies the completed batches after it. Call before the worker runs. */
  async restore(queue: Queue<SignalTickBatch, unknown>): Promise<RestoreReport> {
    const fresh = (outcome: 'fresh' | 'discarded', why?: string): RestoreReport => ({ outcome, why, epoch: this.epochId, replayed: 0, missing: 0 });
    if (this.opts.everyMs <= 0) return fresh('fresh', 'checkpoints are off (signals.checkpointMs = 0)');
    const bytes = await this.opts.redis.getBuffer(this.opts.key);
    if (bytes === null) return fresh('fresh', 'no checkpoint yet');
    const discard = async (why: string) => {
      // Kept for a look, never silently dropped; the engine starts empty.
      await this.opts.redis.set(`${this.opts.key}:discarded:${this.now()}`, bytes, 'EX', 7 * 24 * 3600);
      await this.opts.redis.del(this.opts.key);
      return fresh('discarded', why);
    };
    let checkpoint: Checkpoint;
    try {
      const parsed = checkpointSchema.safeParse(decodeCheckpoint(bytes));
      if (!parsed.success) return await discard(`malformed checkpoint: ${describeIssues(parsed.error.issues, 3)}`);
      checkpoint = parsed.data;
    } catch (err) {
      return discard(`checkpoint cannot be decoded: ${(err as Error).message}`);
    }
    if (checkpoint.detection !== this.opts.detection) return discard('the detection settings changed since the checkpoint');
    if ((checkpoint.shards ?? 1) !== this.shards) return discard(`signals.shards changed since the checkpoint (${checkpoint.shards ?? 1}, now ${this.shards}): markets moved between shards`);
    try {
      this.engine.restore(checkpoint.engine);
    } catch (err) {
      return discard((err as Error).message);
    }
    this.epochId = checkpoint.epoch;
    this.seq = checkpoint.seq;

    const after = (await queue.getJobs(['completed']))
      .flatMap((job) => {
        const applied = appliedBatchSchema.safeParse(job.returnvalue);
        const data = signalTickBatchSchema.safeParse(job.data);
        return applied.success && data.success && applied.data.epoch === checkpoint.epoch && applied.data.engineSeq > checkpoint.seq ? [{ seq: applied.data.engineSeq, batch: data.data }] : [];
      })
      .sort((a, b) => a.seq - b.seq);
    const newest = after.length ? after[after.length - 1]!.seq : checkpoint.seq;
    for (const { batch } of after) this.engine.onTicks(batch.ticks.map(tickFromWire));
    // Their signals were stored when they first ran; the engine only needs their ticks again.
    this.seq = newest;
    return { outcome: 'restored', epoch: this.epochId, checkpointSeq: checkpoint.seq, replayed: after.length, missing: newest - checkpoint.seq - after.length };
  }
}
