import type { MarketEvent } from '../../domain/market-data/events';
import { kalshiToMarketEvent } from '../kalshi/market-events';
import { readRecording, recordedFiles, type MalformedLine } from './gold-feed';

/** `maxGapMs`: longer silences in the recording (e.g. between days) are skipped, not waited out. */
export type ReplayPace = { kind: 'fast' } | { kind: 'recorded'; speed: number; maxGapMs?: number };

export interface ReplayStats {
  messages: number;
  events: number;
  malformed: number;
  skippedTypes: number;
}

/**
 * Plays recorded Kalshi captures as market events, as fast as possible or at the recorded pace
 * (exchange clock, scaled by `speed`). Malformed lines are reported and skipped.
 */
export async function replayKalshiRecording(opts: {
  dataDir: string;
  markets: string[];
  pace: ReplayPace;
  emit: (event: MarketEvent) => Promise<void>;
  onMalformed?: (bad: MalformedLine) => void;
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}): Promise<ReplayStats> {
  const stats: ReplayStats = { messages: 0, events: 0, malformed: 0, skippedTypes: 0 };
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const malformed = (bad: MalformedLine) => {
    stats.malformed++;
    opts.onMalformed?.(bad);
  };
  let anchorExchangeMs: number | undefined;
  let anchorWallMs = 0;
  let lastExchangeMs = 0;
  for (const market of opts.markets) {
    for (const file of recordedFiles(opts.dataDir, market)) {
      for await (const rec of readRecording(file, malformed)) {
        if (opts.signal?.aborted) return stats;
        stats.messages++;
        const parsed = kalshiToMarketEvent(rec.event.type, rec.event.msg, rec.recvMs);
        if (!parsed) {
          stats.skippedTypes++;
          continue;
        }
        if (!parsed.ok) {
          malformed({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error: parsed.error });
          continue;
        }
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
        await opts.emit(parsed.value);
        stats.events++;
      }
    }
  }
  return stats;
}
