import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Database } from '../../db/client';
import { aggregateDailyHistory, applyHistoryRetention } from '../../db/market-data-repo';
import type { Clock } from '../../domain/clock';
import { isRedisConnectionError } from '../redis';

export interface MaintenanceResult {
  days: string[];
  aggregatedRows: number;
  deletedRows: number;
}

/** Rolls up today's and yesterday's history (UTC) and deletes raw rows past retention. */
export async function runHistoryMaintenance(db: Database, nowMs: number, retentionDays: number): Promise<MaintenanceResult> {
  const days = [nowMs - 86_400_000, nowMs].map((ms) => new Date(ms).toISOString().slice(0, 10));
  let aggregatedRows = 0;
  for (const day of days) aggregatedRows += await aggregateDailyHistory(db, day);
  const deletedRows = await applyHistoryRetention(db, nowMs, retentionDays);
  return { days, aggregatedRows, deletedRows };
}

/**
 * A BullMQ job scheduler runs the maintenance on a fixed cadence; one worker executes it. The
 * scheduler lives in Redis: `ensureScheduler` puts it back after Redis came back empty (upserting
 * an existing one changes nothing).
 */
export async function startHistoryMaintenance(opts: { connection: Redis; workerConnection: Redis; prefix: string; db: Database; clock: Clock; everyMs: number; retentionDays: number; log: (line: string) => void }) {
  const name = 'kestrel-maintenance';
  const queue = new Queue<Record<string, never>, MaintenanceResult>(name, { connection: opts.connection, prefix: opts.prefix });
  const ensureScheduler = async () => {
    await queue.upsertJobScheduler('history-maintenance', { every: opts.everyMs }, { name: 'history-maintenance', data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } });
  };
  await ensureScheduler();
  const worker = new Worker<Record<string, never>, MaintenanceResult>(name, () => runHistoryMaintenance(opts.db, opts.clock.nowMs(), opts.retentionDays), { connection: opts.workerConnection, prefix: opts.prefix, concurrency: 1 });
  worker.on('failed', (_job, err) => opts.log(`history maintenance failed: ${err.message}`));
  worker.on('error', (err) => {
    if (!isRedisConnectionError(err)) opts.log(`history maintenance worker error: ${err.message}`);
  });
  return { queue, worker, ensureScheduler };
}
