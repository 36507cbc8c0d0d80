import { desc, eq } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { KestrelConfig } from '../config/schema';
import type { Database } from '../db/client';
import { retrainingRuns } from '../db/schema';
import type { AlertSink } from '../domain/alerts';
import { evaluateFeatureHealth, featureChanges, type FeatureObservations, type FeatureReport, type FeatureStatus } from '../domain/feature-health';
import { readPartitionOwners } from './market-data/partition-leases';
import { isRedisConnectionError } from './redis';

/**
 * Where the processes leave what feature health is judged on, so every process (and `kestrel
 * health`, a process of its own) judges the same thing: when each stream last published and when
 * it closed, when price history was last written, the signal engines' running tick total and its
 * samples, the last reconciliation; and the statuses last alerted on.
 */
const keys = (prefix: string) => ({
  /** Sorted set: `feed:<source>`, `feed-closed:<source>`, `price-history`, `reconciliation` → ms (only ever moved forward: ZADD GT). */
  marks: `${prefix}:health:marks`,
  signalTicks: `${prefix}:health:signal-ticks`,
  /** List of `atMs:total`, newest first. */
  signalSamples: `${prefix}:health:signal-samples`,
  reconciliationDifferences: `${prefix}:health:reconciliation-differences`,
  /** Hash: stream source → the process (partition-lease owner id) that publishes it. */
  feedProcess: `${prefix}:health:feed-process`,
  alertedState: `${prefix}:health:alerted`,
});

/** Rate samples kept: enough for the trailing baseline at the default check interval. */
const MAX_SIGNAL_SAMPLES = 200;

type HealthConfig = Pick<KestrelConfig, 'health' | 'retraining' | 'venues' | 'marketData' | 'redis'>;

/** How old the oldest waiting batch of each partition queue is, with the queue's waiting count. */
async function partitionLag(queues: readonly Queue[], nowMs: number): Promise<{ waiting: number; oldestWaitingAgeMs?: number }[]> {
  return Promise.all(
    queues.map(async (q) => {
      const [waiting, oldest] = await Promise.all([q.getWaitingCount(), q.getJobs(['waiting'], 0, 0, true)]);
      return { waiting, oldestWaitingAgeMs: oldest[0] ? Math.max(0, nowMs - oldest[0].timestamp) : undefined };
    }),
  );
}

/** Everything feature health is judged on, read from Redis and Postgres (the same for every process). */
export async function readFeatureObservations(deps: { redis: Redis; db: Database; config: HealthConfig; partitionQueues: readonly Queue[]; nowMs: number }): Promise<FeatureObservations> {
  const { redis, config, nowMs } = deps;
  const k = keys(config.redis.keyPrefix);
  const md = config.marketData;
  const [marks, feedProcess, samples, differences, owners, lag, [lastRetraining]] = await Promise.all([
    redis.zrange(k.marks, '0', '-1', 'WITHSCORES'),
    redis.hgetall(k.feedProcess),
    redis.lrange(k.signalSamples, 0, MAX_SIGNAL_SAMPLES - 1),
    redis.get(k.reconciliationDifferences),
    readPartitionOwners(redis, config.redis.keyPrefix, md.queueBase, md.partitions),
    partitionLag(deps.partitionQueues, nowMs),
    deps.db.select({ at: retrainingRuns.createdAt, status: retrainingRuns.status }).from(retrainingRuns).where(eq(retrainingRuns.modelName, config.retraining.modelName)).orderBy(desc(retrainingRuns.id)).limit(1),
  ]);
  const markAt = new Map<string, number>();
  for (let i = 0; i + 1 < marks.length; i += 2) markAt.set(marks[i]!, Number(marks[i + 1]));
  const feeds: FeatureObservations['feeds'] = [];
  const live = new Set(owners.members);
  for (const [name, at] of markAt) {
    if (!name.startsWith('feed:')) continue;
    const source = name.slice(5);
    const process = feedProcess[source];
    feeds.push({ source, lastEventAtMs: at, closedAtMs: markAt.get(`feed-closed:${source}`), processGone: process !== undefined && !live.has(process) });
  }
  const reconcileEveryMs = config.venues.execution === 'kalshi' ? config.venues.kalshi.reconcileEveryMs : undefined;
  return {
    nowMs,
    feeds,
    priceHistoryWriteAtMs: markAt.get('price-history'),
    signalTicks: samples
      .map((s) => s.split(':').map(Number) as [number, number])
      .map(([atMs, total]) => ({ atMs, total }))
      .filter((s) => Number.isFinite(s.atMs) && Number.isFinite(s.total))
      .sort((a, b) => a.atMs - b.atMs),
    partitions: owners.partitions.map((p, i) => ({ partition: p.partition, owner: p.owner, waiting: lag[i]?.waiting ?? 0, oldestWaitingAgeMs: lag[i]?.oldestWaitingAgeMs })),
    processes: owners.members.length,
    retraining: { everyMs: config.retraining.everyMs, lastRunAtMs: lastRetraining?.at.getTime(), lastStatus: lastRetraining?.status },
    reconciliation: reconcileEveryMs === undefined ? undefined : { everyMs: reconcileEveryMs, lastRunAtMs: markAt.get('reconciliation'), differences: differences === null ? undefined : Number(differences) },
  };
}

export interface FeatureHealthSources {
  /** This process's market-data streams: events published so far, and when each closed. */
  feeds(): readonly { source: string; published: { events: number }; closedAtMs: number | undefined }[];
}

/**
 * Each process's part of feature health: it records what happened here (streams that published,
 * history written, ticks through its signal engines, reconciliations) into Redis, then judges every
 * feature from what all processes recorded and alerts on a change of status — once across processes,
 * as the last alerted status per feature is kept in Redis too.
 */
export class FeatureHealthMonitor {
  private readonly k: ReturnType<typeof keys>;
  private readonly seenEvents = new Map<string, number>();
  private historyWrittenAtMs: number | undefined;
  private unsentTicks = 0;
  private reconciliation: { atMs: number; differences: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private last: FeatureReport[] | undefined;

  constructor(
    private readonly deps: {
      redis: Redis;
      db: Database;
      config: HealthConfig;
      partitionQueues: readonly Queue[];
      sources: FeatureHealthSources;
      /** This process's id among the live processes (its partition-lease owner id). */
      processId: () => string;
      alert: AlertSink;
      log: (line: string) => void;
      nowMs?: () => number;
    },
  ) {
    this.k = keys(deps.config.redis.keyPrefix);
  }

  private now(): number {
    return this.deps.nowMs?.() ?? Date.now();
  }

  noteHistoryWritten(): void {
    this.historyWrittenAtMs = this.now();
  }

  noteSignalTicks(count: number): void {
    this.unsentTicks += count;
  }

  noteReconciliation(differences: number): void {
    this.reconciliation = { atMs: this.now(), differences };
  }

  /** The reports of the last check (undefined before the first). */
  latest(): FeatureReport[] | undefined {
    return this.last;
  }

  /** Records this process's marks, judges every feature, alerts on changes; returns the reports. */
  async check(): Promise<FeatureReport[]> {
    const nowMs = this.now();
    const { redis } = this.deps;
    const write = redis.multi();
    for (const feed of this.deps.sources.feeds()) {
      const events = feed.published.events;
      if (events !== this.seenEvents.get(feed.source)) {
        this.seenEvents.set(feed.source, events);
        write.zadd(this.k.marks, 'GT', nowMs, `feed:${feed.source}`);
        write.hset(this.k.feedProcess, feed.source, this.deps.processId());
      }
      if (feed.closedAtMs !== undefined) write.zadd(this.k.marks, 'GT', feed.closedAtMs, `feed-closed:${feed.source}`);
    }
    if (this.historyWrittenAtMs !== undefined) write.zadd(this.k.marks, 'GT', this.historyWrittenAtMs, 'price-history');
    if (this.reconciliation) {
      write.zadd(this.k.marks, 'GT', this.reconciliation.atMs, 'reconciliation');
      write.set(this.k.reconciliationDifferences, String(this.reconciliation.differences));
    }
    const ticks = this.unsentTicks;
    write.incrby(this.k.signalTicks, ticks);
    const results = await write.exec();
    this.unsentTicks -= ticks;
    const total = Number(results?.at(-1)?.[1] ?? NaN);
    if (Number.isFinite(total)) await redis.multi().lpush(this.k.signalSamples, `${nowMs}:${total}`).ltrim(this.k.signalSamples, 0, MAX_SIGNAL_SAMPLES - 1).exec();

    const reports = evaluateFeatureHealth(await readFeatureObservations({ ...this.deps, nowMs }), this.deps.config.health);
    await this.alertChanges(reports);
    this.last = reports;
    return reports;
  }

  private async alertChanges(reports: readonly FeatureReport[]): Promise<void> {
    const previous = (await this.deps.redis.hgetall(this.k.alertedState)) as Record<string, FeatureStatus>;
    const current = new Set(reports.map((r) => r.feature));
    const forgotten = Object.keys(previous).filter((f) => !current.has(f));
    if (forgotten.length) await this.deps.redis.hdel(this.k.alertedState, ...forgotten);
    for (const { report, was } of featureChanges(previous, reports)) {
      // Read again: another process may have alerted this change since the HGETALL above.
      const stored = await this.deps.redis.hget(this.k.alertedState, report.feature);
      if ((stored ?? 'ok') === report.status) continue;
      await this.deps.redis.hset(this.k.alertedState, report.feature, report.status);
      const recovered = report.status === 'ok';
      this.deps.alert({
        kind: 'feature_health',
        severity: report.status === 'down' ? 'critical' : recovered ? 'info' : 'warning',
        title: recovered ? `${report.feature} recovered (was ${was})` : `${report.feature} ${report.status}`,
        detail: report.detail,
        key: `feature:${report.feature}`,
      });
      this.deps.log(`feature health: ${report.feature} ${was} → ${report.status}: ${report.detail}`);
    }
  }

  start(): void {
    const everyMs = this.deps.config.health.checkEveryMs;
    const tick = () => {
      this.running = this.check()
        .catch((err: Error) => {
          if (!isRedisConnectionError(err)) this.deps.log(`feature health check failed: ${err.message}`);
        })
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, everyMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  /**
   * Stops checking; one last check records what this process did (a closed stream's end). Bounded:
   * with Redis down a check waits in the connection's offline queue, and shutdown must not.
   */
  async stop(timeoutMs = 2000): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([(async () => {
      await this.running;
      await this.check().catch(() => undefined);
    })(), deadline]);
    clearTimeout(timer);
  }
}

const STATUS_VALUE: Record<FeatureStatus, number> = { ok: 0, degraded: 1, down: 2 };

/** `kestrel_feature_status{feature}`: 0 ok, 1 degraded, 2 down, as of the monitor's last check. */
export function registerFeatureHealthGauge(registry: Registry, monitor: Pick<FeatureHealthMonitor, 'latest'>): void {
  new Gauge({
    name: 'kestrel_feature_status',
    help: 'Feature health as of the last check: 0 ok, 1 degraded, 2 down',
    labelNames: ['feature'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of monitor.latest() ?? []) this.set({ feature: r.feature }, STATUS_VALUE[r.status]);
    },
  });
}
