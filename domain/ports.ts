import type { PriceRange } from './trading/price-grid';
import type { Dec } from './decimal';
import type { MarketEvent } from './market-data/events';
import type { Venue } from './market-data/trade';
import type { OrderRequestWire, OrderStateWire } from './trading/wire';

/**
 * The shared ports every venue adapter implements (after NautilusTrader's adapter split). Domain
 * and workflows speak only these; `kalshi`, `polymarket`, `replay` and `sim` plug in behind them.
 */

export interface VenueCapabilities {
  venue: Venue | 'replay';
  /** Market data arrives with per-subscription sequence numbers (gap detection) or not. */
  sequencedMarketData: boolean;
  /** Book updates are deltas (Kalshi) or absolute levels (Polymarket). */
  bookUpdates: 'deltas' | 'levels';
  orderTypes: readonly ('limit' | 'ioc' | 'fok' | 'post_only')[];
  /** Can amend price/size in place (else cancel/replace). */
  amend: boolean;
  batchOrders: boolean;
  /** Client order ids are enforced unique by the venue (idempotent submission). */
  idempotentClientOrderIds: boolean;
  trading: boolean;
}

export interface Instrument {
  venue: Venue;
  /** Kalshi market ticker, Polymarket asset (token) id. */
  id: string;
  eventId?: string;
  title?: string;
  status: string;
  /** The finest step of the price grid. */
  tickSize: Dec;
  /** Where orders may be priced (Kalshi's `price_ranges`: the cent grid, deci-cent tails, …). */
  priceGrid: readonly PriceRange[];
  closeTimeMs?: number;
}

export interface InstrumentProvider {
  instrument(id: string): Promise<Instrument | undefined>;
  list(filter: { eventId?: string; seriesId?: string; status?: string }): AsyncIterable<Instrument>;
}

export interface MarketDataClient {
  readonly capabilities: VenueCapabilities;
  /**
   * Delivers market events (books, trades) for the instruments the client was configured with (a
   * list, venue discovery, a recording) until `close()`; a recording resolves when it ends. Resync
   * and reconnects are the client's job; `onEvent` may return a promise to apply back-pressure.
   */
  start(onEvent: (event: MarketEvent) => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export type TimeInForce = 'gtc' | 'ioc' | 'fok';

/** Venues Kestrel routes orders to: the paper exchange or a real venue. */
export type TradingVenue = Venue;

export interface OrderAmendment {
  /** New limit in the held outcome's price. */
  limitPrice: string;
  /** New total size (already filled + the size that should rest). */
  size: string;
}

/**
 * Execution port (NautilusTrader's ExecutionClient): every call is keyed by the deterministic client
 * order id, so a retried submit returns the order the venue already has instead of sending a second.
 * Errors are the typed VenueError classes of domain/errors.ts (OrderNotFound, InvalidOrder,
 * MarketClosed, RateLimitExceeded, ...), which decide retryability.
 */
export interface ExecutionClient {
  readonly venue: TradingVenue;
  readonly capabilities: VenueCapabilities;
  /** Sends the order, or returns the venue's order already under this client order id. */
  submit(order: OrderRequestWire): Promise<OrderStateWire>;
  /** The venue's current state of the order; undefined when the venue has none under this id. */
  get(clientOrderId: string): Promise<OrderStateWire | undefined>;
  /** Cancels what rests; the state after. Throws OrderNotFound for an unknown id. */
  cancel(clientOrderId: string): Promise<OrderStateWire>;
  /** Changes price and/or total size in place (a price change or a size increase loses queue priority). */
  amend(clientOrderId: string, change: OrderAmendment): Promise<OrderStateWire>;
  /** Reduces the resting size by `reduceBy` contracts (keeps queue priority). */
  decrease(clientOrderId: string, reduceBy: string): Promise<OrderStateWire>;
  /** Order updates and fills as the venue pushes them (also those of orders resting from before). Returns an unsubscribe. */
  onOrderUpdate(listener: (state: OrderStateWire) => void): () => void;
  close(): Promise<void>;
}

export interface SettlementSource {
  /** 'yes' / 'no' once the market has settled, else undefined. */
  result(market: string): Promise<'yes' | 'no' | undefined>;
}
