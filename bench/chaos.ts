import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { asc, eq, sql } from 'drizzle-orm';
import { installProcessGuard } from '../cli/process-guard';
import { loadBootstrapConfig } from '../config/load';
import { dropDatabase, ensureDatabase, runMigrations } from '../db/admin';
import { openDatabase, type Database } from '../db/client';
import { exitAttempts, orders } from '../db/schema';
import { priceUnits, sizeUnits } from '../domain/fixed-point';
import { BookStore } from '../domain/market-data/book-store';
import { toUnits, type UnitEvent } from '../domain/market-data/events';
import type { Level } from '../domain/market-data/order-book';
import { judge, WALK_BOOK } from '../test/support/crash-harness';
import { openWalkingPosition } from '../test/support/scale-out';
import { freePort, startPrivateRedis } from '../test/support/redis-server';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { replayKalshiRecording } from '../venues/replay/replay-source';
import { createLogger, installTemporalLogging } from '../observability/logger';
import { startStack, type Stack } from '../runtime/stack';
import { startDevServer, type DevServerHandle } from '../runtime/temporal-dev-server';
import type { PositionSnapshot, positionWorkflow } from '../workflows/position';

const REPO = path.resolve(__dirname, '..');
/** Positions open when each fault starts. */
const POSITIONS_PER_FAULT = 2;
const REDIS_OUTAGE_MS = 10_000;
const POSTGRES_BURSTS = 5;
const POSTGRES_BURST_GAP_MS = 400;
const TEMPORAL_DOWN_MS = 3000;
/** The recording plays this many times faster than it was captured (a 15-minute market in ~20 s). */
const REPLAY_SPEED = 45;
const WORKER_APPLICATION = 'kestrel-workers';

interface ReplayReport {
  events: number;
  applied: number;
  books: Record<string, { yes: Level[]; no: Level[]; stale: boolean; staleBecause?: string }>;
  outages: unknown;
}

/**
 * Chaos: a full worker process (own Redis, own database, own Temporal dev server) replays recorded
 * markets through BullMQ while positions walk their exits, and each fault hits with positions
 * open: Redis killed for 10 s (back empty), Postgres connections killed in bursts, the Temporal
 * dev server stopped and started again. Judged against a fault-free in-process replay of the same
 * recording (books) and the positions' own records (lost positions, duplicate orders).
 */
export async function benchChaos(opts: { dataDir: string; markets?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const { log } = opts;
  const started = Date.now();
  const replayMarkets = listRecordedMarkets(opts.dataDir).slice(0, opts.markets ?? 2);
  const temporalBin = process.env.KESTREL_TEMPORAL_BIN ?? execFileSync('bash', [path.join(REPO, 'scripts', 'ensure-temporal.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const adminUrl = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbName = `kestrel_chaos_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const maintenanceDb = new URL(adminUrl).pathname.slice(1);
  const temporalDir = mkdtempSync(path.join(tmpdir(), 'kestrel-chaos-'));
  const serverOpts = { binary: temporalBin, ip: '127.0.0.1', port: await freePort(), uiPort: await freePort(), dbFile: path.join(temporalDir, 'temporal.sqlite'), namespace: 'default' };

  const redis = await startPrivateRedis();
  await ensureDatabase(dbUrl.toString(), maintenanceDb);
  await runMigrations(dbUrl.toString());
  const database = openDatabase(dbUrl.toString(), { max: 2, applicationName: 'kestrel-chaos-bench' });
  let server: DevServerHandle = await startDevServer(serverOpts);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `chaos-${randomBytes(3).toString('hex')}`;
  const positionMarkets = Array.from({ length: 3 * POSITIONS_PER_FAULT }, (_, i) => `CHAOS${i}-${randomBytes(3).toString('hex')}`.toUpperCase());

  const figures = { redisOutages: 0, postgresBursts: 0, postgresConnectionsKilled: 0, temporalRestarts: 0, processExits: 0, lostEvents: 0, duplicateEvents: 0, booksDiverged: 0, lostPositions: 0, duplicateOrders: 0, positions: 0 };
  let worker: ChildProcess | undefined;
  let stopping = false;
  try {
    const spawned = spawnChaosWorker({ DATABASE_URL: dbUrl.toString(), REDIS_URL: redis.url, TEMPORAL_ADDRESS: server.address, KESTREL__TEMPORAL__TASK_QUEUE: taskQueue, KESTREL__REDIS__KEY_PREFIX: `chaos-${randomBytes(3).toString('hex')}`, KESTREL__REPLAY__DATA_DIR: opts.dataDir, KESTREL_CHAOS_REPLAY: JSON.stringify(replayMarkets), KESTREL_CHAOS_BOOKS: JSON.stringify(Object.fromEntries(positionMarkets.map((m) => [m, WALK_BOOK]))) }, log);
    worker = spawned.child;
    worker.once('exit', (code, signal) => {
      if (!stopping || code !== 0) figures.processExits++;
      log(`chaos worker exited (${code ?? signal})`);
    });
    await spawned.ready;
    log(`worker ready; replaying ${replayMarkets.join(', ')} at ${REPLAY_SPEED}× while the faults run`);

    const phase = async (name: string, markets: string[], fault: () => Promise<void>) => {
      const handles = await Promise.all(markets.map((m) => openWalkingPosition(client, taskQueue, m, 'chaos-bench')));
      log(`${name}: ${handles.length} positions open and walking their exits`);
      await fault();
      for (const handle of handles) {
        const verdict = judge(await positionOutcome(handle, database.db));
        figures.positions++;
        figures.lostPositions += verdict.lost ? 1 : 0;
        figures.duplicateOrders += verdict.duplicateOrders;
      }
      log(`${name}: positions done (${figures.lostPositions} lost, ${figures.duplicateOrders} duplicate orders so far)`);
    };

    await phase('redis outage', positionMarkets.slice(0, POSITIONS_PER_FAULT), async () => {
      await redis.kill();
      await sleep(REDIS_OUTAGE_MS);
      await redis.start();
      figures.redisOutages++;
    });
    await phase('postgres bursts', positionMarkets.slice(POSITIONS_PER_FAULT, 2 * POSITIONS_PER_FAULT), async () => {
      for (let burst = 0; burst < POSTGRES_BURSTS; burst++) {
        const killed = await database.sql`select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = ${dbName} and application_name = ${WORKER_APPLICATION}`;
        figures.postgresConnectionsKilled += killed.filter((r) => r.killed).length;
        figures.postgresBursts++;
        await sleep(POSTGRES_BURST_GAP_MS);
      }
    });
    await phase('temporal restart', positionMarkets.slice(2 * POSITIONS_PER_FAULT), async () => {
      await server.stop();
      await sleep(TEMPORAL_DOWN_MS);
      server = await startDevServer(serverOpts);
      figures.temporalRestarts++;
    });

    const replay = await spawned.replayed;
    const reference = await referenceBooks(opts.dataDir, replayMarkets);
    const diverged: { market: string; stale?: string; referenceStale: boolean; levelsDiffer: boolean }[] = [];
    for (const market of replayMarkets) {
      const actual = replay.books[market];
      const expected = reference[market]!;
      const levelsDiffer = JSON.stringify([actual?.yes, actual?.no]) !== JSON.stringify([expected.yes, expected.no]);
      if (!actual || actual.stale !== expected.stale || levelsDiffer) diverged.push({ market, stale: actual?.stale ? actual.staleBecause : undefined, referenceStale: expected.stale, levelsDiffer });
    }
    figures.booksDiverged = diverged.length;
    if (diverged.length > 0) log(`books diverged from the fault-free replay: ${JSON.stringify(diverged)}`);
    figures.lostEvents = Math.max(0, replay.events - replay.applied);
    figures.duplicateEvents = Math.max(0, replay.applied - replay.events);
    stopping = true;
    const exited = new Promise<void>((resolve) => worker!.once('exit', () => resolve()));
    worker.kill('SIGTERM');
    await exited;
    return { bench: 'chaos', ...figures, replayedMarkets: replayMarkets.length, replayEvents: replay.events, workerOutages: replay.outages, elapsedS: Math.round((Date.now() - started) / 1000) };
  } finally {
    stopping = true;
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await connection.close().catch(() => {});
    await server.stop().catch(() => {});
    await redis.kill();
    await database.close();
    await dropDatabase(dbUrl.toString(), maintenanceDb).catch((err: Error) => log(`dropping ${dbName} failed: ${err.message}`));
    rmSync(temporalDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnChaosWorker(env: Record<string, string>, log: (line: string) => void): { child: ChildProcess; ready: Promise<void>; replayed: Promise<ReplayReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, 'worker'], {
    cwd: REPO,
    env: { ...process.env, ...env, KESTREL__PAPER__LATENCY_MS: '0', KESTREL__RISK__MAX_CONSECUTIVE_LOSSES: '1000000', KESTREL__RISK__DAILY_LOSS_LIMIT_FRACTION: '1', KESTREL__ALERTS__STALE_WATCH_MS: '0', KESTREL__LOGGING__LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let resolveReady!: () => void;
  let resolveReplayed!: (r: ReplayReport) => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const replayed = new Promise<ReplayReport>((r) => (resolveReplayed = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('READY\n')) resolveReady();
    const line = out.split('\n').find((l) => l.startsWith('REPLAYED '));
    if (line) resolveReplayed(JSON.parse(line.slice('REPLAYED '.length)) as ReplayReport);
  });
  // The worker's warnings (outages seen, retries) are the bench's progress.
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) log(`  worker: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
  });
  const failed = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`chaos worker exited (${code}) before it finished`))));
  return { child, ready: Promise.race([ready, failed]), replayed: Promise.race([replayed, failed]) };
}

/** How the position ended, from its workflow result and its rows (as the crash test reads them). */
async function positionOutcome(handle: WorkflowHandle<typeof positionWorkflow>, db: Database) {
  let final: PositionSnapshot | undefined;
  // The client's calls fail while the server restarts; the workflow itself is not in question.
  for (let tries = 0; !final; tries++) {
    try {
      final = (await handle.result()) as PositionSnapshot;
    } catch (err) {
      if (tries > 60) throw err;
      await sleep(1000);
    }
  }
  const attempts = await db.select({ n: exitAttempts.attemptNo, order: exitAttempts.clientOrderId }).from(exitAttempts).where(eq(exitAttempts.positionId, handle.workflowId)).orderBy(asc(exitAttempts.attemptNo));
  const [sent] = await db.select({ n: sql<number>`count(*)::int` }).from(orders).where(eq(orders.positionId, handle.workflowId));
  return { positionId: handle.workflowId, killedAtAttempt: undefined, attemptsRecorded: attempts.length, attemptNumbers: attempts.map((a) => a.n), exitOrders: new Set(attempts.map((a) => a.order)).size, ordersSent: sent!.n, status: final.status };
}

/** The fault-free run: the same recorded events, in process, straight into books (no Redis, no BullMQ). */
async function referenceBooks(dataDir: string, markets: string[]): Promise<Record<string, { yes: Level[]; no: Level[]; stale: boolean }>> {
  const store = new BookStore({ historyCapacity: 1, sampleMs: 1000 });
  const events: UnitEvent[] = [];
  await replayKalshiRecording({ dataDir, markets, pace: { kind: 'fast' }, emit: async (e) => void events.push(toUnits(e)) });
  store.applyAll(events, Date.now());
  return Object.fromEntries(markets.map((m) => [m, { yes: store.state(m).book.levels('yes'), no: store.state(m).book.levels('no'), stale: store.state(m).book.stale }]));
}

/**
 * The worker process: the full stack under the process guard `kestrel up` installs, fixed books
 * for the positions' markets (kept fresh, as in the crash test), and the replay through BullMQ.
 * Prints READY, then `REPLAYED <json>` once every replayed batch is applied; stops on SIGTERM.
 */
async function chaosWorker(): Promise<void> {
  const logger = createLogger({ level: 'warn' });
  installTemporalLogging(logger);
  // The guard is on before the stack starts; it stops whatever has started by then.
  const running: { stack?: Stack } = {};
  installProcessGuard({ logger, shutdown: async () => running.stack?.shutdown() });
  const { config } = loadBootstrapConfig();
  const stack = (running.stack = await startStack(config, { logger, log: (line) => logger.warn(line) }));
  const books = JSON.parse(process.env.KESTREL_CHAOS_BOOKS ?? '{}') as Record<string, { yes: [string, string][]; no: [string, string][] }>;
  for (const [market, levels] of Object.entries(books)) {
    const toLevels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
    stack.books.state(market).book.applySnapshot(toLevels(levels.yes), toLevels(levels.no), Date.now());
    stack.books.state(market).receivedAtMs = Date.now();
    setInterval(() => (stack.books.state(market).receivedAtMs = Date.now()), 1000).unref();
  }
  const stop = () => void stack.shutdown().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write('READY\n');

  const markets = JSON.parse(process.env.KESTREL_CHAOS_REPLAY ?? '[]') as string[];
  const publisher = stack.createPublisher(`chaos-replay-${Date.now()}`);
  const stats = await replayKalshiRecording({ dataDir: config.replay.dataDir, markets, pace: { kind: 'recorded', speed: REPLAY_SPEED, maxGapMs: 5000 }, emit: (e) => publisher.publish(e) });
  await publisher.waitUntilApplied(stack.redis, 50);
  const applied = (await stack.metrics.ingestedEvents.get()).values.reduce((n, v) => n + v.value, 0);
  const report: ReplayReport = {
    events: stats.events,
    applied,
    books: Object.fromEntries(markets.map((m) => {
      const book = stack.books.state(m).book;
      return [m, { yes: book.levels('yes'), no: book.levels('no'), stale: book.stale, staleBecause: book.staleBecause }];
    })),
    outages: (await stack.health()).outages,
  };
  process.stdout.write(`REPLAYED ${JSON.stringify(report)}\n`);
}

if (require.main === module && process.argv[2] === 'worker') {
  chaosWorker().catch((err: unknown) => {
    process.stderr.write(`${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  });
}
