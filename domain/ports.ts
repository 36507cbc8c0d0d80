import type { Dec } from './decimal';
import type { MarketEvent } from './market-data/events';
import type { Venue } from './market-data/trade';

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
  tickSize: Dec;
  closeTimeMs?: number;
}

export interface InstrumentProvider {
  instrument(id: string): Promise<Instrument | undefined>;
  list(filter: { eventId?: string; seriesId?: string; status?: string }): AsyncIterable<Instrument>;
}

export interface MarketDataClient {
  readonly capabilities: VenueCapabilities;
  /** Starts delivering events for these instruments; resync and reconnects are the client's job. */
  subscribe(instrumentIds: string[], onEvent: (event: MarketEvent) => void): Promise<void>;
  close(): Promise<void>;
}

export type OrderSide = 'buy_yes' | 'sell_yes';
export type TimeInForce = 'gtc' | 'ioc' | 'fok';

export interface OrderRequest {
  /** Derived deterministically (workflow id + attempt): resubmitting the same request is a no-op. */
  clientOrderId: string;
  instrumentId: string;
  side: OrderSide;
  price: Dec;
  size: Dec;
  timeInForce: TimeInForce;
  postOnly?: boolean;
  reduceOnly?: boolean;
}

export interface OrderAck {
  venueOrderId: string;
  clientOrderId: string;
  filledSize: Dec;
  remainingSize: Dec;
  averageFillPrice?: Dec;
  fees: Dec;
  tsMs: number;
}

export interface ExecutionClient {
  readonly capabilities: VenueCapabilities;
  submit(order: OrderRequest): Promise<OrderAck>;
  cancel(venueOrderId: string): Promise<{ canceledSize: Dec }>;
}

export interface SettlementSource {
  /** 'yes' / 'no' once the market has settled, else undefined. */
  result(market: string): Promise<'yes' | 'no' | undefined>;
}
