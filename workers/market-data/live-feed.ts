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
import type { MarketEvent } from '../../domain/market-data/events';
import { polymarketEndpoints } from '../../venues/polymarket/config';
import { PolymarketRestClient } from '../../venues/polymarket/rest-client';
import { PolymarketMarketDataClient } from '../../venues/polymarket/ws-client';

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

/** A market of Polymarket's REST `/markets` as the feed reads it (the rest passes through to the snapshot row). */
const polymarketListedSchema = z
  .object({
    condition_id: z.string().min(1),
    question: z.string().nullish(),
    tokens: z.array(z.object({ token_id: z.string().min(1), outcome: z.string().nullish() }).passthrough()),
    closed: z.boolean().nullish(),
    accepting_orders: z.boolean().nullish(),
    end_date_iso: z.string().nullish(),
    minimum_tick_size: z.union([z.number(), z.string()]).nullish(),
    neg_risk: z.boolean().nullish(),
    taker_base_fee: z.union([z.number(), z.string()]).nullish(),
  })
  .passthrough();

export interface PolymarketFeedDeps {
  db: Database;
  /** Overrides of the configured environment's URLs (an emulator started in-process). */
  endpoints?: { restUrl: string; marketWsUrl: string };
  /** Wall clock (REST retries). */
  clock: Clock;
  /** Each market row (one per token) the feed learns, before it is stored. */
  onMarketMetadata?: (meta: MarketMetadata) => void;
  log: (line: string) => void;
  reconnect?: { initialMs: number; maxMs: number };
}

export interface PolymarketFeed {
  client: PolymarketMarketDataClient;
  /** The followed tokens (Kestrel's market ids on Polymarket) and their markets (condition ids). */
  assets: string[];
  conditionOf: Map<string, string>;
  /** Events the feed delivered, by kind. */
  delivered: Record<MarketEvent['t'], number>;
  /** Starts the market channel; every event goes to `onEvent` (e.g. a publisher), counted. */
  open(onEvent: (event: MarketEvent) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * The Polymarket market channel of the configured environment (`venues.polymarket.*`) or the given
 * URLs, following the tokens of `marketData.polymarket.assets`, or, when that is empty, of the open
 * markets REST /markets lists (at most `maxMarkets` markets). Each token is a market to Kestrel (its
 * YES side; the book's asks are NO bids at 1 − a); its row in `market_snapshots` carries the
 * condition id as its event, the tick, neg-risk flag and fee rate, and the end date as `close_time`.
 */
export async function createPolymarketFeed(config: KestrelConfig, deps: PolymarketFeedDeps): Promise<PolymarketFeed> {
  const configured = deps.endpoints ?? polymarketEndpoints(config.venues);
  const selection = config.marketData.polymarket;
  const rest = new PolymarketRestClient({ baseUrl: configured.restUrl, clock: deps.clock });
  const conditionOf = new Map<string, string>();
  const wanted = new Set(selection.assets);
  let listed = 0;
  const nowMs = deps.clock.nowMs();
  for await (const raw of rest.markets()) {
    const parsed = polymarketListedSchema.safeParse(raw);
    if (!parsed.success) {
      deps.log(`polymarket feed: unreadable market in /markets (${describeIssues(parsed.error.issues)}): ${JSON.stringify(raw).slice(0, RAW_LOG_LIMIT)}`);
      continue;
    }
    const m = parsed.data;
    const tokens = m.tokens.filter((t) => (wanted.size ? wanted.has(t.token_id) : !m.closed && m.accepting_orders !== false));
    if (tokens.length === 0) continue;
    for (const token of tokens) {
      conditionOf.set(token.token_id, m.condition_id);
      const meta: MarketMetadata = {
        venue: 'polymarket',
        marketTicker: token.token_id,
        eventTicker: m.condition_id,
        status: m.closed ? 'closed' : 'open',
        attributes: { condition_id: m.condition_id, question: m.question ?? '', outcome: token.outcome ?? '', neg_risk: m.neg_risk ?? false, minimum_tick_size: m.minimum_tick_size ?? null, taker_base_fee: m.taker_base_fee ?? null, ...(m.end_date_iso ? { close_time: m.end_date_iso } : {}) },
      };
      deps.onMarketMetadata?.(meta);
      await upsertMarketSnapshot(deps.db, meta, nowMs);
    }
    if (!wanted.size && ++listed >= selection.maxMarkets) break;
    // Every configured token found: the rest of the listing (thousands of pages on production) is not needed.
    if (wanted.size && [...wanted].every((a) => conditionOf.has(a))) break;
  }
  const missing = [...wanted].filter((a) => !conditionOf.has(a));
  if (missing.length) deps.log(`polymarket feed: ${missing.length} configured asset(s) not listed by ${configured.restUrl}/markets (followed anyway): ${missing.join(', ')}`);
  const assets = [...conditionOf.keys(), ...missing];
  const client = new PolymarketMarketDataClient({
    url: configured.marketWsUrl,
    assets,
    reconnect: deps.reconnect,
    onMalformed: (raw, error) => deps.log(`polymarket feed: malformed message (${error}): ${raw.length > RAW_LOG_LIMIT ? `${raw.slice(0, RAW_LOG_LIMIT)}… (${raw.length} chars)` : raw}`),
    log: deps.log,
  });
  const delivered: Record<MarketEvent['t'], number> = { snapshot: 0, delta: 0, level: 0, trade: 0, stale: 0 };
  return {
    client,
    assets,
    conditionOf,
    delivered,
    open: (onEvent) =>
      client.start((event) => {
        delivered[event.t]++;
        onEvent(event);
      }),
    close: () => client.close(),
  };
}
