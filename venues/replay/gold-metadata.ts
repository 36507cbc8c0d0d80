import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { MarketMetadata } from '../../db/market-data-repo';

const metadataFileSchema = z.object({
  fetched_at_ms: z.number().int(),
  response: z.object({
    event: z.object({ event_ticker: z.string(), series_ticker: z.string().optional(), title: z.string().optional() }).passthrough(),
    markets: z.array(z.object({ ticker: z.string(), status: z.string(), event_ticker: z.string() }).passthrough()).min(1),
  }),
});

/** Attributes that describe the contract (not its live prices, which belong in price history). */
const TRACKED = ['title', 'open_time', 'close_time', 'expiration_time', 'strike_type', 'floor_strike', 'cap_strike', 'price_level_structure', 'price_ranges', 'rules_primary', 'result', 'expiration_value', 'settlement_value_dollars', 'settlement_ts'];

/**
 * The recorded post-settlement `GET /events/{event}` response of a gold market, as SCD-2 market
 * metadata observed at its fetch time. The event ticker is the market ticker without its `-NN` suffix.
 */
export function readGoldMarketMetadata(dataDir: string, marketTicker: string): { meta: MarketMetadata; observedAtMs: number } | undefined {
  const eventTicker = marketTicker.replace(/-\d\d$/, '');
  const file = path.join(dataDir, 'metadata', `${eventTicker}.json`);
  if (!existsSync(file)) return undefined;
  const parsed = metadataFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  const market = parsed.response.markets.find((m) => m.ticker === marketTicker);
  if (!market) return undefined;
  const attributes = Object.fromEntries(TRACKED.filter((k) => k in market).map((k) => [k, (market as Record<string, unknown>)[k]]));
  return { meta: { venue: 'kalshi', marketTicker, eventTicker: market.event_ticker, status: market.status, attributes }, observedAtMs: parsed.fetched_at_ms };
}
