import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { closeTimeMs } from '../db/market-data-repo';
import { marketSnapshots, positions } from '../db/schema';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import type { BookStore } from '../domain/market-data/book-store';

/**
 * One pass of the stale-data watch: a market this process has been receiving data for, with open
 * positions and not yet closed, that has gone quiet for longer than `staleDataMs` raises a
 * (rate-limited) alert. Markets this process never received are another process's to watch.
 */
export async function checkStaleData(opts: { db: Database; books: BookStore; clock: Clock; staleDataMs: number; alert: AlertSink }): Promise<string[]> {
  const open = await opts.db
    .selectDistinct({ market: positions.marketTicker, attributes: marketSnapshots.attributes })
    .from(positions)
    .leftJoin(marketSnapshots, and(eq(marketSnapshots.marketTicker, positions.marketTicker), eq(marketSnapshots.rowCurrentInd, true)))
    .where(inArray(positions.status, ['entering', 'open', 'exiting']));
  const now = opts.clock.nowMs();
  const stale: string[] = [];
  for (const { market, attributes } of open) {
    const received = opts.books.markets.get(market)?.receivedAtMs;
    if (received === undefined || !Number.isFinite(received)) continue;
    const close = closeTimeMs(attributes);
    // After the close, silence is expected: the position waits for settlement, not for quotes.
    if (close !== undefined && now >= close) continue;
    const age = now - received;
    if (age <= opts.staleDataMs) continue;
    stale.push(market);
    opts.alert({ kind: 'stale_data', severity: 'warning', title: `market data for ${market} is stale`, detail: `no update for ${(age / 1000).toFixed(1)} s with open positions (limit ${(opts.staleDataMs / 1000).toFixed(1)} s)`, key: market });
  }
  return stale;
}

/** Runs `checkStaleData` every `everyMs` until stopped; a failed pass is logged and the next one tries again. */
export function startStaleDataWatch(opts: Parameters<typeof checkStaleData>[0] & { everyMs: number; log: (line: string) => void }): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = checkStaleData(opts).catch((err: Error) => opts.log(`stale-data watch failed: ${err.message}`));
  }, opts.everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
