import { z } from 'zod';
import type { KestrelConfig } from '../../config/schema';
import { describeIssues } from '../../domain/validation';
import type { Database } from '../../db/client';
import { upsertMarketSnapshot, type MarketMetadata } from '../../db/market-data-repo';
import type { Clock } from '../../domain/clock';
import { kalshiEndpoints } from '../../venues/kalshi/config';
import { KalshiLiveMarketData, type KalshiMarketSelection } from '../../venues/kalshi/data';
import { KALSHI_BASIC_TIER } from '../../venues/kalshi/config';
import { KalshiRestClient } from '../../venues/kalshi/rest-client';
import type { KalshiCredentials } from '../../venues/kalshi/signing';
import type { MarketDataPublisher } from './publisher';

/** At most this much of a malformed message goes into a log line. */
const RAW_LOG_LIMIT = 500;

export interface KalshiFeedDeps {
  db: Database;
  /** Kalshi signs the WebSocket handshake even for public channels: a feed needs credentials. */
  credentials: KalshiCredentials | undefined;
  /** Wall clock: signs requests and the handshake. */
  clock: Clock;
  /** The exchange's clock, when it is not wall time (the emulator replays the recording's time). */
  exchangeClock?: Clock;
  /** Or the exchange's time now, from which the feed keeps its own estimate (see `emulatorExchangeTime`). */
  seedExchangeMs?: number;
  /** Overrides of the configured environment's URLs (an emulator started in-process). */
  endpoints?: { restUrl: string; wsUrl: string };
  selection?: Partial<KalshiMarketSelection>;
  /** Each market row the feed learns (discovery, lifecycle) before it is stored. */
  onMarketMetadata?: (meta: MarketMetadata) => void;
  log: (line: string) => void;
  reconnect?: { initialMs: number; maxMs: number };
}

/**
 * The live Kalshi feed of the configured environment (`venues.kalshi.*`) and market selection
 * (`marketData.kalshi.*`): market rows become SCD-2 `market_snapshots`, malformed messages are
 * logged with their raw payload (and counted by the feed).
 */
export function createKalshiFeed(config: KestrelConfig, deps: KalshiFeedDeps): KalshiLiveMarketData {
  if (!deps.credentials) throw new Error('the Kalshi feed needs credentials: Kalshi signs the WebSocket handshake even for market data (set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH)');
  const endpoints = deps.endpoints ?? kalshiEndpoints(config.venues);
  const rest = new KalshiRestClient({ baseUrl: endpoints.restUrl, credentials: deps.credentials, clock: deps.clock, limits: KALSHI_BASIC_TIER });
  const k = config.marketData.kalshi;
  return new KalshiLiveMarketData({
    rest,
    ws: { url: endpoints.wsUrl, credentials: deps.credentials, clock: deps.clock, reconnect: deps.reconnect },
    exchangeClock: deps.exchangeClock,
    seedExchangeMs: deps.seedExchangeMs,
    selection: { series: k.series, events: k.events, status: k.status, maxMarkets: k.maxMarkets, ...deps.selection },
    onMarketMetadata: async (meta, observedAtMs) => {
      deps.onMarketMetadata?.(meta);
      await upsertMarketSnapshot(deps.db, meta, observedAtMs);
    },
    onMalformed: (raw, error) => deps.log(`kalshi feed: malformed message (${error}): ${raw.length > RAW_LOG_LIMIT ? `${raw.slice(0, RAW_LOG_LIMIT)}… (${raw.length} chars)` : raw}`),
    log: deps.log,
  });
}

/**
 * The exchange time of a Kalshi emulator (its `GET /_emulator/state`): it replays the recording's
 * time, and snapshots that arrive before any timed event are stamped with it.
 */
export async function emulatorExchangeTime(restUrl: string): Promise<number> {
  const response = await fetch(new URL('/_emulator/state', restUrl));
  if (!response.ok) throw new Error(`GET /_emulator/state answered HTTP ${response.status}`);
  const parsed = z.object({ exchange_time_ms: z.number().int() }).passthrough().safeParse(await response.json());
  if (!parsed.success) throw new Error(`GET /_emulator/state: ${describeIssues(parsed.error.issues)}`);
  return parsed.data.exchange_time_ms;
}

/**
 * Runs a feed into the market-data partitions: every event is published (BullMQ, batched per
 * partition) for the book workers. Resolves with the subscribed markets once the feed flows.
 */
export async function runFeedIntoPublisher(feed: KalshiLiveMarketData, publisher: MarketDataPublisher): Promise<{ markets: string[]; stop(): Promise<void> }> {
  const markets = await feed.open((event) => publisher.publish(event));
  return {
    markets,
    stop: async () => {
      await feed.close();
      await publisher.flush();
    },
  };
}
