import { configuredFees } from '../../config/fees';
import type { KestrelConfig } from '../../config/schema';
import type { Clock } from '../../domain/clock';
import type { FeeDifference } from '../../domain/fees';
import { KALSHI_BASIC_TIER, kalshiEndpoints, type KalshiEndpoints } from './config';
import { KalshiExecutionClient, KalshiWsOrderFeed, type KalshiOrderRef } from './execution';
import { KalshiInstrumentProvider } from './providers';
import { KalshiRestClient } from './rest-client';
import type { KalshiCredentials } from './signing';

export interface KalshiVenue {
  endpoints: KalshiEndpoints;
  rest: KalshiRestClient;
  instruments: KalshiInstrumentProvider;
  execution: KalshiExecutionClient;
}

/**
 * Kalshi's adapters built from config (NautilusTrader's factory): the environment picks production,
 * demo or the local emulator; credentials come from the environment only (venues/kalshi/signing.ts).
 * With credentials, the execution client takes order updates pushed on the signed WebSocket's
 * `fill` / `user_orders` channels (REST polling stays as the fallback); it connects only once
 * something listens (`onOrderUpdate`), and `orderPush: false` leaves it out altogether (one-shot
 * CLI commands).
 */
export function createKalshiVenue(
  config: Pick<KestrelConfig, 'venues' | 'fees' | 'paper'>,
  deps: {
    clock: Clock;
    credentials?: KalshiCredentials;
    orderRef: (clientOrderId: string) => Promise<KalshiOrderRef | undefined>;
    log?: (line: string) => void;
    onFeeDifference?: (difference: FeeDifference & { clientOrderId: string }) => void;
    /** Order updates pushed over the WebSocket (default: on when there are credentials). */
    orderPush?: boolean;
  },
): KalshiVenue {
  const endpoints = kalshiEndpoints(config.venues);
  const rest = new KalshiRestClient({ baseUrl: endpoints.restUrl, credentials: deps.credentials, clock: deps.clock, limits: KALSHI_BASIC_TIER });
  // The private channels need a signed handshake: without credentials there is nothing to push.
  const orderFeed = deps.credentials && deps.orderPush !== false ? new KalshiWsOrderFeed({ url: endpoints.wsUrl, credentials: deps.credentials, clock: deps.clock, log: deps.log }) : undefined;
  return {
    endpoints,
    rest,
    instruments: new KalshiInstrumentProvider(rest),
    execution: new KalshiExecutionClient(rest, {
      orderRef: deps.orderRef,
      pollMs: config.venues.kalshi.orderPollMs,
      orderFeed,
      log: deps.log,
      fees: configuredFees(config),
      onFeeDifference: deps.onFeeDifference,
    }),
  };
}
