import type { Queue } from 'bullmq';
import type { TradeBatch, TradePrint } from '../domain/market-data/trade';
import { parseKalshiTrade } from '../venues/kalshi/ws-messages';
import { readRecording, recordedFiles, type MalformedLine } from '../venues/replay/gold-feed';
import { enqueueTradeBatch, type IngestTradesJobData, type IngestTradesJobResult } from '../workers/ingest-queue';

export interface ReplayTradesSummary {
  marketTicker: string;
  messages: number;
  trades: number;
  batches: number;
  jobIds: string[];
  malformed: MalformedLine[];
}

/**
 * Reads the recorded Kalshi feed of one market and enqueues its trade prints in batches (one job
 * per batch, never one per tick). Batch ids are positional, so replaying twice enqueues nothing new.
 */
export async function replayTradesIntoQueue(opts: {
  dataDir: string;
  marketTicker: string;
  batchSize: number;
  attempts: number;
  queue: Queue<IngestTradesJobData, IngestTradesJobResult>;
  onMalformed?: (bad: MalformedLine) => void;
}): Promise<ReplayTradesSummary> {
  const summary: ReplayTradesSummary = { marketTicker: opts.marketTicker, messages: 0, trades: 0, batches: 0, jobIds: [], malformed: [] };
  const noteMalformed = (bad: MalformedLine) => {
    summary.malformed.push(bad);
    opts.onMalformed?.(bad);
  };
  let pending: TradePrint[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch: TradeBatch = { batchId: `${opts.marketTicker}-t${summary.trades - pending.length}`, marketTicker: opts.marketTicker, trades: pending };
    summary.jobIds.push(await enqueueTradeBatch(opts.queue, batch, opts.attempts));
    summary.batches++;
    pending = [];
  };
  for (const file of recordedFiles(opts.dataDir, opts.marketTicker)) {
    for await (const rec of readRecording(file, noteMalformed)) {
      summary.messages++;
      if (rec.event.type !== 'trade') continue;
      const trade = parseKalshiTrade(rec.event.msg);
      if (!trade.ok) {
        noteMalformed({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error: trade.error });
        continue;
      }
      if (trade.value.marketTicker !== opts.marketTicker) continue;
      pending.push(trade.value);
      summary.trades++;
      if (pending.length >= opts.batchSize) await flush();
    }
  }
  await flush();
  return summary;
}
