import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { priceText, sizeText } from '../domain/fixed-point';
import { NO_PRICE, type PricePoint } from '../domain/market-data/price-history';
import type { Database } from './client';
import { inTransaction } from './transactions';
import { marketSnapshots, priceHistory } from './schema';

const priceOrNull = (units: number) => (units === NO_PRICE ? null : priceText(units));

/** Upserts sampled history points (one per market and millisecond); a redelivered batch adds no rows. */
export async function insertPricePoints(db: Database, source: string, points: readonly { market: string; point: PricePoint }[]): Promise<number> {
  let inserted = 0;
  // Chunks keep each statement's JSON parameter a few hundred kB.
  for (let i = 0; i < points.length; i += 5000) {
    const rows = points.slice(i, i + 5000).map(({ market, point }) => ({ m: market, t: point.ts, b: priceOrNull(point.bid), a: priceOrNull(point.ask), l: priceOrNull(point.last), v: sizeText(point.volume) }));
    // One parameter (the rows as JSON) instead of seven per row: building the statement costs next to
    // nothing (drizzle's builder was the book workers' largest cost). A redelivered batch rewrites
    // identical values; a millisecond split across two batches keeps the later state.
    const result = await db.execute(sql`
      insert into price_history (market_ticker, ts, source, yes_bid, yes_ask, last_price, cumulative_volume)
      select x.m, timestamptz 'epoch' + x.t * interval '1 millisecond', ${source}, x.b::numeric, x.a::numeric, x.l::numeric, x.v::numeric
      from json_to_recordset(${JSON.stringify(rows)}::json) as x(m text, t bigint, b text, a text, l text, v text)
      on conflict (market_ticker, ts, source) do update set yes_bid = excluded.yes_bid, yes_ask = excluded.yes_ask, last_price = excluded.last_price, cumulative_volume = excluded.cumulative_volume
      returning 1`);
    inserted += result.length;
  }
  return inserted;
}

/** Rolls raw history up into price_history_daily for the given UTC day (re-runnable). */
export async function aggregateDailyHistory(db: Database, dayIso: string): Promise<number> {
  const result = await db.execute(sql`
    insert into price_history_daily (market_ticker, day, source, open_mid, high_mid, low_mid, close_mid, last_price, volume, points)
    select market_ticker, ${dayIso}::date, source,
      (array_agg((yes_bid + yes_ask) / 2 order by ts) filter (where yes_bid is not null and yes_ask is not null))[1],
      max((yes_bid + yes_ask) / 2), min((yes_bid + yes_ask) / 2),
      (array_agg((yes_bid + yes_ask) / 2 order by ts desc) filter (where yes_bid is not null and yes_ask is not null))[1],
      (array_agg(last_price order by ts desc) filter (where last_price is not null))[1],
      max(cumulative_volume) - min(cumulative_volume),
      count(*)
    from price_history
    where ts >= ${dayIso}::date and ts < ${dayIso}::date + 1
    group by market_ticker, source
    on conflict (market_ticker, day, source) do update set
      open_mid = excluded.open_mid, high_mid = excluded.high_mid, low_mid = excluded.low_mid, close_mid = excluded.close_mid,
      last_price = excluded.last_price, volume = excluded.volume, points = excluded.points`);
  return result.count ?? 0;
}

/** Deletes raw history older than `retainDays` before `nowMs` (daily aggregates are kept). */
export async function applyHistoryRetention(db: Database, nowMs: number, retainDays: number): Promise<number> {
  const cutoff = new Date(nowMs - retainDays * 86_400_000);
  const deleted = await db.delete(priceHistory).where(lt(priceHistory.ts, cutoff)).returning({ ts: priceHistory.ts });
  return deleted.length;
}

export interface MarketMetadata {
  venue: string;
  marketTicker: string;
  eventTicker?: string;
  status: string;
  attributes: Record<string, unknown>;
}

/** The market's close (ms) from its metadata attributes (Kalshi `close_time`), if it has a valid one. */
export function closeTimeMs(attributes: unknown): number | undefined {
  const close = Date.parse(String((attributes as { close_time?: unknown } | null | undefined)?.close_time ?? ''));
  return Number.isFinite(close) ? close : undefined;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * SCD-2 upsert: unchanged metadata is a no-op; a change expires the current row and inserts a new
 * current one, atomically. Returns what happened.
 */
export async function upsertMarketSnapshot(db: Database, meta: MarketMetadata, observedAtMs: number): Promise<'inserted' | 'unchanged' | 'versioned'> {
  const hash = createHash('sha256').update(stableJson({ status: meta.status, eventTicker: meta.eventTicker ?? null, attributes: meta.attributes })).digest('hex');
  const at = new Date(observedAtMs);
  return inTransaction(db, async (tx) => {
    const current = await tx
      .select({ id: marketSnapshots.id, hash: marketSnapshots.attributesHash })
      .from(marketSnapshots)
      .where(and(eq(marketSnapshots.venue, meta.venue), eq(marketSnapshots.marketTicker, meta.marketTicker), eq(marketSnapshots.rowCurrentInd, true)))
      .for('update');
    if (current[0]?.hash === hash) return 'unchanged';
    if (current[0]) await tx.update(marketSnapshots).set({ rowCurrentInd: false, expirationTs: at }).where(eq(marketSnapshots.id, current[0].id));
    await tx.insert(marketSnapshots).values({
      venue: meta.venue,
      marketTicker: meta.marketTicker,
      eventTicker: meta.eventTicker ?? null,
      status: meta.status,
      attributes: sql`${JSON.stringify(meta.attributes)}::jsonb`,
      attributesHash: hash,
      effectiveTs: at,
    });
    return current[0] ? 'versioned' : 'inserted';
  });
}
