import type { KestrelConfig } from '../../config/schema';

export type KalshiEnvironment = KestrelConfig['venues']['kalshi']['environment'];

export interface KalshiEndpoints {
  environment: KalshiEnvironment;
  /** Trade API v2 base, e.g. https://external-api.kalshi.com/trade-api/v2 */
  restUrl: string;
  /** WebSocket, e.g. wss://api.elections.kalshi.com/trade-api/ws/v2 */
  wsUrl: string;
}

/**
 * Kalshi's Basic tier (new accounts), in tokens: a request costs 10 unless GET /account/endpoint_costs
 * says otherwise, so 20 reads and 10 writes per second. GET /account/limits reports an account's own.
 */
export const KALSHI_BASIC_TIER = { read: { refillPerSecond: 200, capacity: 200 }, write: { refillPerSecond: 100, capacity: 100 } };

/** The REST and WebSocket paths Kalshi serves (and the emulator serves the same). */
export const KALSHI_REST_PATH = '/trade-api/v2';
export const KALSHI_WS_PATH = '/trade-api/ws/v2';

// The documented hosts (servers of ../shared/specs/kalshi openapi-v3.22.0 and asyncapi-2026-03).
const HOSTS: Record<Exclude<KalshiEnvironment, 'emulator'>, { rest: string; ws: string }> = {
  production: { rest: 'https://external-api.kalshi.com', ws: 'wss://api.elections.kalshi.com' },
  demo: { rest: 'https://external-api.demo.kalshi.co', ws: 'wss://demo-api.kalshi.co' },
};

/** Base URLs of the configured Kalshi environment; `restUrl` / `wsUrl` in config override them. */
export function kalshiEndpoints(venues: KestrelConfig['venues']): KalshiEndpoints {
  const k = venues.kalshi;
  const hosts = k.environment === 'emulator' ? { rest: `http://${k.emulatorHost}:${k.emulatorPort}`, ws: `ws://${k.emulatorHost}:${k.emulatorPort}` } : HOSTS[k.environment];
  return {
    environment: k.environment,
    restUrl: k.restUrl || `${hosts.rest}${KALSHI_REST_PATH}`,
    wsUrl: k.wsUrl || `${hosts.ws}${KALSHI_WS_PATH}`,
  };
}
