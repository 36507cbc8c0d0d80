import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TradeBatch } from '../domain/market-data/trade';
import { ACTIVITY_PRESETS } from './activity-options';

const { persistTradeBatch } = proxyActivities<Activities>(ACTIVITY_PRESETS.databaseWrite);

export interface IngestTradeBatchResult {
  batchId: string;
  inserted: number;
  duplicates: number;
}

/** Durable ingestion of one batch of trade prints; the workflow id is derived from the batch id. */
export async function ingestTradeBatchWorkflow(batch: TradeBatch): Promise<IngestTradeBatchResult> {
  const result = await persistTradeBatch(batch);
  return { batchId: batch.batchId, ...result };
}

export function ingestWorkflowId(batchId: string): string {
  return `ingest-trades/${batchId}`;
}
