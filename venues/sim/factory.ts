import { configuredFees } from '../../config/fees';
import type { KestrelConfig } from '../../config/schema';
import type { Clock } from '../../domain/clock';
import { SimMatchingEngine } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { SimVenue, type BookSource } from './sim-venue';

/** The paper exchange from config: Kalshi's fee schedule, the configured order latency. */
export function createSimVenue(
  config: Pick<KestrelConfig, 'fees' | 'paper'>,
  deps: { books: BookSource; clock: Clock; recorded: (clientOrderId: string) => Promise<OrderStateWire | undefined>; orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void> },
): SimVenue {
  const engine = new SimMatchingEngine(configuredFees(config));
  return new SimVenue(engine, { ...deps, latencyMs: config.paper.latencyMs });
}
