import { QueueEvents } from 'bullmq';
import { priceText } from '../domain/fixed-point';
import { listRecordedMarkets, type MalformedLine } from '../venues/replay/gold-feed';
import { GoldReplayMarketData } from '../venues/replay/market-data';
import { upsertMarketSnapshot } from '../db/market-data-repo';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import { replayTradesIntoQueue } from './replay-trades';
import type { Stack } from '../runtime/stack';

export interface MainJobSummary {
  markets: number;
  messages: number;
  trades: number;
  batches: number;
  /** trade_prints rows for these markets before and after the run (a re-run adds none). */
  rowsBefore: number;
  rowsAfter: number;
  failedJobs: number;
  malformed: number;
  bookEvents: number;
  bookBatches: number;
  refusedDeltas: number;
  /** SCD-2 market_snapshots outcomes for the recorded metadata. */
  snapshotVersions: Record<'inserted' | 'unchanged' | 'versioned', number>;
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
  const summary: MainJobSummary = { markets: markets.length, messages: 0, trades: 0, batches: 0, rowsBefore: 0, rowsAfter: 0, failedJobs: 0, malformed: 0, bookEvents: 0, bookBatches: 0, refusedDeltas: 0, snapshotVersions: { inserted: 0, unchanged: 0, versioned: 0 }, elapsedMs: 0 };
  // Malformed input is kept visible with its raw payload (truncated), never silently dropped.
  const logMalformed = (bad: MalformedLine) => opts.progress?.(`malformed line ${bad.lineNo}: ${bad.error} :: ${bad.raw.slice(0, 500)}`);
  const countRows = async () => Number((await stack.database.sql`select count(*)::int as n from trade_prints where market_ticker = any(${markets})`)[0]!.n);
  summary.rowsBefore = await countRows();
  // Each run is its own stream: books start from the recording's snapshots.
  const source = `replay-gold-${started}`;
  const publisher = stack.createPublisher(source);
  try {
    for (const [i, marketTicker] of markets.entries()) {
      const metadata = readGoldMarketMetadata(config.replay.dataDir, marketTicker);
      if (metadata) summary.snapshotVersions[await upsertMarketSnapshot(stack.database.db, metadata.meta, metadata.observedAtMs)]++;
      // The recording enters the pipeline through the same port as a live feed.
      const recording = new GoldReplayMarketData({ dataDir: config.replay.dataDir, markets: [marketTicker], pace: { kind: 'fast' }, onMalformed: logMalformed });
      await recording.start((e) => publisher.publish(e));
      const bookReplay = recording.stats;
      await publisher.flush();
      summary.bookEvents += bookReplay.events;
      summary.malformed += bookReplay.malformed;
      const replay = await replayTradesIntoQueue({ dataDir: config.replay.dataDir, marketTicker, batchSize: config.ingest.batchSize, attempts: config.ingest.jobAttempts, queue: stack.ingestQueue });
      const outcomes = await Promise.allSettled(replay.jobIds.map(async (id) => (await stack.ingestQueue.getJob(id))!.waitUntilFinished(events, 5 * 60_000)));
      summary.failedJobs += outcomes.filter((o) => o.status === 'rejected').length;
      summary.messages += replay.messages;
      summary.trades += replay.trades;
      summary.batches += replay.batches;
      // At close the venue empties the book, so show the last two-sided quote the history holds.
      const history = stack.books.markets.get(marketTicker)?.history;
      const lastQuote = history?.toArray().reverse().find((p) => p.bid >= 0 && p.ask >= 0);
      const quote = lastQuote ? `last quote ${priceText(lastQuote.bid)} / ${priceText(lastQuote.ask)}, ${history!.length} history points` : 'no two-sided quote yet (book batches still in flight)';
      opts.progress?.(`[${i + 1}/${markets.length}] ${marketTicker}: ${replay.messages} messages, ${bookReplay.events} book/trade events, ${replay.trades} trades in ${replay.batches} workflow batches; ${quote}`);
    }
    await publisher.waitUntilApplied(stack.redis, 50);
    summary.bookBatches = publisher.published.batches;
    summary.rowsAfter = await countRows();
  } finally {
    await events.close();
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}
