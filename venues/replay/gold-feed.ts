import { createReadStream, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { kalshiEnvelopeSchema, MAX_TICKER_LENGTH, type KalshiEnvelope } from '../kalshi/ws-messages';
import { describeIssues } from '../../domain/validation';

/** One line of the recorded Kalshi capture: receive time plus the raw WebSocket message. */
export interface RecordedMessage {
  recvMs: number;
  event: KalshiEnvelope;
  lineNo: number;
}

export interface MalformedLine {
  lineNo: number;
  raw: string;
  error: string;
  /** The market whose book message this line was, when that much can be read: its book missed an update. */
  bookMarket?: string;
}

/** The market of a recorded book message that failed validation, if its type and ticker are readable. */
export function bookMarketOf(event: unknown): string | undefined {
  const e = event as { type?: unknown; msg?: { market_ticker?: unknown } | null } | null;
  if (typeof e !== 'object' || e === null || (e.type !== 'orderbook_snapshot' && e.type !== 'orderbook_delta')) return undefined;
  const market = typeof e.msg === 'object' && e.msg !== null ? e.msg.market_ticker : undefined;
  return typeof market === 'string' && market.length > 0 && market.length <= MAX_TICKER_LENGTH ? market : undefined;
}

const lineSchema = z.object({ recv_ms: z.number().int(), event: kalshiEnvelopeSchema });

/** Market tickers available in a gold-feed directory (one folder per market). */
export function listRecordedMarkets(dataDir: string): string[] {
  const eventsDir = path.join(dataDir, 'events');
  if (!existsSync(eventsDir)) throw new Error(`recorded feed not found: ${eventsDir} (expected ../shared/data/kalshi-gold15m-ws)`);
  return readdirSync(eventsDir).sort();
}

export function recordedFiles(dataDir: string, marketTicker: string): string[] {
  const dir = path.join(dataDir, 'events', marketTicker);
  if (!existsSync(dir)) throw new Error(`no recording for market ${marketTicker} in ${dir}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson.gz'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Streams a recording in receive order. Malformed lines are reported to `onMalformed` with their raw
 * text and skipped; they never stop the stream.
 */
export async function* readRecording(file: string, onMalformed: (bad: MalformedLine) => void = () => {}): AsyncGenerator<RecordedMessage> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      onMalformed({ lineNo, raw, error: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    const parsed = lineSchema.safeParse(json);
    if (!parsed.success) {
      onMalformed({ lineNo, raw, error: describeIssues(parsed.error.issues), bookMarket: bookMarketOf((json as { event?: unknown } | null)?.event) });
      continue;
    }
    yield { recvMs: parsed.data.recv_ms, event: parsed.data.event, lineNo };
  }
}
