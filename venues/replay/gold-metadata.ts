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

export type GoldEventFile = z.infer<typeof metadataFileSchema>;

/** The recorded `GET /events/{event}` response of a gold market's event (the market ticker without its `-NN` suffix). */
export function readGoldEventFile(dataDir: string, marketTicker: string): GoldEventFile | undefined {
  const eventTicker = marketTicker.replace(/-\d\d$/, '');
  const file = path.join(dataDir, 'metadata', `${eventTicker}.json`);
  if (!existsSync(file)) return undefined;
  return metadataFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * The recorded post-settlement `GET /events/{event}` response of a gold market, as SCD-2 market
 * metadata observed at its fetch time.
 */
export function readGoldMarketMetadata(dataDir: string, marketTicker: string): { meta: MarketMetadata; observedAtMs: number } | undefined {
  const parsed = readGoldEventFile(dataDir, marketTicker);
  if (!parsed) return undefined;
  const market = parsed.response.markets.find((m) => m.ticker === marketTicker);
  if (!market) return undefined;
  return { meta: kalshiMarketMetadata(market), observedAtMs: parsed.fetched_at_ms };
}

/** A Kalshi `Market` object (REST, recorded or live) as SCD-2 market metadata: the contract's attributes, not its prices. */
export function kalshiMarketMetadata(market: { ticker: string; event_ticker: string; status: string }): MarketMetadata {
  const attributes = Object.fromEntries(TRACKED.filter((k) => k in market).map((k) => [k, (market as Record<string, unknown>)[k]]));
  return { venue: 'kalshi', marketTicker: market.ticker, eventTicker: market.event_ticker, status: market.status, attributes };
}
