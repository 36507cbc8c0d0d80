import type { Redis } from 'ioredis';
import type { PublishedTop } from '../../domain/trading/quote';
import { topOfBookKey } from './book-worker';

/** A market's top of book as its partition's owner last published it, with when the owner applied its newest event (its wall clock, ms), if it said. */
export type PublishedTopOfBook = PublishedTop & { receivedAtMs: number | undefined };

/**
 * Reads the tops of book the book workers publish on every applied batch, so a process that does
 * not consume a market's partition (the CLI, the console, another worker) still sees its quote.
 * Markets no book worker has published yet are left out.
 */
export async function readTopOfBook(redis: Redis, prefix: string, markets: readonly string[]): Promise<Map<string, PublishedTopOfBook>> {
  const unique = [...new Set(markets)];
  if (unique.length === 0) return new Map();
  const pipeline = redis.pipeline();
  for (const market of unique) pipeline.hgetall(topOfBookKey(prefix, market));
  const replies = (await pipeline.exec()) ?? [];
  const tops = new Map<string, PublishedTopOfBook>();
  replies.forEach(([err, fields], i) => {
    if (err) throw err;
    const f = fields as Record<string, string>;
    if (f.ts === undefined) return;
    tops.set(unique[i]!, { yesBid: f.yesBid ?? '', yesBidSize: f.yesBidSize ?? '', yesAsk: f.yesAsk ?? '', yesAskSize: f.yesAskSize ?? '', ts: Number(f.ts), stale: f.stale ?? '', receivedAtMs: f.at !== undefined && Number.isFinite(Number(f.at)) ? Number(f.at) : undefined });
  });
  return tops;
}
