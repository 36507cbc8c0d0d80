import type { KestrelConfig } from '../config/schema';
import type { Clock } from '../domain/clock';
import type { FeeDifference } from '../domain/fees';
import type { ExecutionClient } from '../domain/ports';
import type { MatchingBook } from '../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../domain/trading/wire';
import type { KalshiOrderRef } from './kalshi/execution';
import { createKalshiVenue, type KalshiVenue } from './kalshi/factory';
import type { KalshiCredentials } from './kalshi/signing';
import { createPolymarketVenue, type PolymarketVenue } from './polymarket/factory';
import { createSimVenue } from './sim/factory';
import type { BookSource } from './sim/sim-venue';

export interface ExecutionDeps {
  books: BookSource;
  clock: Clock;
  credentials?: KalshiCredentials;
  /** The Polymarket wallet key (POLYMARKET_PRIVATE_KEY), for `venues.execution: polymarket`. */
  polymarketPrivateKey?: `0x${string}`;
  /** Kestrel's records of its orders: the state a venue last reported, and the request that was sent. */
  orders: { recorded(clientOrderId: string): Promise<OrderStateWire | undefined>; ref(clientOrderId: string): Promise<KalshiOrderRef | undefined> };
  orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
  /** Paper: the book of a market another process owns, as its owner last shared it (SimVenue's `sharedBook`). */
  sharedBook?: (market: string) => Promise<MatchingBook | undefined>;
  log?: (line: string) => void;
  /** A venue fee that differs from our formula (logged by the client; counted by the caller). */
  onFeeDifference?: (difference: FeeDifference & { clientOrderId: string }) => void;
}

/** Request signatures and rate limits are real time, even when the session runs on a market clock. */
const WALL_CLOCK: Clock = { nowMs: () => Date.now() };

/**
 * The execution client `venues.execution` names, built by that venue's factory; for a real venue
 * also its other adapters (REST client, instruments), which reconciliation uses.
 */
export function createExecution(config: Pick<KestrelConfig, 'venues' | 'fees' | 'paper' | 'redis'>, deps: ExecutionDeps): { execution: ExecutionClient; kalshi?: KalshiVenue; polymarket?: PolymarketVenue } {
  switch (config.venues.execution) {
    case 'paper':
      return { execution: createSimVenue(config, { books: deps.books, clock: deps.clock, recorded: deps.orders.recorded, orderLatency: deps.orderLatency, sharedBook: deps.sharedBook, log: deps.log }) };
    case 'kalshi': {
      const kalshi = createKalshiVenue(config, { clock: WALL_CLOCK, credentials: deps.credentials, orderRef: deps.orders.ref, log: deps.log, onFeeDifference: deps.onFeeDifference });
      return { execution: kalshi.execution, kalshi };
    }
    case 'polymarket': {
      if (!deps.polymarketPrivateKey) throw new Error(`venues.execution is polymarket (${config.venues.polymarket.environment}) but POLYMARKET_PRIVATE_KEY is not set: the wallet key signs every order and derives the API key`);
      const polymarket = createPolymarketVenue(config, { privateKey: deps.polymarketPrivateKey, log: deps.log });
      return { execution: polymarket.execution, polymarket };
    }
  }
}
