import { sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { tradePrints } from '../db/schema';
import { ValidationError } from '../domain/errors';
import { tradeBatchSchema, type TradeBatch } from '../domain/market-data/trade';
import { describeIssues } from '../domain/validation';

export interface PersistTradesResult {
  inserted: number;
  duplicates: number;
}

export function createMarketDataActivities(deps: { db: Database }) {
  return {
    /** Writes one batch of trade prints; re-running the same batch inserts nothing twice. */
    async persistTradeBatch(input: TradeBatch): Promise<PersistTradesResult> {
      const parsed = tradeBatchSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(`invalid trade batch: ${describeIssues(parsed.error.issues)}`);
      const batch = parsed.data;
      const rows = batch.trades.map((t) => ({
        venue: t.venue,
        tradeId: t.tradeId,
        marketTicker: t.marketTicker,
        yesPrice: t.yesPrice,
        count: t.count,
        takerSide: t.takerSide,
        exchangeTs: new Date(t.exchangeTsMs),
        batchId: batch.batchId,
      }));
      const inserted = await deps.db
        .insert(tradePrints)
        .values(rows)
        .onConflictDoNothing({ target: [tradePrints.venue, tradePrints.tradeId] })
        .returning({ one: sql<number>`1` });
      return { inserted: inserted.length, duplicates: rows.length - inserted.length };
    },
  };
}
