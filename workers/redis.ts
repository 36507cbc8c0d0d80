import { Redis } from 'ioredis';

/**
 * BullMQ workers block on Redis and must never give up a command (maxRetriesPerRequest: null);
 * producers fail fast instead so a caller sees an outage.
 */
export function createRedis(url: string, role: 'worker' | 'producer'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 3,
    enableOfflineQueue: role === 'worker',
    lazyConnect: false,
  });
}
