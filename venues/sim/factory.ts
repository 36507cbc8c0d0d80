import { Redis } from 'ioredis';
import { configuredFees } from '../../config/fees';
import type { KestrelConfig } from '../../config/schema';
import type { Clock } from '../../domain/clock';
import { SimMatchingEngine, type MatchingBook } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { RedisSimStore } from './sim-store';
import { SimVenue, type BookSource } from './sim-venue';

/** Connection errors only say Redis is away: ioredis reconnects, and the stack logs the outage once. */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

/**
 * The paper exchange from config: Kalshi's fee schedule, the configured order latency, its orders in
 * Redis (under `redis.keyPrefix`) shared by every process. The store's connection is its own: its
 * transactions WATCH keys, which belong to a connection. Commands fail at once while Redis is down
 * (no offline queue), so a transaction never continues on a new connection that lost its WATCH; the
 * trading activity that called retries.
 */
export function createSimVenue(
  config: Pick<KestrelConfig, 'fees' | 'paper' | 'redis'>,
  deps: {
    books: BookSource;
    clock: Clock;
    recorded: (clientOrderId: string) => Promise<OrderStateWire | undefined>;
    orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
    sharedBook?: (market: string) => Promise<MatchingBook | undefined>;
    log?: (line: string) => void;
  },
): SimVenue {
  const fees = configuredFees(config);
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: null, enableOfflineQueue: false, retryStrategy: (attempt) => Math.min(1000 * attempt, 5000), connectionName: 'kestrel-paper-exchange' });
  redis.on('error', (err: Error & { code?: string }) => {
    if (!CONNECTION_ERRORS.has(err.code ?? '')) deps.log?.(`paper exchange store: ${err.message}`);
  });
  const store = new RedisSimStore(redis, config.redis.keyPrefix, () => new SimMatchingEngine(fees));
  return new SimVenue(store, { ...deps, latencyMs: config.paper.latencyMs });
}
