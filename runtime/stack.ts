import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { Queue, type Worker as BullWorker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createActivities } from '../activities';
import { createRiskActivities, type RiskDeps } from '../activities/risk';
import type { KestrelConfig } from '../config/schema';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { createIngestQueue, type IngestTradesJobData, type IngestTradesJobResult } from '../workers/ingest-queue';
import { createIngestWorker } from '../workers/ingest-worker';
import { createRedis, isRedisConnectionError, watchRedisAvailability } from '../workers/redis';
import { BookStore } from '../domain/market-data/book-store';
import { SimVenue } from '../venues/sim/sim-venue';
import { createExecution } from '../venues/execution-factory';
import { worstStatus, type FeatureReport, type FeatureStatus } from '../domain/feature-health';
import { FeatureHealthMonitor, registerFeatureHealthGauge } from '../workers/feature-health';
import { KalshiReconciler, type ReconciliationReport, type ReconciliationTrigger } from '../workers/reconciler';
import { OUTCOME_UNKNOWN, TradingRepository } from '../db/trading-repo';
import type { ExecutionClient } from '../domain/ports';
import { RecordedSettlements } from '../db/settlements';
import { bookSnapshotKey, topOfBookFields, topOfBookKey, type BookWorkerOptions } from '../workers/market-data/book-worker';
import { decodeMarketSnapshot } from '../domain/market-data/book-snapshot';
import { BinaryOrderBook } from '../domain/market-data/order-book';
import { startHistoryMaintenance } from '../workers/market-data/maintenance';
import { startSignalReports } from '../workers/signal-reports';
import { startLeasedBookWorkers, type LeasedBookWorkers, type PartitionOwnership } from '../workers/market-data/partition-leases';
import { readTopOfBook } from '../workers/market-data/top-of-book';
import { quoteFromPublishedTop } from '../domain/trading/quote';
import { flattenAll } from './flatten';
import { ExitWatch } from '../workers/exit-watch';
import { exitCheckSignal } from '../workflows/position';
import { partitionOf, partitionQueueName } from '../workers/market-data/partitions';
import { createMetrics, type Metrics } from '../observability/metrics';
import { MarketDataPublisher } from '../workers/market-data/publisher';
import { createTemporalWorker } from './temporal-worker';
import type { Clock } from '../domain/clock';
import { closeTimeFromSnapshots, startSignalPipeline, type SignalPipeline } from '../workers/signals/pipeline';
import { ModelEdgeSignalSource } from '../workers/sports/model-edge-source';
import { DEFAULT_GAME_POLLING, startGamePoller } from '../workers/sports/game-poller';
import { EspnClient } from '../venues/espn/client';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { AlertRateLimiter, type AlertSink } from '../domain/alerts';
import { kalshiCredentialsFromEnv, type KalshiCredentials } from '../venues/kalshi/signing';
import { createAlerter, smtpChannel, webhookChannel, type AlertChannel } from '../observability/alerts';
import { createLogger } from '../observability/logger';
import { startStaleDataWatch } from '../workers/stale-data-watch';
import { startRebalanceWatch } from '../workers/rebalance-watch';
import type { OrderRequestWire } from '../domain/trading/wire';
import { takerFeeRate } from '../domain/trading/taker-fee';
import { configuredFees } from '../config/fees';
import { polymarketPrivateKeyFromEnv } from '../venues/polymarket/config';

export interface Stack {
  config: KestrelConfig;
  database: DatabaseHandle;
  temporal: Client;
  ingestQueue: Queue<IngestTradesJobData, IngestTradesJobResult>;
  ingestWorker: BullWorker<IngestTradesJobData, IngestTradesJobResult>;
  /** Books and price histories of every market-data partition this process consumes. */
  books: BookStore;
  /** Which market-data partitions this process owns (Redis leases; the others' books are read from Redis). */
  marketData: LeasedBookWorkers;
  /** Publishes market events into the partition queues (source names one stream). */
  createPublisher(source: string, opts?: { live?: boolean }): MarketDataPublisher;
  /** Redis for plain commands (top of book, checkpoints). */
  redis: Redis;
  /** Where the trading activities send orders (`venues.execution`): the paper exchange or a venue. */
  execution: ExecutionClient;
  /** Wakes open positions on book updates that trigger their exits (off when venues.exitWatchMinIntervalMs is 0). */
  exitWatch?: ExitWatch;
  /** The paper exchange, when orders go to it (it matches on this process's books). */
  paper: SimVenue | undefined;
  /** Reconciles the venue's orders and positions with Kestrel's records now (undefined on the paper exchange). */
  reconcile(trigger: ReconciliationTrigger): Promise<ReconciliationReport | undefined>;
  /** The last reconciliation this process ran and when it finished (undefined on the paper exchange or before the first). */
  lastReconciliation(): { atMs: number; report: ReconciliationReport } | undefined;
  metrics: Metrics;
  logger: Logger;
  /** Rate-limited operator alerts (webhook, SMTP); `flush` waits for deliveries in flight. */
  alerts: AlertSink & { flush(): Promise<void> };
  /** Kalshi API credentials from KALSHI_API_KEY_ID / KALSHI_PRIVATE_KEY_PATH, when set. */
  kalshiCredentials?: KalshiCredentials;
  /** Signal detection, persistence, outcomes and routing to strategies. */
  signals: SignalPipeline;
  /** Postgres, Redis and Temporal reachable? (for /health), and the outages survived so far. */
  health(): Promise<StackHealth>;
  /** Resolves when the Temporal worker stops (rejects if it crashes). */
  temporalWorkerDone: Promise<void>;
  /** Stops everything in order: BullMQ workers, Temporal worker, then DB and Redis pools. Idempotent. */
  shutdown(): Promise<void>;
}

export interface StackHealth {
  ok: boolean;
  checks: Record<string, unknown>;
  outages: {
    redis: { outages: number; emptyRecoveries: number; downForMs: number | undefined };
    /** Postgres pools replaced after a driver fault (see db/client.ts). */
    postgresPoolRecycles: number;
    /** Per market-data publisher: events held in memory and what the outages cost it. */
    publishers: { pendingEvents: number; addRetries: number; republishedBatches: number; backPressureWaits: number; lastError?: string }[];
  };
  /** The market-data partitions this process owns, among how many live processes. */
  marketData: PartitionOwnership;
  /** Each feature's status as of the last check (every health.checkEveryMs), worst first in `featuresStatus`. */
  features: FeatureReport[] | undefined;
  featuresStatus: FeatureStatus | undefined;
}

/** How long shutdown waits for an unreachable Redis to take the publishers' last batches. */
const PUBLISHER_CLOSE_TIMEOUT_MS = 10_000;

/** A health check that does not answer within this long counts as failed (/health must answer during an outage). */
const HEALTH_CHECK_TIMEOUT_MS = 3000;

export interface StackOptions {
  workflowBundle?: WorkerOptions['workflowBundle'];
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  /** The trading clock (paper exchange, risk, trading activities); a lockstep replay passes the market clock. */
  clock?: Clock;
  /** How the paper exchange waits out `paper.latencyMs` per order (default: wall time; a lockstep replay: the market clock). */
  orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
  /** Market close in this process's clock (replays map exchange time onto it); default: the market snapshot's close_time. */
  closeTimeOf?: (market: string) => Promise<number | undefined>;
  log?: (line: string) => void;
  /** Each market-data batch this process checkpoints (book-worker.ts `onCheckpointed`): the scale-out audit. */
  onBatchCheckpointed?: BookWorkerOptions['onCheckpointed'];
}

export async function startStack(config: KestrelConfig, opts: StackOptions = {}): Promise<Stack> {
  const logger = opts.logger ?? createLogger({ level: config.logging.level });
  const log = opts.log ?? ((line: string) => logger.info(line));
  const env = opts.env ?? process.env;
  const kalshiCredentials = kalshiCredentialsFromEnv(env, (p) => readFileSync(p, 'utf8'));
  if (kalshiCredentials) logger.info('kalshi credentials loaded from the environment');
  const alertChannels: AlertChannel[] = [];
  const a = config.alerts;
  if (a.webhookUrl) alertChannels.push(webhookChannel(a.webhookUrl));
  if (a.smtpHost) alertChannels.push(smtpChannel({ host: a.smtpHost, port: a.smtpPort, secure: a.smtpSecure, from: a.from, to: a.to, user: a.smtpUser || undefined, password: env.KESTREL_SMTP_PASSWORD }));
  const alerts = createAlerter({ channels: alertChannels, limiter: new AlertRateLimiter({ maxPerWindow: a.maxPerWindow, windowMs: a.windowMs }), clock: { nowMs: () => Date.now() }, logger });
  const database = openDatabase(config.database.url, { max: config.database.poolMax, applicationName: 'kestrel-workers' });
  const workerRedis = createRedis(config.redis.url, 'worker');
  const producerRedis = createRedis(config.redis.url, 'producer');
  // Both connections see the same outages; it is logged once, from the producer's (watchRedisAvailability).
  workerRedis.on('error', () => {});
  // Queues and workers re-emit their connection's errors; an outage is logged once (watchRedisAvailability), anything else as it comes.
  const logUnlessRedisOutage = (what: string) => (err: Error) => {
    if (!isRedisConnectionError(err)) log(`${what} error: ${err.message}`);
  };
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });

  const md = config.marketData;
  const books = new BookStore({ historyCapacity: md.historyCapacity, sampleMs: md.historySampleMs });
  const bookSource = { book: (market: string) => books.markets.get(market)?.book };
  // The queue gauges read the queues at scrape time, after they exist.
  const metrics = createMetrics({ db: database.db, books, queues: () => [ingestQueue, ...partitionQueues, ...(signals ? signals.queues : [])] });
  const clock: Clock = opts.clock ?? { nowMs: () => Date.now() };
  const tradingRepo = new TradingRepository(database.db);
  const partitionQueues = Array.from({ length: md.partitions }, (_, p) => new Queue(partitionQueueName(md.queueBase, p), { connection: producerRedis, prefix: config.redis.keyPrefix }));
  // Per-feature health: this process's marks into Redis, every feature judged (checks start once the publishers exist below).
  const featureHealth = new FeatureHealthMonitor({ redis: producerRedis, db: database.db, config, partitionQueues, sources: { feeds: () => publishers }, processId: () => bookWorkers.leases.ownership().owner, alert: alerts, log });
  // Which market-data partitions this process owns (set once the leased book workers start below).
  let marketData: LeasedBookWorkers | undefined;
  const ownsMarket = (market: string) => marketData?.ownsMarket(market) ?? false;
  const { execution, kalshi } = createExecution(config, {
    books: bookSource,
    // Paper orders on a market another process owns match against the book its owner last checkpointed to Redis.
    sharedBook: async (market) => {
      if (ownsMarket(market)) return undefined;
      const text = await producerRedis.hget(bookSnapshotKey(config.redis.keyPrefix, md.queueBase, partitionOf(market, md.partitions)), market);
      return text ? BinaryOrderBook.fromState(market, decodeMarketSnapshot(market, text).book) : undefined;
    },
    clock,
    credentials: kalshiCredentials,
    polymarketPrivateKey: config.venues.execution === 'polymarket' ? polymarketPrivateKeyFromEnv(env) : undefined,
    orders: {
      // An order whose outcome was never recorded is not a venue answer (see activities/trading.ts).
      recorded: async (id) => {
        const stored = await tradingRepo.loadOrder(id);
        return stored && stored.status !== OUTCOME_UNKNOWN ? stored.state : undefined;
      },
      ref: (id) => tradingRepo.orderRef(id),
    },
    orderLatency: opts.orderLatency,
    log,
    onFeeDifference: () => metrics.venueFeeDifferences.inc({ venue: config.venues.execution }),
  });
  const paper = execution instanceof SimVenue ? execution : undefined;
  // On a real venue, orders and positions are reconciled at start, then every reconcileEveryMs.
  const reconciler = kalshi && new KalshiReconciler({ db: database.db, rest: kalshi.rest, execution, clock, cancelUnknownOrders: config.venues.kalshi.cancelUnknownOrders, alert: alerts, log });
  let lastReconciliation: { atMs: number; report: ReconciliationReport } | undefined;
  const reconcile = async (trigger: ReconciliationTrigger): Promise<ReconciliationReport | undefined> => {
    try {
      const report = await reconciler?.run(trigger);
      if (report) lastReconciliation = { atMs: Date.now(), report };
      if (report) featureHealth.noteReconciliation(report.differences.length);
      return report;
    } catch (err) {
      log(`reconciliation (${trigger}) failed: ${(err as Error).message}`);
      return undefined;
    }
  };
  const reconciling = reconciler && config.venues.kalshi.reconcileEveryMs > 0 ? setInterval(() => void reconcile('timer'), config.venues.kalshi.reconcileEveryMs) : undefined;
  reconciling?.unref();
  if (reconciler) await reconcile('start');
  // Fills the venue reports between polls (resting orders) are recorded as they happen.
  execution.onOrderUpdate((state) => void tradingRepo.recordOrderState(state).catch((err: Error) => log(`recording order ${state.clientOrderId} failed: ${err.message}`)));
  const exitWatch = config.venues.exitWatchMinIntervalMs > 0
    ? new ExitWatch({ book: (m) => books.markets.get(m)?.book, wake: (positionId, payload) => temporal.workflow.getHandle(positionId).signal(exitCheckSignal, payload), nowMs: () => Date.now(), minWakeIntervalMs: config.venues.exitWatchMinIntervalMs, log })
    : undefined;
  // A market another process owns is read from what its owner publishes to Redis (the same for every process);
  // this process's own markets from its books, which that Redis copy is written from.
  const publishedTop = async (market: string) => (await readTopOfBook(producerRedis, config.redis.keyPrefix, [market])).get(market);
  const sharedQuote = async (market: string, outcome: 'yes' | 'no') => {
    if (ownsMarket(market)) return undefined;
    const top = await publishedTop(market);
    return top && quoteFromPublishedTop(top, market, outcome);
  };
  const lastMarketDataMs = async (market: string) => (ownsMarket(market) ? books.markets.get(market)?.receivedAtMs : ((await publishedTop(market))?.receivedAtMs ?? books.markets.get(market)?.receivedAtMs));
  const riskDeps: Omit<RiskDeps, 'db'> = { limits: config.risk, clock, lastMarketDataMs, alert: alerts, largeLossDollars: config.alerts.largeLossDollars, flatten: (reason) => flattenAll(temporal, reason) };
  const temporalWorker = await createTemporalWorker({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({
      db: database.db,
      trading: { execution, books: bookSource, quote: sharedQuote, settlements: new RecordedSettlements(database.db), clock, alert: alerts, exitWatch, log },
      logger: logger.child({ component: 'activities' }),
      risk: riskDeps,
    }),
    workflowBundle: opts.workflowBundle,
    shutdownGraceTime: config.temporal.shutdownGraceMs,
  });
  const temporalWorkerDone = temporalWorker.run();

  const ingestQueue = createIngestQueue(config.ingest.queueName, producerRedis, config.redis.keyPrefix);
  const ingestWorker = createIngestWorker({
    queueName: config.ingest.queueName,
    prefix: config.redis.keyPrefix,
    connection: workerRedis,
    temporal,
    taskQueue: config.temporal.taskQueue,
    concurrency: config.ingest.concurrency,
  });
  ingestWorker.on('failed', (job, err) => log(`ingest job ${job?.id ?? '?'} failed: ${err.message}`));

  const closeTimeOf = opts.closeTimeOf ?? closeTimeFromSnapshots(database.db);
  const fees = configuredFees(config);
  const sports = config.sports;
  const signals = await startSignalPipeline({
    config,
    db: database.db,
    books,
    temporal,
    connection: producerRedis,
    workerConnection: workerRedis,
    closeTimeOf,
    // On Kalshi, entries are priced with each market's own fee terms (series / event metadata).
    takerFeeRate: kalshi && (async (market) => {
      const terms = await kalshi.instruments.marketFees(market);
      return terms && takerFeeRate(fees, terms).toString();
    }),
    // Game markets are also priced by the active sports model (strategies subscribe to `model_edge`).
    tickConsumers: (router) => {
      const modelEdge = new ModelEdgeSignalSource({ db: database.db, modelName: sports.model, rule: { minEdge: sports.minEdge, minConfidence: sports.minConfidence }, offer: (signal) => router.offer(signal), closeTimeOf, refreshMs: sports.modelRefreshMs, clock: { nowMs: () => Date.now() }, log });
      return [(ticks) => modelEdge.onTicks(ticks)];
    },
    onSignals: (detected) => {
      for (const s of detected) metrics.signals.inc({ type: s.type, actionable: String(s.actionable) });
    },
    onTicksProcessed: (ticks) => featureHealth.noteSignalTicks(ticks),
    log,
  });
  const gamePoller = sports.pollGames
    ? await startGamePoller({
        db: database.db,
        source: new EspnClient({ baseUrl: sports.espnBaseUrl }),
        clock: { nowMs: () => Date.now() },
        alert: alerts,
        log,
        connection: producerRedis,
        workerConnection: workerRedis,
        prefix: config.redis.keyPrefix,
        settings: { ...DEFAULT_GAME_POLLING, leagues: sports.leagues, liveMs: sports.liveEveryMs, idleMs: sports.idleEveryMs, staleMs: sports.staleGameMs },
      })
    : undefined;
  const staleWatch = config.alerts.staleWatchMs > 0 ? startStaleDataWatch({
        db: database.db,
        books,
        clock,
        staleDataMs: config.risk.staleDataMs,
        alert: alerts,
        everyMs: config.alerts.staleWatchMs,
        log,
        tripBreaker: (markets) => createRiskActivities({ db: database.db, ...riskDeps }).recordStaleMarketData({ markets }),
      }) : undefined;
  const rebalanceWatch = config.venues.rebalanceEveryMs > 0 ? startRebalanceWatch({ db: database.db, temporal, clock, limits: config.risk, everyMs: config.venues.rebalanceEveryMs, log }) : undefined;
  // One book worker per partition this process holds the lease of (its fair share among the live processes).
  const bookWorkers = (marketData = await startLeasedBookWorkers({
    connection: workerRedis,
    redis: producerRedis,
    prefix: config.redis.keyPrefix,
    queueBase: md.queueBase,
    partitions: md.partitions,
    leaseTtlMs: md.leaseTtlMs,
    queues: partitionQueues,
    onCheckpointed: (batch) => {
      featureHealth.noteHistoryWritten();
      opts.onBatchCheckpointed?.(batch);
    },
    db: database.db,
    store: books,
    log,
    onApplied: (events, batch) => {
      // Matching is serialised inside the paper exchange, which logs its own failures.
      void paper?.onMarketEvents(events);
      exitWatch?.onApplied(events);
      signals.onApplied(events, batch);
      metrics.ingestedEvents.inc({ partition: String(batch.partition) }, events.length);
    },
    onWorker: (worker) => {
      worker.on('failed', (job, err) => log(`market-data job ${job?.id ?? '?'} failed: ${err.message}`));
      worker.on('error', logUnlessRedisOutage('market-data worker'));
    },
  }));
  const maintenance = await startHistoryMaintenance({
    connection: producerRedis,
    workerConnection: workerRedis,
    prefix: config.redis.keyPrefix,
    db: database.db,
    clock: { nowMs: () => Date.now() },
    everyMs: md.maintenanceEveryMs,
    retentionDays: md.historyRetentionDays,
    log,
  });
  // The learning loop's periodic jobs: signal degradation alerts and the weekly signal report.
  const signalReports = await startSignalReports({ connection: producerRedis, workerConnection: workerRedis, prefix: config.redis.keyPrefix, db: database.db, clock, alert: alerts, config, env, log });
  const publishers: MarketDataPublisher[] = [];
  featureHealth.start();
  registerFeatureHealthGauge(metrics.registry, featureHealth);
  /** `live`: a venue feed, batched for latency (marketData.liveMaxBatchDelayMs) rather than throughput. */
  const createPublisher = (source: string, opts: { live?: boolean } = {}) => {
    const publisher = new MarketDataPublisher({ connection: producerRedis, prefix: config.redis.keyPrefix, queueBase: md.queueBase, partitions: md.partitions, source, batchSize: md.batchSize, maxDelayMs: opts.live ? md.liveMaxBatchDelayMs : md.maxBatchDelayMs, attempts: config.ingest.jobAttempts, log });
    publishers.push(publisher);
    return publisher;
  };
  ingestWorker.on('error', logUnlessRedisOutage('ingest worker'));

  // Top of book for every market this process holds, as the book workers write it; after Redis
  // came back empty, quiet markets would otherwise have no key until their next update.
  const restoreTopOfBook = async () => {
    const multi = producerRedis.multi();
    for (const [market, state] of books.markets) multi.hset(topOfBookKey(config.redis.keyPrefix, market), topOfBookFields(state.book));
    await multi.exec();
  };
  for (const queue of [ingestQueue, maintenance.queue, ...signals.queues, ...partitionQueues]) queue.on('error', logUnlessRedisOutage(`queue ${queue.name}`));
  // Job schedulers are upserted after every reconnection (a no-op when they survived); queued
  // market-data batches are added again by their publishers.
  const redisAvailability = watchRedisAvailability(producerRedis, {
    markerKey: `${config.redis.keyPrefix}:alive`,
    log,
    onRecovered: async ({ empty }) => {
      await Promise.all([maintenance.ensureScheduler(), signals.ensureSchedulers(), gamePoller?.ensureScheduler(), signalReports.ensureSchedulers()]);
      if (empty) await restoreTopOfBook();
    },
  });

  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    (stopping ??= (async () => {
      // 1. Stop taking jobs; in-flight jobs finish (they wait on their workflows).
      await Promise.all(publishers.map((p) => p.close({ timeoutMs: PUBLISHER_CLOSE_TIMEOUT_MS })));
      // Its last check records the closed streams while this process still holds its partitions.
      await featureHealth.stop();
      await Promise.all([ingestWorker.close(), maintenance.worker.close(), bookWorkers.close()]);
      await signals.close();
      await signalReports.close();
      await gamePoller?.close();
      clearInterval(reconciling);
      await staleWatch?.stop();
      await rebalanceWatch?.stop();
      await Promise.all([ingestQueue.close(), maintenance.queue.close(), ...partitionQueues.map((q) => q.close())]);
      log('shutdown: bullmq workers closed');
      // 2. Temporal worker: finish in-flight tasks, then stop polling.
      if (temporalWorker.getState() === 'RUNNING') temporalWorker.shutdown();
      await temporalWorkerDone.catch(() => {});
      await nativeConnection.close();
      await clientConnection.close();
      log('shutdown: temporal worker stopped');
      await execution.close();
      await alerts.flush();
      // 3. Pools last: nothing above can need them any more.
      await database.close();
      await Promise.allSettled([quit(workerRedis), quit(producerRedis)]);
      log('shutdown: database and redis pools closed');
    })());

  const health = async (): Promise<StackHealth> => {
    const checks: Record<string, unknown> = {};
    const run = async (name: string, fn: () => Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_CHECK_TIMEOUT_MS} ms`)), HEALTH_CHECK_TIMEOUT_MS)))]);
        checks[name] = 'ok';
      } catch (e) {
        checks[name] = `failed: ${(e as Error).message}`;
      } finally {
        clearTimeout(timer);
      }
    };
    const downSince = redisAvailability.downSinceMs;
    await Promise.all([
      run('postgres', () => database.sql`select 1`),
      // A PING would wait in the offline queue for the whole outage: read the connection first.
      run('redis', async () => {
        if (redisAvailability.status !== 'ready') throw new Error(`connection ${redisAvailability.status}${downSince === undefined ? '' : ` for ${Date.now() - downSince} ms`}`);
        await producerRedis.ping();
      }),
      run('temporal', () => clientConnection.workflowService.getSystemInfo({})),
    ]);
    checks.temporalWorker = temporalWorker.getState();
    const features = featureHealth.latest();
    return {
      ok: Object.values(checks).every((c) => c === 'ok' || c === 'RUNNING'),
      checks,
      outages: {
        redis: { outages: redisAvailability.outages, emptyRecoveries: redisAvailability.emptyRecoveries, downForMs: downSince === undefined ? undefined : Date.now() - downSince },
        postgresPoolRecycles: database.recycles,
        publishers: publishers.map((p) => ({ ...p.stats })),
      },
      marketData: bookWorkers.leases.ownership(),
      features,
      featuresStatus: features && worstStatus(features),
    };
  };

  return { config, database, temporal, ingestQueue, ingestWorker, books, marketData: bookWorkers, createPublisher, redis: producerRedis, execution, exitWatch, paper, reconcile, lastReconciliation: () => lastReconciliation, metrics, signals, logger, alerts, kalshiCredentials, health, temporalWorkerDone, shutdown };
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status !== 'end') await redis.quit();
}
