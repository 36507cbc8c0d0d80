import type { KestrelConfig } from '../../config/schema';
import type { Clock } from '../../domain/clock';
import { KALSHI_BASIC_TIER, kalshiEndpoints, type KalshiEndpoints } from './config';
import { KalshiExecutionClient, type KalshiOrderRef } from './execution';
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
 */
export function createKalshiVenue(
  config: Pick<KestrelConfig, 'venues'>,
  deps: { clock: Clock; credentials?: KalshiCredentials; orderRef: (clientOrderId: string) => Promise<KalshiOrderRef | undefined>; log?: (line: string) => void },
): KalshiVenue {
  const endpoints = kalshiEndpoints(config.venues);
  const rest = new KalshiRestClient({ baseUrl: endpoints.restUrl, credentials: deps.credentials, clock: deps.clock, limits: KALSHI_BASIC_TIER });
  return {
    endpoints,
    rest,
    instruments: new KalshiInstrumentProvider(rest),
    execution: new KalshiExecutionClient(rest, { orderRef: deps.orderRef, pollMs: config.venues.kalshi.orderPollMs, log: deps.log }),
  };
}
