import { Redis } from 'ioredis';

/**
 * Reconnect delay after the `attempt`-th failed try: BullMQ's production guide's exponential
 * backoff from 1 s, never giving up (a number, never undefined), but capped at 5 s rather than
 * 20 s, since books go stale for as long as a reconnect waits after Redis is back.
 */
export function redisRetryDelayMs(attempt: number): number {
  return Math.max(Math.min(Math.exp(attempt), 5000), 1000);
}

/**
 * Connections never give up on an outage: `maxRetriesPerRequest: null` (BullMQ requires it for
 * workers; an ioredis limit is what made `kestrel up` exit on a ~27 s outage) and reconnects
 * forever with backoff. The offline queue stays on for both roles, so a command issued during an
 * outage waits for Redis instead of failing a job half-way (a failed book batch would be retried
 * after later ones). BullMQ's guide turns it off for producers that can act on a fast failure: the
 * market-data publisher does, on a connection of its own (see MarketDataPublisher). /health reads
 * the connection status instead of waiting on a PING.
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: redisRetryDelayMs,
    lazyConnect: false,
    // A worker's blocking connection is duplicated by BullMQ; naming both helps `CLIENT LIST`.
    connectionName: `kestrel-${role}`,
  });
}

/** Errors that only say the connection is down (ioredis reconnects; the outage is logged once by watchRedisAvailability). */
export function isRedisConnectionError(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].includes(code)) return true;
  return typeof message === 'string' && /^(Connection is closed|Stream isn't writeable|connect ETIMEDOUT|Reached the max retries per request limit)/.test(message);
}

/** What /health and the chaos bench report about one connection's outages. */
export interface RedisAvailability {
  /** `ready` when commands run now; otherwise ioredis's status (connecting, reconnecting, …). */
  status: string;
  /** When the current outage began (undefined while connected). */
  downSinceMs: number | undefined;
  outages: number;
  /** Reconnections that found Redis empty (our marker key gone): queues, checkpoints and schedulers were lost. */
  emptyRecoveries: number;
}

/**
 * Follows a connection through outages: counts them, and after every reconnection tells
 * `onRecovered` whether Redis came back empty (the marker key this sets is gone), so owners of
 * Redis state (job schedulers, top-of-book keys, unacknowledged batches) can put it back.
 */
export function watchRedisAvailability(redis: Redis, opts: { markerKey: string; onRecovered: (info: { empty: boolean }) => Promise<void> | void; log: (line: string) => void }): RedisAvailability {
  const availability: RedisAvailability = {
    get status() {
      return redis.status;
    },
    downSinceMs: undefined,
    outages: 0,
    emptyRecoveries: 0,
  };
  let everReady = false;
  const markAlive = () => redis.set(opts.markerKey, String(Date.now()));
  const onReady = async () => {
    if (!everReady) {
      everReady = true;
      await markAlive();
      return;
    }
    const downMs = availability.downSinceMs === undefined ? 0 : Date.now() - availability.downSinceMs;
    availability.downSinceMs = undefined;
    const empty = (await redis.exists(opts.markerKey)) === 0;
    if (empty) availability.emptyRecoveries++;
    opts.log(`redis is back after ${downMs} ms${empty ? ' and came back empty: restoring schedulers, top of book and unacknowledged batches' : ''}`);
    await markAlive();
    await opts.onRecovered({ empty });
  };
  redis.on('ready', () => void onReady().catch((err: Error) => opts.log(`restoring redis state after reconnect failed: ${err.message}`)));
  redis.on('close', () => {
    if (availability.downSinceMs !== undefined || !everReady) return;
    // A quit (shutdown) also closes the connection; only an outage is followed by a reconnect.
    setImmediate(() => {
      if (redis.status === 'end' || availability.downSinceMs !== undefined) return;
      availability.downSinceMs = Date.now();
      availability.outages++;
      opts.log('redis connection lost; commands wait for it to come back');
    });
  });
  // Without a listener ioredis prints every failed reconnect; the outage is logged once above.
  redis.on('error', () => {});
  if (redis.status === 'ready') void onReady().catch((err: Error) => opts.log(`marking redis failed: ${err.message}`));
  return availability;
}
