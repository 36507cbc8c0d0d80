import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { dropDatabase, ensureDatabase, runMigrations } from '../db/admin';
import { openDatabase } from '../db/client';
import type { MarketEvent } from '../domain/market-data/events';
import { startDevServer } from '../runtime/temporal-dev-server';
import { WORKFLOWS_PATH } from '../runtime/temporal-worker';
import { freePort } from '../test/support/redis-server';
import { auditCheckpoints, divergedBooks, killWorker, openWalkingPosition, owners, positionVerdict, publishAll, referenceBooks, spawnScaleWorker, stopWorker, waitForBalance, WALK_BOOK, type ScaleEnv, type ScaleWorker } from '../test/support/scale-out';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { replayKalshiRecording } from '../venues/replay/replay-source';
import { readTopOfBook } from '../workers/market-data/top-of-book';
import { createRedis } from '../workers/redis';
import { quoteFromPublishedTop } from '../domain/trading/quote';
import { percentile } from './percentile';

const REPO = path.resolve(__dirname, '..');
const PARTITIONS = 6;
const LEASE_TTL_MS = 1500;
const BATCH_SIZE = 2000;
/** The 3-process run loses one process when this share of the events is published. */
const KILL_AT = 0.4;
const POSITIONS = 2;

/**
 * Scale-out: the same recorded events through the real stack in 1, 2 and 3 worker processes
 * (child processes sharing the partitions by lease), published at full speed; the 3-process run
 * SIGKILLs one process mid-run while positions walk their exits. Judged against a single in-process
 * replay (books) and the checkpoint reports (every batch checkpointed once, in order).
 */
export async function benchScaleOut(opts: { dataDir: string; markets?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const { log } = opts;
  const started = Date.now();
  // Eight markets by default: they spread over five of the six partitions (one would leave processes idle).
  const markets = listRecordedMarkets(opts.dataDir).slice(0, opts.markets ?? 8);
  const events: MarketEvent[] = [];
  await replayKalshiRecording({ dataDir: opts.dataDir, markets, pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
  const reference = referenceBooks(events);
  log(`loaded ${events.length} events from ${markets.length} markets`);

  const temporalBin = process.env.KESTREL_TEMPORAL_BIN ?? execFileSync('bash', [path.join(REPO, 'scripts', 'ensure-temporal.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const adminUrl = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/kestrel_scale_${process.pid}_${randomBytes(3).toString('hex')}`;
  const maintenanceDb = new URL(adminUrl).pathname.slice(1);
  const workDir = mkdtempSync(path.join(tmpdir(), 'kestrel-scale-bench-'));
  const bundlePath = path.join(workDir, 'workflows.js');
  writeFileSync(bundlePath, (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, log: () => {}, error: (m) => log(m) } })).code);
  await ensureDatabase(dbUrl.toString(), maintenanceDb);
  await runMigrations(dbUrl.toString());
  const database = openDatabase(dbUrl.toString(), { max: 2 });
  const redis = createRedis(redisUrl, 'producer');
  const server = await startDevServer({ binary: temporalBin, ip: '127.0.0.1', port: await freePort(), uiPort: await freePort(), dbFile: path.join(workDir, 'temporal.sqlite'), namespace: 'default' });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const prefixes: string[] = [];
  const spawned: ScaleWorker[] = [];

  const figures = { lostEvents: 0, duplicateEvents: 0, outOfOrderCheckpoints: 0, booksDiverged: 0, positionsFinished: 0, positions: 0, duplicateOrders: 0 };
  const throughput: Record<string, number> = {};
  let failoverMs: number | undefined;
  let quoteRead: { quoteReadP50Ms: number; quoteReadP99Ms: number } | undefined;
  try {
    for (const processes of [1, 2, 3]) {
      const run = randomBytes(3).toString('hex');
      const positionMarkets = processes === 3 ? Array.from({ length: POSITIONS }, (_, i) => `SCALE${i}-${run}`.toUpperCase()) : [];
      const env: ScaleEnv = { databaseUrl: dbUrl.toString(), redisUrl, temporalAddress: server.address, taskQueue: `scale-${run}`, redisPrefix: `kestrel-scale-bench-${run}`, queueBase: 'md', partitions: PARTITIONS, leaseTtlMs: LEASE_TTL_MS, workflowBundlePath: bundlePath, seedBooks: Object.fromEntries(positionMarkets.map((m) => [m, WALK_BOOK])) };
      prefixes.push(env.redisPrefix);
      // Ownership changes and lease trouble are the bench's progress.
      const workers = await Promise.all(Array.from({ length: processes }, () => spawnScaleWorker(env, (line) => /partition|lease|failed/.test(line) && log(line))));
      spawned.push(...workers);
      await waitForBalance(redis, env, workers.map((w) => w.owner));
      log(`${processes} process(es) up, partitions: ${JSON.stringify(await owners(redis, env))}`);
      const positions = await Promise.all(positionMarkets.map((m) => openWalkingPosition(client, env.taskQueue, m)));

      let failover: Promise<number> | undefined;
      const source = `bench-${run}`;
      const publishStarted = process.hrtime.bigint();
      const published = await publishAll(redis, env, source, events, {
        batchSize: BATCH_SIZE,
        onProgress: async (count) => {
          if (processes !== 3 || failover || count < events.length * KILL_AT) return;
          // The process holding the most partitions goes.
          const held = await owners(redis, env);
          const victim = workers.reduce((a, b) => (held.filter((o) => o === b.owner).length > held.filter((o) => o === a.owner).length ? b : a));
          await killWorker(victim);
          log(`killed ${victim.owner} after ${count} events`);
          failover = waitForBalance(redis, env, workers.filter((w) => w !== victim).map((w) => w.owner), 30_000);
        },
      });
      await published.publisher.waitUntilApplied(redis, 5);
      const seconds = Number(process.hrtime.bigint() - publishStarted) / 1e9;
      throughput[`eventsPerSecond${processes}`] = Math.round(events.length / seconds);
      if (failover) failoverMs = await failover;
      await published.publisher.close();

      const audit = auditCheckpoints(workers.flatMap((w) => w.checkpoints), source, published.lastBatch, published.batchEvents);
      const diverged = await divergedBooks(redis, env, reference);
      if (diverged.length > 0) log(`books diverged (${processes} processes): ${JSON.stringify(diverged).slice(0, 1000)}`);
      figures.lostEvents += audit.lostEvents;
      figures.duplicateEvents += audit.duplicateEvents;
      figures.outOfOrderCheckpoints += audit.outOfOrder;
      figures.booksDiverged += diverged.length;
      for (const handle of positions) {
        const verdict = await positionVerdict(handle, database.db);
        figures.positions++;
        if (verdict.finished) figures.positionsFinished++;
        figures.duplicateOrders += verdict.duplicateOrders;
      }
      if (processes === 1) quoteRead = await measureQuoteReads(redis, env.redisPrefix, markets);
      log(`${processes} process(es): ${throughput[`eventsPerSecond${processes}`]} events/s; audit ${JSON.stringify(audit)}; ${diverged.length} books diverged`);
      await Promise.all(workers.map(stopWorker));
    }
    return { bench: 'scale-out', events: events.length, markets: markets.length, partitions: PARTITIONS, leaseTtlMs: LEASE_TTL_MS, batchSize: BATCH_SIZE, ...throughput, failoverMs, ...figures, ...quoteRead, elapsedS: Math.round((Date.now() - started) / 1000) };
  } finally {
    await Promise.all(spawned.map(killWorker));
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    }
    redis.disconnect();
    await connection.close().catch(() => {});
    await server.stop().catch(() => {});
    await database.close();
    await dropDatabase(dbUrl.toString(), maintenanceDb).catch((err: Error) => log(`dropping the bench database failed: ${err.message}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** What a position activity on a process that does not own the market pays for its quote: one HGETALL of the owner's top of book, made a quote. */
async function measureQuoteReads(redis: ReturnType<typeof createRedis>, prefix: string, markets: string[]): Promise<{ quoteReadP50Ms: number; quoteReadP99Ms: number }> {
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const market = markets[i % markets.length]!;
    const started = process.hrtime.bigint();
    const top = (await readTopOfBook(redis, prefix, [market])).get(market);
    if (!top) throw new Error(`no top of book published for ${market}`);
    quoteFromPublishedTop(top, market, i % 2 === 0 ? 'yes' : 'no');
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { quoteReadP50Ms: Number(percentile(samples, 0.5).toFixed(3)), quoteReadP99Ms: Number(percentile(samples, 0.99).toFixed(3)) };
}
