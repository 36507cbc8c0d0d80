import { Redis } from 'ioredis';

/**
 * BullMQ workers block on Redis and must never give up a command (maxRetriesPerRequest: null);
 * producers give up after a few retries so a caller sees an outage. (The offline queue stays on for
 * both: ioredis 6 sends its connection handshake through it.)
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    lazyConnect: false,
  });
}
