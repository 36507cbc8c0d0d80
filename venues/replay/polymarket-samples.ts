import { readFileSync } from 'node:fs';
import type { MalformedLine } from './gold-feed';

/** Plays recorded Polymarket market-channel messages (one JSON object per line) in file order. */
export function replayPolymarketJsonl(file: string, handle: (msg: unknown) => void, onMalformed: (bad: MalformedLine) => void = () => {}): number {
  let delivered = 0;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      if (raw.trim() === '') return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw);
      } catch (err) {
        onMalformed({ lineNo: i + 1, raw, error: `invalid JSON: ${(err as Error).message}` });
        return;
      }
      handle(msg);
      delivered++;
    });
  return delivered;
}
