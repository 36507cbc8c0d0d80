import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TradeBatch } from '../domain/market-data/trade';
import type { IngestTradeBatchResult } from '../workflows/ingest';

export const INGEST_TRADES_JOB = 'ingest-trades';
export type IngestTradesJobData = TradeBatch;
export type IngestTradesJobResult = IngestTradeBatchResult;

export function createIngestQueue(name: string, connection: Redis, prefix: string): Queue<IngestTradesJobData, IngestTradesJobResult> {
  return new Queue<IngestTradesJobData, IngestTradesJobResult>(name, { connection, prefix });
}

/** BullMQ ids may not contain ':'; batch ids are made of tickers and numbers, so map the rest away. */
export function jobIdForBatch(batchId: string): string {
  return `batch_${batchId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** Enqueues a batch; the job id is derived from the batch id so re-enqueueing the same batch is a no-op. */
export async function enqueueTradeBatch(queue: Queue<IngestTradesJobData, IngestTradesJobResult>, batch: TradeBatch, attempts: number): Promise<string> {
  const opts: JobsOptions = {
    jobId: jobIdForBatch(batch.batchId),
    attempts,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { count: 10_000 },
    // Failed jobs are kept with their data: nothing is lost, an operator can inspect and retry.
    removeOnFail: false,
  };
  const job = await queue.add(INGEST_TRADES_JOB, batch, opts);
  return job.id!;
}
