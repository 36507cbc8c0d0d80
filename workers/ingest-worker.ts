import type { Client } from '@temporalio/client';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { tradeBatchSchema } from '../domain/market-data/trade';
import { describeIssues } from '../domain/validation';
import { ingestTradeBatchWorkflow, ingestWorkflowId } from '../workflows/ingest';
import type { IngestTradesJobData, IngestTradesJobResult } from './ingest-queue';

export interface IngestWorkerDeps {
  queueName: string;
  prefix: string;
  connection: Redis;
  temporal: Client;
  taskQueue: string;
  concurrency: number;
}

/**
 * BullMQ → Temporal: each job (a batch of prints) becomes one workflow. The workflow id comes from
 * the batch id and conflicts reuse the running/finished execution, so a redelivered job never
 * writes twice.
 */
export function createIngestWorker(deps: IngestWorkerDeps): Worker<IngestTradesJobData, IngestTradesJobResult> {
  const processor = async (job: Job<IngestTradesJobData, IngestTradesJobResult>): Promise<IngestTradesJobResult> => {
    const parsed = tradeBatchSchema.safeParse(job.data);
    if (!parsed.success) {
      // Retrying malformed data cannot help: fail once, keep the job (with its raw data) in the failed set.
      throw new UnrecoverableError(`malformed ingest job ${job.id}: ${describeIssues(parsed.error.issues, 5)}`);
    }
    const batch = parsed.data;
    const handle = await deps.temporal.workflow.start(ingestTradeBatchWorkflow, {
      args: [batch],
      taskQueue: deps.taskQueue,
      workflowId: ingestWorkflowId(batch.batchId),
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    }).catch(async (err: unknown) => {
      // A completed execution with this id already did the work: return its handle for the result.
      if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') return deps.temporal.workflow.getHandle(ingestWorkflowId(batch.batchId));
      throw err;
    });
    return (await handle.result()) as IngestTradesJobResult;
  };
  return new Worker<IngestTradesJobData, IngestTradesJobResult>(deps.queueName, processor, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    autorun: true,
  });
}
