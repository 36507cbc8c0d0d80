import type { MarketEvent } from '../../domain/market-data/events';
import { SequenceTracker } from '../../domain/market-data/sequence';
import { kalshiToMarketEvent } from '../kalshi/market-events';
import { bookMarketOf, readRecording, recordedFiles, type MalformedLine } from './gold-feed';

/** `maxGapMs`: longer silences in the recording (e.g. between days) are skipped, not waited out. */
export type ReplayPace = { kind: 'fast' } | { kind: 'recorded'; speed: number; maxGapMs?: number };

export interface ReplayStats {
  messages: number;
  events: number;
  malformed: number;
  skippedTypes: number;
  /** Messages numbered at or below what their sid reached (duplicates, regressions): dropped. */
  outOfOrder: number;
}

/**
 * Plays recorded Kalshi captures as market events, as fast as possible or at the recorded pace
 * (exchange clock, scaled by `speed`). Malformed lines are reported and skipped; a message whose
 * `seq` is a duplicate or goes back on its sid is dropped (the rule of the live feed and the book
 * replayer). A market's capture keeps one market out of a series-wide subscription, so forward
 * jumps are expected there, and a snapshot numbered lower is the recorder's reconnect.
 */
export async function replayKalshiRecording(opts: {
  dataDir: string;
  markets: string[];
  pace: ReplayPace;
  /** May return a promise to apply back-pressure (it is awaited before the next event). */
  emit: (event: MarketEvent) => void | Promise<void>;
  onMalformed?: (bad: MalformedLine) => void;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}): Promise<ReplayStats> {
  const stats: ReplayStats = { messages: 0, events: 0, malformed: 0, skippedTypes: 0, outOfOrder: 0 };
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let lastTsMs = 0;
  /** Books whose message was refused missed an update: they are stale until their next snapshot. */
  const refusedBook: { market: string; error: string }[] = [];
  const malformed = (bad: MalformedLine) => {
    stats.malformed++;
    opts.onMalformed?.(bad);
    if (bad.bookMarket !== undefined) refusedBook.push({ market: bad.bookMarket, error: bad.error });
  };
  const emitStale = async () => {
    for (const { market, error } of refusedBook.splice(0)) {
      await opts.emit({ t: 'stale', m: market, ts: lastTsMs, reason: `refused book message: ${error}`.slice(0, 500) });
      stats.events++;
    }
  };
  let anchorExchangeMs: number | undefined;
  let anchorWallMs = 0;
  let lastExchangeMs = 0;
  for (const market of opts.markets) {
    // One market's files (split by UTC date) are one stream.
    const sequence = new SequenceTracker({ expectFilteredGaps: true, restartScope: 'connection' });
    for (const file of recordedFiles(opts.dataDir, market)) {
      for await (const rec of readRecording(file, malformed)) {
        if (opts.signal?.aborted) return stats;
        if (refusedBook.length > 0) await emitStale();
        stats.messages++;
        const { sid, seq } = rec.event;
        const bookMarket = bookMarketOf(rec.event);
        if (bookMarket !== undefined && (sid === undefined || seq === undefined)) {
          malformed({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error: 'book message without sid/seq', bookMarket });
          continue;
        }
        if (sid !== undefined && seq !== undefined) {
          const verdict = sequence.observe(sid, seq, rec.event.type === 'orderbook_snapshot');
          if (verdict === 'duplicate' || verdict === 'regression') {
            stats.outOfOrder++;
            continue;
          }
        }
        const parsed = kalshiToMarketEvent(rec.event.type, rec.event.msg, rec.recvMs);
        if (!parsed) {
          stats.skippedTypes++;
          continue;
        }
        if (!parsed.ok) {
          malformed({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error: parsed.error, bookMarket });
          continue;
        }
        lastTsMs = Math.max(lastTsMs, parsed.value.ts);
        if (opts.pace.kind === 'recorded') {
          const ts = parsed.value.ts;
          if (anchorExchangeMs === undefined || ts - lastExchangeMs > (opts.pace.maxGapMs ?? 60_000)) {
            anchorExchangeMs = ts;
            anchorWallMs = Date.now();
          }
          lastExchangeMs = Math.max(lastExchangeMs, ts);
          const due = anchorWallMs + (ts - anchorExchangeMs) / opts.pace.speed;
          const wait = due - Date.now();
          if (wait > 5) await sleep(wait);
        }
        const backPressure = opts.emit(parsed.value);
        if (backPressure) await backPressure;
        stats.events++;
      }
      await emitStale();
    }
  }
  return stats;
}
