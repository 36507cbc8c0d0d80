import { QueueEvents } from 'bullmq';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { replayTradesIntoQueue } from './replay-trades';
import type { Stack } from './stack';

export interface MainJobSummary {
  markets: number;
  messages: number;
  trades: number;
  batches: number;
  inserted: number;
  duplicates: number;
  failedJobs: number;
  malformed: number;
  elapsedMs: number;
}

/**
 * The job `npm start` runs: replay the recorded Kalshi gold feed (real captured messages) through
 * BullMQ ingestion into Temporal workflows that persist every trade print in Postgres.
 */
export async function runRecordedFeedIngestion(stack: Stack, opts: { marketLimit?: number; progress?: (line: string) => void }): Promise<MainJobSummary> {
  const started = Date.now();
  const { config } = stack;
  const markets = listRecordedMarkets(config.replay.dataDir).slice(0, opts.marketLimit ?? Infinity);
  const events = new QueueEvents(config.ingest.queueName, { connection: { url: config.redis.url }, prefix: config.redis.keyPrefix });
  await events.waitUntilReady();
  const summary: MainJobSummary = { markets: markets.length, messages: 0, trades: 0, batches: 0, inserted: 0, duplicates: 0, failedJobs: 0, malformed: 0, elapsedMs: 0 };
  try {
    for (const [i, marketTicker] of markets.entries()) {
      const replay = await replayTradesIntoQueue({ dataDir: config.replay.dataDir, marketTicker, batchSize: config.ingest.batchSize, attempts: config.ingest.jobAttempts, queue: stack.ingestQueue });
      const outcomes = await Promise.allSettled(replay.jobIds.map(async (id) => (await stack.ingestQueue.getJob(id))!.waitUntilFinished(events, 5 * 60_000)));
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') {
          summary.inserted += outcome.value.inserted;
          summary.duplicates += outcome.value.duplicates;
        } else summary.failedJobs++;
      }
      summary.messages += replay.messages;
      summary.trades += replay.trades;
      summary.batches += replay.batches;
      summary.malformed += replay.malformed.length;
      opts.progress?.(`[${i + 1}/${markets.length}] ${marketTicker}: ${replay.messages} messages, ${replay.trades} trades in ${replay.batches} batches`);
    }
  } finally {
    await events.close();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}
