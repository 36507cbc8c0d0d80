import type { Redis } from 'ioredis';
import { topOfBookKey } from './book-worker';

/** A market's top of book as its partition's owner last published it (decimal texts, '' for an empty side). */
export interface PublishedTopOfBook {
  yesBid: string;
  yesBidSize: string;
  yesAsk: string;
  yesAskSize: string;
  /** Exchange time of the book's newest event (ms). */
  ts: number;
  /** Why the book is stale, '' when it is not. */
  stale: string;
}

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
    tops.set(unique[i]!, { yesBid: f.yesBid ?? '', yesBidSize: f.yesBidSize ?? '', yesAsk: f.yesAsk ?? '', yesAskSize: f.yesAskSize ?? '', ts: Number(f.ts), stale: f.stale ?? '' });
  });
  return tops;
}
