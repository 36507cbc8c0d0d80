import assert from 'node:assert/strict';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { PACKED_FORMAT, packEvents } from '../../domain/market-data/batch-codec';
import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEvent } from '../../domain/market-data/events';
import { bookSnapshotKey, checkpointKey, createBookWorker, topOfBookKey } from '../../workers/market-data/book-worker';
import { PartitionLeases, partitionLeaseKey, readPartitionOwners, startLeasedBookWorkers, type StopReason } from '../../workers/market-data/partition-leases';
import { partitionOf, partitionQueueName } from '../../workers/market-data/partitions';
import type { MarketEventJob } from '../../workers/market-data/publisher';
import { createRedis } from '../../workers/redis';
import { getHarness, uniqueName } from '../support/harness';
import { waitFor } from '../support/wait';

const TTL = 600;

describe('market-data partition leases (real Redis)', function () {
  this.timeout(60_000);
  let redis: Redis;
  let workerConn: Redis;
  let database: DatabaseHandle;
  const prefixes: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const newPrefix = () => {
    const p = uniqueName('kestrel-lease');
    prefixes.push(p);
    return p;
  };

  before(async () => {
    const harness = await getHarness();
    redis = createRedis(harness.redisUrl, 'producer');
    workerConn = createRedis(harness.redisUrl, 'worker');
    database = openDatabase(harness.databaseUrl, { max: 2 });
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis?.disconnect();
    workerConn?.disconnect();
    await database?.close();
  });

  /** A lease holder whose start/stop only record what they were asked. */
  function recordingLeases(prefix: string, owner: string, calls: string[]) {
    const leases = new PartitionLeases({
      redis,
      prefix,
      queueBase: 'md',
      partitions: 4,
      leaseTtlMs: TTL,
      owner,
      start: async (p) => void calls.push(`${owner} start ${p}`),
      stop: async (p: number, reason: StopReason) => void calls.push(`${owner} ${reason} ${p}`),
    });
    cleanups.push(() => leases.stop());
    return leases;
  }

  it('shares partitions fairly: a joiner gets ceil(n / members), a leaver gives its own back, a dead owner expires', async () => {
    const prefix = newPrefix();
    const calls: string[] = [];
    const a = recordingLeases(prefix, 'A', calls);
    await a.start();
    assert.deepEqual(a.ownership().owned, [0, 1, 2, 3]);
    const b = recordingLeases(prefix, 'B', calls);
    await b.start();
    // A sees B on its next round, gives two back (stopped, then released); B takes them on its next round.
    await waitFor(async () => (await readPartitionOwners(redis, prefix, 'md', 4)).partitions.map((p) => p.owner), (o) => o.filter((x) => x === 'A').length === 2 && o.filter((x) => x === 'B').length === 2, 'A and B two each', 10_000);
    assert.deepEqual(a.ownership().owned, [0, 1]);
    assert.ok(calls.includes('A release 3') && calls.includes('A release 2'));
    assert.equal(calls.filter((c) => c.startsWith('B start')).length, 2);

    // B dies without a word (its rounds stop; its leases and membership expire): A takes everything back within about a TTL.
    (b as unknown as { stopped: boolean }).stopped = true;
    const died = Date.now();
    await waitFor(async () => (await readPartitionOwners(redis, prefix, 'md', 4)).partitions.every((p) => p.owner === 'A'), Boolean, 'A owns all again', 10_000, 20);
    const takeoverMs = Date.now() - died;
    assert.ok(takeoverMs < 3 * TTL, `taken over in ${takeoverMs} ms`);
    await a.stop();
    assert.deepEqual((await readPartitionOwners(redis, prefix, 'md', 4)).partitions.map((p) => p.owner), [null, null, null, null], 'stop releases every lease');
    assert.deepEqual((await readPartitionOwners(redis, prefix, 'md', 4)).members, []);
  });

  it('a lease found taken stops its consumer at once', async () => {
    const prefix = newPrefix();
    const calls: string[] = [];
    const a = recordingLeases(prefix, 'A', calls);
    await a.start();
    await redis.set(partitionLeaseKey(prefix, 'md', 2), 'thief', 'PX', 10_000);
    await a.tick();
    assert.ok(calls.includes('A lost 2'));
    assert.equal(a.owns(2), false);
  });

  const batchOf = (source: string, partition: number, batchSeq: number, events: MarketEvent[]): MarketEventJob => ({ source, partition, batchSeq, format: PACKED_FORMAT, count: events.length, packed: packEvents(events) });
  const snapshotEvent = (m: string, ts: number, bid: string): MarketEvent => ({ t: 'snapshot', m, ts, yes: [[bid, '10.00']], no: [['0.40', '5.00']] });

  it('fences the checkpoint: a worker whose lease is taken mid-batch writes nothing and gives the batch back', async () => {
    const prefix = newPrefix();
    const key = partitionLeaseKey(prefix, 'md', 0);
    await redis.set(key, 'me', 'PX', 30_000);
    const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
    let lost = 0;
    // The lease moves to another process between the apply and the checkpoint write (a paused owner).
    const worker = createBookWorker({ connection: workerConn, redis, prefix, queueBase: 'md', partition: 0, db: database.db, store, lease: { key, owner: 'me' }, onApplied: () => void redis.set(key, 'new-owner', 'PX', 30_000), onLeaseLost: () => lost++ });
    cleanups.push(() => worker.worker.close(true));
    const queue = new Queue<MarketEventJob>(partitionQueueName('md', 0), { connection: redis, prefix });
    cleanups.push(() => queue.close());
    await queue.add('market-events', batchOf('s', 0, 0, [snapshotEvent('FENCE-M', 1, '0.55')]), { jobId: 's/0/0' });
    await waitFor(() => lost, (n) => n > 0, 'lease loss noticed');
    await worker.worker.close(true);
    assert.equal(await redis.get(checkpointKey(prefix, 's', 0)), null, 'no checkpoint');
    assert.deepEqual(await redis.hgetall(bookSnapshotKey(prefix, 'md', 0)), {}, 'no snapshot');
    assert.deepEqual(await redis.hgetall(topOfBookKey(prefix, 'FENCE-M')), {}, 'no top of book');
    await waitFor(() => queue.getJobState('s/0/0'), (s) => s === 'waiting', 'the batch is waiting again for the owner');
  });

  it('a new owner puts a dead owner\'s active batch back first and restores the books from the checkpointed snapshots', async () => {
    const prefix = newPrefix();
    const partitions = 2;
    const market = ['TAKE-A', 'TAKE-B', 'TAKE-C', 'TAKE-D'].find((m) => partitionOf(m, partitions) === 0)!;
    const queues = Array.from({ length: partitions }, (_, p) => new Queue<MarketEventJob>(partitionQueueName('md', p), { connection: redis, prefix }));
    for (const q of queues) cleanups.push(() => q.close());
    // The first owner applies batch 0 and checkpoints it, then dies (SIGKILL: no release) holding batch 1 active.
    const leaseKey = partitionLeaseKey(prefix, 'md', 0);
    await redis.set(leaseKey, 'first', 'PX', TTL);
    const first = createBookWorker({ connection: workerConn, redis, prefix, queueBase: 'md', partition: 0, db: database.db, store: new BookStore({ historyCapacity: 10, sampleMs: 1000 }), lease: { key: leaseKey, owner: 'first' } });
    await queues[0]!.add('market-events', batchOf('s', 0, 0, [snapshotEvent(market, 1, '0.50')]), { jobId: 's/0/0' });
    await waitFor(() => redis.get(checkpointKey(prefix, 's', 0)), (c) => c === '0', 'batch 0 checkpointed');
    // Its worker is gone (closed here so that it takes nothing more); its lease is left to expire.
    await first.worker.close();
    await queues[0]!.add('market-events', batchOf('s', 0, 1, [{ t: 'delta', m: market, ts: 2, side: 'yes', price: '0.50', delta: '1.00' }]), { jobId: 's/0/1' });
    await queues[0]!.add('market-events', batchOf('s', 0, 2, [{ t: 'delta', m: market, ts: 3, side: 'yes', price: '0.50', delta: '2.00' }]), { jobId: 's/0/2' });
    // Batch 1 taken from the queue as the dying owner's worker took it, never finished.
    const orphan = new Worker(partitionQueueName('md', 0), null, { connection: redis.duplicate(), prefix, autorun: false });
    cleanups.push(() => orphan.close(true));
    assert.equal((await orphan.getNextJob('dead-token'))?.id, 's/0/1');
    assert.equal(await queues[0]!.getJobState('s/0/1'), 'active');

    const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
    const second = await startLeasedBookWorkers({ connection: workerConn, redis, prefix, queueBase: 'md', partitions, leaseTtlMs: TTL, queues, db: database.db, store, owner: 'second' });
    cleanups.push(() => second.close());
    await waitFor(() => redis.get(checkpointKey(prefix, 's', 0)), (c) => c === '2', 'batches 1 and 2 applied by the new owner', 10_000);
    // 10 from the snapshot (restored), +1 (batch 1, put back first), +2 (batch 2): in order, once each.
    assert.equal(store.state(market).book.sizeAt('yes', 5000), 13_000_000);
    assert.equal(store.state(market).book.stale, false);
  });
});
