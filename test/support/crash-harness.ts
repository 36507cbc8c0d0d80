import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { exitAttempts, orders } from '../../db/schema';
import type { PositionInput, PositionSnapshot } from '../../workflows/position';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

const REPO = path.resolve(__dirname, '..', '..');

export interface CrashEnv {
  databaseUrl: string;
  redisUrl: string;
  temporalAddress: string;
  taskQueue: string;
  redisPrefix: string;
  /** More worker environment (the Kalshi mode's venue settings and credentials). */
  workerEnv?: Record<string, string>;
}

/** Starts a worker process and resolves once it polls. */
export function spawnWorker(env: CrashEnv, books: Record<string, unknown>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'support', 'crash-worker.ts')], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.redisUrl,
      TEMPORAL_ADDRESS: env.temporalAddress,
      KESTREL__TEMPORAL__TASK_QUEUE: env.taskQueue,
      KESTREL__REDIS__KEY_PREFIX: env.redisPrefix,
      KESTREL__PAPER__LATENCY_MS: '0',
      KESTREL__RISK__MAX_CONSECUTIVE_LOSSES: '1000000',
      KESTREL__RISK__DAILY_LOSS_LIMIT_FRACTION: '1',
      // Injected 429s, 5xx and lost answers are venue errors: the error-rate breaker would stop the entries this test needs.
      KESTREL__RISK__MAX_VENUE_ERROR_RATE: '1',
      KESTREL_CRASH_BOOKS: JSON.stringify(books),
      ...env.workerEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('READY')) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)));
  });
}

export function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** A market nobody buys from at our asks: bid 0.45, ask 0.56, so a LOW exit walks all 10 steps. */
export const WALK_BOOK = { yes: [['0.45', '500.00']], no: [['0.44', '500.00']] };

export interface CrashRunResult {
  positionId: string;
  killedAtAttempt: number | undefined;
  attemptsRecorded: number;
  attemptNumbers: number[];
  /** Distinct orders the exit attempts worked (a walk amends one order across its steps). */
  exitOrders: number;
  ordersSent: number;
  status: string;
}

export interface CrashCycleOptions {
  env: CrashEnv;
  client: Client;
  db: Database;
  market: string;
  killAfterMs: number;
  worker: ChildProcess;
  /** Workflow id (default `position/crash/<market>`: one market per cycle). */
  positionId?: string;
  /** The book the worker (and its replacement) quotes from (default WALK_BOOK). */
  book?: unknown;
  /** The entry (default: 10 at 0.56, WALK_BOOK's ask). */
  entry?: { limitPrice: string; size: string };
  /** Runs just before the exit is requested (fault injection). */
  beforeExit?: () => void | Promise<void>;
  /** Resolves when the worker is to be killed (default: killAfterMs after the exit was requested). */
  killWhen?: (handle: WorkflowHandle<typeof positionWorkflow>) => Promise<void>;
}

/**
 * One crash cycle: open a position, start a LOW manual exit (a long walk), SIGKILL the worker
 * mid-walk, start a new one, let the workflow finish; report what the database saw.
 */
export async function crashCycle(opts: CrashCycleOptions): Promise<{ result: CrashRunResult; worker: ChildProcess; final: PositionSnapshot }> {
  const positionId = opts.positionId ?? `position/crash/${opts.market}`;
  const book = opts.book ?? WALK_BOOK;
  const input: PositionInput = {
    strategyId: 'crash-test',
    market: opts.market,
    outcome: 'yes',
    closeTimeMs: Date.now() + 3_600_000,
    entry: { limitPrice: opts.entry?.limitPrice ?? '0.56', size: opts.entry?.size ?? '10', timeoutMs: 2000 },
    cadence: { normalMs: 100, urgentMs: 100, pollMs: 25, settleTimeoutMs: 1000 },
    planConfig: { timeoutsMs: { CRITICAL: 200, HIGH: 200, MEDIUM: 200, LOW: 200 } },
  };
  const handle = await opts.client.workflow.start(positionWorkflow, { args: [input], taskQueue: opts.env.taskQueue, workflowId: positionId });
  // The entry may wait out activity retries (a fault burst left pending): give it time, and say where it stands.
  for (let i = 0; ; i++) {
    const s = await handle.query(positionQuery);
    if (s.status === 'open') break;
    if (s.status !== 'entering' || i > 1200) throw new Error(`position ${positionId} did not open: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await opts.beforeExit?.();
  await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'LOW', reason: 'crash test' }] });
  if (opts.killWhen) await opts.killWhen(handle);
  else await new Promise((r) => setTimeout(r, opts.killAfterMs));
  const before = (await handle.query(positionQuery));
  await kill(opts.worker);
  const worker = await spawnWorker(opts.env, { [opts.market]: book });
  const final = (await handle.result()) as PositionSnapshot;
  const attempts = await opts.db.select({ n: exitAttempts.attemptNo, order: exitAttempts.clientOrderId }).from(exitAttempts).where(eq(exitAttempts.positionId, positionId)).orderBy(asc(exitAttempts.attemptNo));
  const [sent] = await opts.db.select({ n: sql<number>`count(*)::int` }).from(orders).where(eq(orders.positionId, positionId));
  return {
    worker,
    final,
    result: { positionId, killedAtAttempt: before.currentExit?.attemptNo, attemptsRecorded: attempts.length, attemptNumbers: attempts.map((a) => a.n), exitOrders: new Set(attempts.map((a) => a.order)).size, ordersSent: sent!.n, status: final.status },
  };
}

/** What the crash cycle must show: the walk completed in order, no order but those its attempts worked, nothing lost. */
export function judge(r: CrashRunResult): { lost: boolean; duplicateOrders: number } {
  const expected = Array.from({ length: r.attemptsRecorded }, (_, i) => i + 1);
  const lost = r.status !== 'closed' || JSON.stringify(r.attemptNumbers) !== JSON.stringify(expected);
  // One entry order plus exactly the orders the exit attempts worked.
  return { lost, duplicateOrders: Math.max(0, r.ordersSent - (1 + r.exitOrders)) };
}
