import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolymarketMessage } from '../messages';

/** One recorded market-channel message, as the venue sent it, with its exchange time. */
export interface RecordedMessage {
  tsMs: number;
  raw: Record<string, unknown>;
  /** The market (condition id) and assets it is about. */
  market: string | undefined;
  assets: string[];
}

/** The assets one market-channel message names (a `price_change` lists them per change). */
function assetsOf(raw: Record<string, unknown>): string[] {
  if (typeof raw.asset_id === 'string') return [raw.asset_id];
  const changes = Array.isArray(raw.price_changes) ? (raw.price_changes as { asset_id?: unknown }[]) : [];
  return [...new Set(changes.map((c) => c.asset_id).filter((a): a is string => typeof a === 'string'))];
}

/**
 * Reads every `*.jsonl` file of a recorded Polymarket market channel (one message a line: `book`,
 * `price_change`, `tick_size_change`, `last_trade_price`), checks each against the message parsers
 * and orders them by exchange time (ties keep file order). Anything unreadable stops the load with
 * the file and line.
 */
export function loadPolymarketRecording(dir: string): RecordedMessage[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  } catch (e) {
    throw new Error(`cannot read the Polymarket recording directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (files.length === 0) throw new Error(`no *.jsonl recording in ${dir}`);
  const messages: RecordedMessage[] = [];
  for (const file of files) {
    const lines = readFileSync(path.join(dir, file), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (!line.trim()) return;
      const where = `${file}:${index + 1}`;
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new Error(`${where}: not JSON (${(e as Error).message})`);
      }
      const parsed = parsePolymarketMessage(raw);
      if (!parsed.ok) throw new Error(`${where}: not a market-channel message: ${parsed.error}`);
      if (parsed.value.kind === 'ignored') return;
      const record = raw as Record<string, unknown>;
      const tsMs = Number(record.timestamp);
      if (!Number.isSafeInteger(tsMs)) throw new Error(`${where}: timestamp ${JSON.stringify(record.timestamp)} is not milliseconds`);
      messages.push({ tsMs, raw: record, market: typeof record.market === 'string' ? record.market : undefined, assets: assetsOf(record) });
    });
  }
  // Stable: messages of one timestamp keep their recorded order.
  return messages.sort((a, b) => a.tsMs - b.tsMs);
}
