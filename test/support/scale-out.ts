import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { asc, eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { exitAttempts, orders } from '../../db/schema';
import { BookStore } from '../../domain/market-data/book-store';
import { decodeMarketSnapshot } from '../../domain/market-data/book-snapshot';
import { toUnits, type MarketEvent } from '../../domain/market-data/events';
import type { BookState } from '../../domain/market-data/order-book';
import { bookSnapshotKey, type CheckpointedBatch } from '../../workers/market-data/book-worker';
import { readPartitionOwners } from '../../workers/market-data/partition-leases';
import { MarketDataPublisher } from '../../workers/market-data/publisher';
import { positionQuery, positionWorkflow, requestExitUpdate, type PositionInput, type PositionSnapshot } from '../../workflows/position';
import { judge, WALK_BOOK } from './crash-harness';

const REPO = path.resolve(__dirname, '..', '..');

/** What every scale-out worker process shares: services, names, and the market-data layout. */
export interface ScaleEnv {
  databaseUrl: string;
  redisUrl: string;
  temporalAddress: string;
  taskQueue: string;
  redisPrefix: string;
  queueBase: string;
  partitions: number;
  leaseTtlMs: number;
  /** A prebuilt workflow bundle (each process would otherwise bundle on start). */
  workflowBundlePath: string;
  /** Markets with a fixed book in every process (the positions' markets). */
  seedBooks: Record<string, unknown>;
}

export interface ScaleWorker {
  child: ChildProcess;
  owner: string;
  /** Batches this process checkpointed, as it reported them. */
  checkpoints: CheckpointedBatch[];
  /** Its log lines (ownership changes among them). */
  lines: string[];
  exited: Promise<void>;
}

/** Starts a worker process on `env`; resolves once its stack is up (it holds its first share of partitions by then). */
export function spawnScaleWorker(env: ScaleEnv, log: (line: string) => void = () => {}): Promise<ScaleWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'support', 'scale-worker.ts')], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.redisUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      KESTREL__TEMPORAL__TASK_QUEUE: env.taskQueue,
      KESTREL__REDIS__KEY_PREFIX: env.redisPrefix,
      KESTREL__MARKET_DATA__QUEUE_BASE: env.queueBase,
      KESTREL__MARKET_DATA__PARTITIONS: String(env.partitions),
      KESTREL__MARKET_DATA__LEASE_TTL_MS: String(env.leaseTtlMs),
      KESTREL__DATABASE__POOL_MAX: '4',
      KESTREL__PAPER__LATENCY_MS: '0',
      KESTREL__RISK__MAX_CONSECUTIVE_LOSSES: '1000000',
      KESTREL__RISK__DAILY_LOSS_LIMIT_FRACTION: '1',
      KESTREL__RISK__NO_ENTRY_BEFORE_CLOSE_MS: '0',
      KESTREL__ALERTS__STALE_WATCH_MS: '0',
      KESTREL__VENUES__REBALANCE_EVERY_MS: '0',
      KESTREL__LOGGING__LEVEL: 'warn',
      KESTREL_WORKFLOW_BUNDLE: env.workflowBundlePath,
      KESTREL_SCALE_BOOKS: JSON.stringify(env.seedBooks),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: ScaleWorker = { child, owner: '', checkpoints: [], lines: [], exited: new Promise((r) => child.once('exit', () => r())) };
  let pending = '';
  let errPending = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('CKPT ')) worker.checkpoints.push(JSON.parse(line.slice(5)) as CheckpointedBatch);
        else if (line.startsWith('READY ')) {
          worker.owner = line.slice(6);
          resolve(worker);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      errPending += d.toString();
      const lines = errPending.split('\n');
      errPending = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        worker.lines.push(line);
        log(`  [${child.pid}] ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`scale worker exited (${code ?? signal}) before it was ready: ${worker.lines.slice(-5).join(' | ')}`)));
  });
}

export function killWorker(worker: ScaleWorker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  return worker.exited;
}

export async function stopWorker(worker: ScaleWorker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await worker.exited;
}

/** Partition → owner now. */
export async function owners(redis: Redis, env: ScaleEnv): Promise<(string | null)[]> {
  return (await readPartitionOwners(redis, env.redisPrefix, env.queueBase, env.partitions)).partitions.map((p) => p.owner);
}

/**
 * Waits until every partition is held by one of `live` and each holds its fair share
 * (ceil(partitions / live)) at most; resolves with the ms waited.
 */
export async function waitForBalance(redis: Redis, env: ScaleEnv, live: string[], timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  const share = Math.ceil(env.partitions / live.length);
  for (;;) {
    const held = await owners(redis, env);
    const counts = live.map((o) => held.filter((h) => h === o).length);
    if (held.every((o) => o !== null && live.includes(o)) && counts.every((c) => c <= share)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`partitions not shared among ${live.join(', ')} within ${timeoutMs} ms: ${JSON.stringify(held)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The audit of every checkpoint written, against what was published. */
export interface CheckpointAudit {
  batches: number;
  lostBatches: number;
  duplicateBatches: number;
  /** Checkpoints that did not replace exactly the batch before (a gap or a step back). */
  outOfOrder: number;
  lostEvents: number;
  duplicateEvents: number;
}

/**
 * Every published batch must have been checkpointed once, each checkpoint replacing exactly the
 * batch before it. A batch whose report was cut off by a SIGKILL right after its write still
 * shows: the next checkpoint names it as the one it replaced.
 */
export function auditCheckpoints(reports: readonly CheckpointedBatch[], source: string, lastBatch: readonly number[], batchEvents: (partition: number, batchSeq: number) => number): CheckpointAudit {
  const audit: CheckpointAudit = { batches: 0, lostBatches: 0, duplicateBatches: 0, outOfOrder: 0, lostEvents: 0, duplicateEvents: 0 };
  lastBatch.forEach((last, partition) => {
    const mine = reports.filter((r) => r.source === source && r.partition === partition);
    const written = new Map<number, number>();
    const replaced = new Set<number>();
    for (const r of mine) {
      written.set(r.batchSeq, (written.get(r.batchSeq) ?? 0) + 1);
      replaced.add(r.previous);
      if (r.previous !== r.batchSeq - 1) audit.outOfOrder++;
    }
    for (let seq = 0; seq <= last; seq++) {
      audit.batches++;
      const times = written.get(seq) ?? (replaced.has(seq) ? 1 : 0);
      if (times === 0) {
        audit.lostBatches++;
        audit.lostEvents += batchEvents(partition, seq);
      } else if (times > 1) {
        audit.duplicateBatches += times - 1;
        audit.duplicateEvents += (times - 1) * batchEvents(partition, seq);
      }
    }
  });
  return audit;
}

/** Publishes `events` as one stream, recording each batch's size; `paceEvery`/`pauseMs` slow it down (a run long enough to kill a process in). */
export async function publishAll(redis: Redis, env: ScaleEnv, source: string, events: readonly MarketEvent[], opts: { batchSize: number; onProgress?: (published: number) => void | Promise<void>; pace?: { every: number; pauseMs: number } }): Promise<{ publisher: MarketDataPublisher; batchEvents: (partition: number, batchSeq: number) => number; lastBatch: number[] }> {
  const publisher = new MarketDataPublisher({ connection: redis, prefix: env.redisPrefix, queueBase: env.queueBase, partitions: env.partitions, source, batchSize: opts.batchSize, maxDelayMs: 20, attempts: 3 });
  for (let i = 0; i < events.length; i++) {
    await publisher.publish(events[i]!);
    if (opts.pace && i % opts.pace.every === opts.pace.every - 1) await new Promise((r) => setTimeout(r, opts.pace!.pauseMs));
    if (i % 1000 === 999) await opts.onProgress?.(i + 1);
  }
  await publisher.flush();
  const sizes = new Map<string, number>();
  const lastBatch: number[] = Array.from({ length: env.partitions }, () => -1);
  for (const [partition, queue] of publisher.queues.entries()) {
    for (const job of await queue.getJobs(['completed', 'waiting', 'active', 'delayed', 'failed', 'prioritized'])) {
      if (!job?.data || job.data.source !== source) continue;
      sizes.set(`${partition}/${job.data.batchSeq}`, 'packed' in job.data ? job.data.count : job.data.events.length);
      lastBatch[partition] = Math.max(lastBatch[partition]!, job.data.batchSeq);
    }
  }
  return { publisher, batchEvents: (p, seq) => sizes.get(`${p}/${seq}`) ?? 0, lastBatch };
}

/** The books a single process builds from the same events, in order. */
export function referenceBooks(events: readonly MarketEvent[]): BookStore {
  const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
  store.applyAll(events.map(toUnits), Date.now());
  return store;
}

/** Markets whose book (or trade counters) as the partition owners checkpointed it differs from the reference. */
export async function divergedBooks(redis: Redis, env: ScaleEnv, reference: BookStore): Promise<{ market: string; why: string }[]> {
  const stored = new Map<string, { book: BookState; last: number; volume: number }>();
  for (let p = 0; p < env.partitions; p++) {
    for (const [market, text] of Object.entries(await redis.hgetall(bookSnapshotKey(env.redisPrefix, env.queueBase, p)))) {
      const s = decodeMarketSnapshot(market, text);
      stored.set(market, { book: s.book, last: s.lastTradePrice, volume: s.cumulativeVolume });
    }
  }
  const diverged: { market: string; why: string }[] = [];
  for (const [market, state] of reference.markets) {
    const actual = stored.get(market);
    const expected = { book: state.book.exportState(), last: state.lastTradePrice, volume: state.cumulativeVolume };
    if (!actual) diverged.push({ market, why: 'no checkpointed book' });
    else if (JSON.stringify(actual) !== JSON.stringify(expected)) diverged.push({ market, why: `differs: ${JSON.stringify(actual).slice(0, 200)} vs ${JSON.stringify(expected).slice(0, 200)}` });
  }
  return diverged;
}

/** A position on a fixed book (WALK_BOOK), opened, then asked for a LOW exit: a walk of several seconds. */
export async function openWalkingPosition(client: Client, taskQueue: string, market: string, run = 'scale-out'): Promise<WorkflowHandle<typeof positionWorkflow>> {
  const input: PositionInput = {
    strategyId: run,
    market,
    outcome: 'yes',
    closeTimeMs: Date.now() + 3_600_000,
    entry: { limitPrice: '0.56', size: '10', timeoutMs: 2000 },
    cadence: { normalMs: 100, urgentMs: 100, pollMs: 25, settleTimeoutMs: 1000 },
    planConfig: { timeoutsMs: { CRITICAL: 300, HIGH: 300, MEDIUM: 300, LOW: 300 } },
  };
  const handle = await client.workflow.start(positionWorkflow, { args: [input], taskQueue, workflowId: `position/${run}/${market}` });
  for (let i = 0; (await handle.query(positionQuery)).status !== 'open'; i++) {
    if (i > 800) throw new Error(`position on ${market} never opened`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'LOW', reason: run }] });
  return handle;
}

/** Whether the position finished with its attempts numbered 1..n, and orders beyond one entry plus the exit orders. */
export async function positionVerdict(handle: WorkflowHandle<typeof positionWorkflow>, db: Database): Promise<{ finished: boolean; duplicateOrders: number; status: string }> {
  const final = (await handle.result()) as PositionSnapshot;
  const attempts = await db.select({ n: exitAttempts.attemptNo, order: exitAttempts.clientOrderId }).from(exitAttempts).where(eq(exitAttempts.positionId, handle.workflowId)).orderBy(asc(exitAttempts.attemptNo));
  const [sent] = await db.select({ n: sql<number>`count(*)::int` }).from(orders).where(eq(orders.positionId, handle.workflowId));
  const verdict = judge({ positionId: handle.workflowId, killedAtAttempt: undefined, attemptsRecorded: attempts.length, attemptNumbers: attempts.map((a) => a.n), exitOrders: new Set(attempts.map((a) => a.order)).size, ordersSent: sent!.n, status: final.status });
  return { finished: !verdict.lost, duplicateOrders: verdict.duplicateOrders, status: final.status };
}

export { WALK_BOOK };
