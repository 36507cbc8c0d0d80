import { readFileSync } from 'node:fs';
import { and, eq, inArray } from 'drizzle-orm';
import { resetRiskState } from '../db/risk-repo';
import { orders } from '../db/schema';
import { OUTCOME_UNKNOWN, TradingRepository } from '../db/trading-repo';
import { ActionRejected, type ConsoleActionPorts } from '../observability/console/actions';
import { loadConsoleToken } from '../observability/console/auth';
import { createConsole, type ConsoleServer } from '../observability/console/server';
import { flattenAll } from '../runtime/flatten';
import { requestPositionExit } from '../runtime/request-exit';
import type { Stack } from '../runtime/stack';
import { readPartitionOwners } from '../workers/market-data/partition-leases';
import { readTopOfBook } from '../workers/market-data/top-of-book';
import { listStrategies, startStrategy, stopStrategy } from './strategy';

/** Errors of the strategy helpers without a code are the caller's (unknown name, a run already stopped): refusals, as the CLI reports them as usage errors. */
async function refusedUnlessFault<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error && !('code' in e)) throw new ActionRejected(e.message);
    throw e;
  }
}

/**
 * The console's actions on a running stack, through the functions the CLI commands call: `kestrel
 * exit` (the requestExit Update), flatten-all (runtime/flatten.ts), cancel-all (each of Kestrel's
 * resting orders cancelled on the stack's execution venue and recorded), strategy start / stop
 * (cli/strategy.ts) and risk reset (db/risk-repo.ts).
 */
export function stackConsoleActions(stack: Stack, log: (line: string) => void = () => {}): ConsoleActionPorts {
  const { db } = stack.database;
  const repo = new TradingRepository(db);
  return {
    async requestExit(positionId, urgency, reason) {
      const outcome = await requestPositionExit(stack.temporal, positionId, { urgency, reason });
      if (!outcome.accepted) throw new ActionRejected(outcome.error);
      return { positionId: outcome.result.positionId, urgency: outcome.result.urgency };
    },
    flattenAll: (reason) => flattenAll(stack.temporal, reason),
    async cancelAll(reason) {
      const resting = await db.select({ id: orders.clientOrderId }).from(orders).where(and(eq(orders.venue, stack.execution.venue), inArray(orders.status, ['resting', OUTCOME_UNKNOWN])));
      const cancelled: string[] = [];
      const failed: { clientOrderId: string; error: string }[] = [];
      for (const { id } of resting) {
        try {
          const state = await stack.execution.cancel(id);
          await repo.recordOrderState(state);
          cancelled.push(id);
          log(`cancel-all (${reason}): ${id} → ${state.status}`);
        } catch (e) {
          failed.push({ clientOrderId: id, error: (e as Error).message });
        }
      }
      return { cancelled, failed };
    },
    startStrategy: (name, version) => refusedUnlessFault(() => startStrategy(db, stack.temporal, stack.config, { name, version, nowMs: Date.now(), feed: 'live' })),
    stopStrategy: (workflowId) => refusedUnlessFault(() => stopStrategy(db, stack.temporal, workflowId)),
    resetRisk: (reason) => resetRiskState(db, reason, Date.now()),
    strategies: async () => (await listStrategies(db)).filter((s) => s.status !== 'deprecated').map((s) => ({ name: s.name, version: s.version, status: s.status })),
  };
}

/**
 * The web console of a running stack (served by startMetricsServer): token from the environment
 * (read-only without one), live pushes from Postgres NOTIFY, marks from the published tops of
 * book, the health panel from the stack, its partition leases and queues.
 */
export function startStackConsole(stack: Stack, opts: { temporalUi: string; env?: NodeJS.ProcessEnv; backtestDir?: string; log?: (line: string) => void }): Promise<ConsoleServer> {
  const { config } = stack;
  const token = loadConsoleToken(opts.env ?? process.env, (p) => readFileSync(p, 'utf8'));
  return createConsole({
    db: stack.database.db,
    listen: (channel, onNotify) => stack.database.sql.listen(channel, onNotify),
    temporalUi: opts.temporalUi,
    token,
    actions: stackConsoleActions(stack, opts.log),
    marks: (markets) => readTopOfBook(stack.redis, config.redis.keyPrefix, markets),
    health: () => stack.health(),
    metrics: stack.metrics,
    partitionOwners: () => readPartitionOwners(stack.redis, config.redis.keyPrefix, config.marketData.queueBase, config.marketData.partitions),
    feedFreshness: () => {
      const now = Date.now();
      return [...stack.books.markets].map(([market, s]) => ({ market, ageMs: Number.isFinite(s.receivedAtMs) ? now - s.receivedAtMs : null, stale: s.book.stale }));
    },
    lastReconciliation: () => stack.lastReconciliation(),
    backtestDir: opts.backtestDir,
    log: opts.log,
  });
}
