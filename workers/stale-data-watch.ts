import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { closeTimeMs } from '../db/market-data-repo';
import { marketSnapshots, positions } from '../db/schema';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import type { BookStore } from '../domain/market-data/book-store';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';
import { runEvery } from './periodic';

/**
 * One pass of the stale-data watch: a market this process has been receiving data for, with open
 * positions and not yet closed, that has gone quiet for longer than `staleDataMs` raises a
 * (rate-limited) alert and trips the stale-data breaker (`tripBreaker`: recorded as a risk event,
 * trading mode REDUCING). Markets this process never received are another process's to watch.
 */
export async function checkStaleData(opts: {
  db: Database;
  books: BookStore;
  clock: Clock;
  staleDataMs: number;
  alert: AlertSink;
  tripBreaker?: (stale: { market: string; lastDataMs: number }[]) => Promise<unknown>;
}): Promise<string[]> {
  const open = await opts.db
    .selectDistinct({ market: positions.marketTicker, attributes: marketSnapshots.attributes })
    .from(positions)
    .leftJoin(marketSnapshots, and(eq(marketSnapshots.marketTicker, positions.marketTicker), eq(marketSnapshots.rowCurrentInd, true)))
    .where(inArray(positions.status, [...OPEN_STATUSES]));
  const now = opts.clock.nowMs();
  const stale: { market: string; lastDataMs: number }[] = [];
  for (const { market, attributes } of open) {
    const state = opts.books.markets.get(market);
    const received = state?.receivedAtMs;
    if (received === undefined || !Number.isFinite(received)) continue;
    const close = closeTimeMs(attributes);
    // After the close, silence is expected: the position waits for settlement, not for quotes. A feed
    // may replay or lag the exchange, so the exchange's time is its last event's plus the time since.
    const lastEventMs = state!.book.lastUpdateMs;
    const exchangeNow = lastEventMs > 0 ? lastEventMs + (now - received) : now;
    if (close !== undefined && exchangeNow >= close) continue;
    // Before the open there is nothing to quote either.
    const open = Date.parse(String((attributes as { open_time?: unknown } | null)?.open_time ?? ''));
    if (Number.isFinite(open) && exchangeNow < open) continue;
    const age = now - received;
    if (age <= opts.staleDataMs) continue;
    stale.push({ market, lastDataMs: received });
    opts.alert({ kind: 'stale_data', severity: 'warning', title: `market data for ${market} is stale`, detail: `no update for ${(age / 1000).toFixed(1)} s with open positions (limit ${(opts.staleDataMs / 1000).toFixed(1)} s)`, key: market });
  }
  if (stale.length > 0) await opts.tripBreaker?.(stale);
  return stale.map((s) => s.market);
}

/** Runs `checkStaleData` every `everyMs` until stopped; a failed pass is logged and the next one tries again. */
export function startStaleDataWatch(opts: Parameters<typeof checkStaleData>[0] & { everyMs: number; log: (line: string) => void }): { stop(): Promise<void> } {
  return runEvery(opts.everyMs, () => checkStaleData(opts), (err) => opts.log(`stale-data watch failed: ${err.message}`));
}
