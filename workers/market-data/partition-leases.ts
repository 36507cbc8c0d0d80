import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodeMarketSnapshot, restoreMarketSnapshot } from '../../domain/market-data/book-snapshot';
import { bookSnapshotKey, createBookWorker, type BookWorkerOptions, type BookWorkerResult } from './book-worker';
import { partitionOf } from './partitions';
import type { MarketEventJob } from './publisher';

export const partitionLeaseKey = (prefix: string, queueBase: string, partition: number) => `${prefix}:md:lease:${queueBase}:${partition}`;
/** A sorted set owner → expiry (Redis server time, ms): the processes alive now, renewed with the leases. */
export const partitionMembersKey = (prefix: string, queueBase: string) => `${prefix}:md:members:${queueBase}`;

/** `host:pid:random`: unique per process start, readable in `kestrel health`. */
export function newOwnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

// Lease primitives: SET NX PX to take, compare-and-pexpire to renew, compare-and-del to release.
// Renew answers 1 (renewed), 0 (another process holds it) or -1 (nobody does: it expired).
const RENEW_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder then return 0 end
return -1`;
const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Membership on the server's clock (processes on several hosts need not agree on time): drops the
// expired, adds (ARGV[3] = '1') or removes this owner, answers the live owners.
const MEMBERS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[3] == '1' then redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) else redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZRANGE', KEYS[1], 0, -1)`;

type LeaseRedis = Redis & {
  kestrelLeaseRenew(key: string, owner: string, ttlMs: number): Promise<number>;
  kestrelLeaseRelease(key: string, owner: string): Promise<number>;
  kestrelMembers(key: string, owner: string, ttlMs: number, join: '1' | '0'): Promise<string[]>;
};

function leaseCommands(redis: Redis): LeaseRedis {
  if (!('kestrelLeaseRenew' in redis)) {
    redis.defineCommand('kestrelLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    redis.defineCommand('kestrelLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    redis.defineCommand('kestrelMembers', { numberOfKeys: 1, lua: MEMBERS_LUA });
  }
  return redis as LeaseRedis;
}

/** Why a partition stops being consumed here: given away to even the load, or its lease found lost. */
export type StopReason = 'release' | 'lost';

export interface PartitionLeasesOptions {
  redis: Redis;
  prefix: string;
  queueBase: string;
  partitions: number;
  leaseTtlMs: number;
  owner?: string;
  /** Starts consuming a partition whose lease was just taken; a throw gives the lease back. */
  start(partition: number): Promise<void>;
  /** Stops consuming: after the in-flight batch (`release`), or at once (`lost`: the lease is someone else's or nobody's). */
  stop(partition: number, reason: StopReason, takenBy: 'other' | 'nobody' | undefined): Promise<void>;
  /** What a partition is called in the log lines (default 'market-data partition'; e.g. 'signal shard'). */
  subject?: string;
  log?: (line: string) => void;
}

export interface PartitionOwnership {
  owner: string;
  /** Partitions consumed here. */
  owned: number[];
  /** Live processes sharing the partitions (this one included). */
  members: string[];
  /** The share each takes: ceil(partitions / live members). */
  target: number;
}

/**
 * Partition ownership through Redis leases: each process announces itself (membership with a TTL),
 * takes its fair share ceil(partitions / live members) of the free partitions, renews what it holds
 * every third of the TTL, gives extra partitions back gracefully (its worker finishes the batch in
 * flight, then the lease is deleted) and stops at once consuming a partition whose lease it lost.
 */
export class PartitionLeases {
  readonly owner: string;
  private readonly redis: LeaseRedis;
  /** Leases held: consuming, or being given back (the lease is renewed until its worker has stopped). */
  private readonly held = new Map<number, 'consuming' | 'releasing'>();
  /** Give-backs in progress, so a shutdown waits for them instead of releasing under a running worker. */
  private readonly givingBack = new Map<number, Promise<void>>();
  private members: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private lastReported = '';
  /** What a partition is called in the log lines. */
  private readonly subject: string;

  constructor(private readonly opts: PartitionLeasesOptions) {
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1) throw new Error(`partition leases need a positive whole number of partitions, got ${opts.partitions}`);
    if (!Number.isInteger(opts.leaseTtlMs) || opts.leaseTtlMs < 300) throw new Error(`marketData.leaseTtlMs must be a whole number of at least 300 ms, got ${opts.leaseTtlMs}`);
    this.owner = opts.owner ?? newOwnerId();
    this.redis = leaseCommands(opts.redis);
    this.subject = opts.subject ?? 'market-data partition';
  }

  leaseKey(partition: number): string {
    return partitionLeaseKey(this.opts.prefix, this.opts.queueBase, partition);
  }

  owns(partition: number): boolean {
    return this.held.get(partition) === 'consuming';
  }

  ownership(): PartitionOwnership {
    return { owner: this.owner, owned: this.consuming(), members: [...this.members], target: this.target() };
  }

  /** Takes this process's share now, then keeps the leases every third of the TTL. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), Math.max(100, Math.floor(this.opts.leaseTtlMs / 3)));
    this.timer.unref();
  }

  /** Runs one round (renew, balance) now, after any round in progress. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.round()
      .catch((err: Error) => this.log(`${this.subject} leases: ${err.message}`))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  /** Stops every partition after its batch in flight, releases the leases and leaves the membership. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    const held = [...this.held.keys()];
    await Promise.all(held.map((p) => this.giveBack(p)));
    await this.redis.kestrelMembers(partitionMembersKey(this.opts.prefix, this.opts.queueBase), this.owner, this.opts.leaseTtlMs, '0').catch(() => undefined);
    this.report();
  }

  private consuming(): number[] {
    return [...this.held].filter(([, s]) => s === 'consuming').map(([p]) => p).sort((a, b) => a - b);
  }

  private target(): number {
    return Math.ceil(this.opts.partitions / Math.max(1, this.members.length));
  }

  private async round(): Promise<void> {
    const { prefix, queueBase, leaseTtlMs, partitions } = this.opts;
    this.members = await this.redis.kestrelMembers(partitionMembersKey(prefix, queueBase), this.owner, leaseTtlMs, '1');
    // Renew first: a lease found lost stops its consumer before anything else happens.
    for (const [partition, state] of [...this.held]) {
      const renewed = await this.redis.kestrelLeaseRenew(this.leaseKey(partition), this.owner, leaseTtlMs);
      if (renewed === 1) continue;
      this.held.delete(partition);
      this.log(`${this.subject} ${partition}: lease lost (${renewed === 0 ? 'another process holds it' : 'it expired'}) while ${state}; stopped consuming it`);
      await this.opts.stop(partition, 'lost', renewed === 0 ? 'other' : 'nobody');
    }
    if (this.stopped) return;
    const target = this.target();
    const consuming = this.consuming();
    // Over the share: the highest partitions go back, each after its batch in flight (not awaited: renewals go on meanwhile).
    for (const partition of consuming.slice(target).reverse()) {
      this.held.set(partition, 'releasing');
      void this.giveBack(partition);
    }
    // Under the share: free partitions, tried from an offset per process so joiners do not all race for the same ones.
    let count = Math.min(consuming.length, target);
    const rank = Math.max(0, this.members.indexOf(this.owner));
    for (let i = 0; i < partitions && count < target; i++) {
      const partition = (rank * target + i) % partitions;
      if (this.held.has(partition)) continue;
      const taken = await this.opts.redis.set(this.leaseKey(partition), this.owner, 'PX', leaseTtlMs, 'NX');
      if (taken !== 'OK') continue;
      this.held.set(partition, 'consuming');
      try {
        await this.opts.start(partition);
        count++;
      } catch (err) {
        this.held.delete(partition);
        await this.redis.kestrelLeaseRelease(this.leaseKey(partition), this.owner);
        this.log(`${this.subject} ${partition}: could not start consuming (${(err as Error).message}); lease given back`);
      }
    }
    this.report();
  }

  private giveBack(partition: number): Promise<void> {
    let done = this.givingBack.get(partition);
    if (!done) {
      done = this.stopAndRelease(partition).finally(() => this.givingBack.delete(partition));
      this.givingBack.set(partition, done);
    }
    return done;
  }

  private async stopAndRelease(partition: number): Promise<void> {
    try {
      await this.opts.stop(partition, 'release', undefined);
    } finally {
      // Released only once its worker is stopped: until then nobody else may take its batches.
      if (this.held.get(partition) === 'releasing' || this.stopped) {
        this.held.delete(partition);
        await this.redis.kestrelLeaseRelease(this.leaseKey(partition), this.owner).catch(() => undefined);
      }
      this.report();
    }
  }

  /** Logs what this process owns whenever that changes. */
  private report(): void {
    const owned = this.consuming();
    const line = `${this.subject}s owned by ${this.owner}: [${owned.join(', ')}] of ${this.opts.partitions} (${this.members.length} live process${this.members.length === 1 ? '' : 'es'}, share ${this.target()})`;
    if (line === this.lastReported) return;
    this.lastReported = line;
    this.log(line);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}

/** Who holds each partition's lease now and for how much longer, and the live processes (for `kestrel health`). */
export async function readPartitionOwners(redis: Redis, prefix: string, queueBase: string, partitions: number): Promise<{ partitions: { partition: number; owner: string | null; ttlMs: number | null }[]; members: string[] }> {
  const pipeline = redis.pipeline();
  for (let p = 0; p < partitions; p++) {
    pipeline.get(partitionLeaseKey(prefix, queueBase, p));
    pipeline.pttl(partitionLeaseKey(prefix, queueBase, p));
  }
  // Members whose expiry (server clock) is still ahead.
  const [seconds, micros] = await redis.time();
  pipeline.zrangebyscore(partitionMembersKey(prefix, queueBase), Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), '+inf');
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const value = (i: number) => replies[i]![1];
  return {
    partitions: Array.from({ length: partitions }, (_, p) => {
      const owner = value(2 * p) as string | null;
      return { partition: p, owner, ttlMs: owner === null ? null : (value(2 * p + 1) as number) };
    }),
    members: value(2 * partitions) as string[],
  };
}

export interface LeasedBookWorkersOptions extends Omit<BookWorkerOptions, 'partition' | 'lease' | 'onLeaseLost' | 'workerOptions'> {
  partitions: number;
  leaseTtlMs: number;
  /** The partition queues (a producer connection): orphaned batches of a dead owner are put back through them. */
  queues: readonly Queue[];
  owner?: string;
  /** Each book worker as it starts (attach listeners). */
  onWorker?: (worker: Worker<MarketEventJob, BookWorkerResult>, partition: number) => void;
}

export interface LeasedBookWorkers {
  leases: PartitionLeases;
  /** Whether this process consumes the partition of `market` now (its books here are the owner's). */
  ownsMarket(market: string): boolean;
  /** Stops every book worker after its batch in flight, then releases the leases. */
  close(): Promise<void>;
}

/**
 * One book worker per partition this process owns (PartitionLeases). Taking a partition over:
 * batches a dead owner left active go back to the front of the queue, in order; the partition's
 * books are restored from the snapshots written with its checkpoints; only then does the worker
 * start. Giving it up drops its books here (another process owns them now).
 */
export async function startLeasedBookWorkers(opts: LeasedBookWorkersOptions): Promise<LeasedBookWorkers> {
  const { partitions, leaseTtlMs, queues, onWorker, owner, ...workerOpts } = opts;
  const log = opts.log ?? (() => {});
  const running = new Map<number, ReturnType<typeof createBookWorker>>();

  const dropBooks = (partition: number) => {
    for (const market of [...opts.store.markets.keys()]) if (partitionOf(market, partitions) === partition) opts.store.markets.delete(market);
  };

  const start = async (partition: number) => {
    const queue = queues[partition];
    if (!queue) throw new Error(`no queue for market-data partition ${partition}`);
    // One batch active at a time across every process (BullMQ global concurrency): an old owner that
    // took a batch just before it noticed the lease gone holds the queue until it gives the batch back
    // to the front, so the new owner can never take a later batch ahead of it.
    await queue.setGlobalConcurrency(1);
    // The lease is ours, so any batch still active was left by an owner that died or lost the lease
    // (a live but cut-off one is fenced at its checkpoint write). Highest first: each goes to the
    // front, so the lowest ends up first.
    const active = (await queue.getActive()) as Job[];
    const seq = (job: Job) => Number(String(job.id).split('/').at(-1));
    for (const job of active.sort((a, b) => seq(b) - seq(a))) await job.moveToWait('0');
    if (active.length > 0) log(`market-data partition ${partition}: ${active.length} batch(es) left active by the previous owner put back first`);
    const stored = await opts.redis.hgetall(bookSnapshotKey(opts.prefix, opts.queueBase, partition));
    // No snapshot: nothing was ever checkpointed here, or Redis came back empty (the books here are then the only copy: kept).
    for (const [market, text] of Object.entries(stored)) restoreMarketSnapshot(opts.store.state(market), market, decodeMarketSnapshot(market, text));
    const bookWorker = createBookWorker({
      ...workerOpts,
      partition,
      lease: { key: leases.leaseKey(partition), owner: leases.owner },
      onLeaseLost: () => void leases.tick(),
    });
    running.set(partition, bookWorker);
    onWorker?.(bookWorker.worker, partition);
  };

  const stop = async (partition: number, reason: StopReason, takenBy: 'other' | 'nobody' | undefined) => {
    const bookWorker = running.get(partition);
    running.delete(partition);
    if (bookWorker) {
      if (reason === 'lost') {
        // At once: the batch in flight, if any, is fenced (its checkpoint write fails) and handed back.
        bookWorker.closing.abort();
        await bookWorker.worker.close(true);
      } else await bookWorker.worker.close();
    }
    if (takenBy !== 'nobody') dropBooks(partition);
  };

  const leases = new PartitionLeases({ redis: opts.redis, prefix: opts.prefix, queueBase: opts.queueBase, partitions, leaseTtlMs, owner, start, stop, log });
  await leases.start();
  return {
    leases,
    ownsMarket: (market) => leases.owns(partitionOf(market, partitions)),
    close: () => {
      // Shutting down: a batch whose history cannot be persisted stops retrying (it is redelivered to the next owner).
      for (const bookWorker of running.values()) bookWorker.closing.abort();
      return leases.stop();
    },
  };
}
