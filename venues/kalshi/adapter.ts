import { Dec } from '../../domain/decimal';
import type { MarketEvent } from '../../domain/market-data/events';
import type { ExecutionClient, Instrument, InstrumentProvider, MarketDataClient, OrderAck, OrderRequest, VenueCapabilities } from '../../domain/ports';
import { type kalshiMarketSchema, type KalshiRestClient } from './rest-client';
import { KalshiWsClient, type KalshiWsOptions } from './ws-client';
import type { z } from 'zod';

export const KALSHI_CAPABILITIES: VenueCapabilities = {
  venue: 'kalshi',
  sequencedMarketData: true,
  bookUpdates: 'deltas',
  orderTypes: ['limit', 'ioc', 'fok', 'post_only'],
  amend: true,
  batchOrders: true,
  idempotentClientOrderIds: true,
  trading: true,
};

// Kalshi's price grid: linear_cent markets tick at $0.01; others report their ranges per market.
const DEFAULT_TICK = new Dec('0.01');

export function toInstrument(market: z.infer<typeof kalshiMarketSchema>): Instrument {
  return {
    venue: 'kalshi',
    id: market.ticker,
    eventId: market.event_ticker,
    title: typeof market.title === 'string' ? market.title : undefined,
    status: market.status,
    tickSize: DEFAULT_TICK,
    closeTimeMs: market.close_time ? Date.parse(market.close_time) : undefined,
  };
}

export class KalshiInstrumentProvider implements InstrumentProvider {
  constructor(private readonly rest: KalshiRestClient) {}

  async instrument(id: string): Promise<Instrument | undefined> {
    for await (const m of this.rest.markets({ tickers: id })) if (m.ticker === id) return toInstrument(m);
    return undefined;
  }

  async *list(filter: { eventId?: string; seriesId?: string; status?: string }): AsyncIterable<Instrument> {
    for await (const m of this.rest.markets({ event_ticker: filter.eventId, series_ticker: filter.seriesId, status: filter.status })) yield toInstrument(m);
  }
}

export class KalshiMarketDataClient implements MarketDataClient {
  readonly capabilities = KALSHI_CAPABILITIES;
  readonly ws: KalshiWsClient;
  private handler: (event: MarketEvent) => void = () => {};
  private connected = false;

  constructor(opts: Omit<KalshiWsOptions, 'onEvent'>) {
    this.ws = new KalshiWsClient({ ...opts, onEvent: (e) => this.handler(e) });
  }

  async subscribe(instrumentIds: string[], onEvent: (event: MarketEvent) => void): Promise<void> {
    this.handler = onEvent;
    if (!this.connected) {
      await this.ws.connect();
      this.connected = true;
    }
    await this.ws.subscribe(['orderbook_delta', 'trade'], instrumentIds);
  }

  close(): Promise<void> {
    return this.ws.close();
  }
}

/** V2 orders: YES buys are bids, YES sells are asks; the client order id makes resubmission idempotent. */
export class KalshiExecutionClient implements ExecutionClient {
  readonly capabilities = KALSHI_CAPABILITIES;
  constructor(private readonly rest: KalshiRestClient) {}

  async submit(order: OrderRequest): Promise<OrderAck> {
    const ack = await this.rest.createOrder({
      ticker: order.instrumentId,
      client_order_id: order.clientOrderId,
      side: order.side === 'buy_yes' ? 'bid' : 'ask',
      count: order.size.toFixed(2),
      price: order.price.toFixed(4),
      time_in_force: order.timeInForce === 'gtc' ? 'good_till_canceled' : order.timeInForce === 'ioc' ? 'immediate_or_cancel' : 'fill_or_kill',
      post_only: order.postOnly,
      reduce_only: order.reduceOnly,
    });
    const filled = new Dec(ack.fill_count);
    return {
      venueOrderId: ack.order_id,
      clientOrderId: ack.client_order_id ?? order.clientOrderId,
      filledSize: filled,
      remainingSize: new Dec(ack.remaining_count),
      averageFillPrice: ack.average_fill_price ? new Dec(ack.average_fill_price) : undefined,
      fees: ack.average_fee_paid ? new Dec(ack.average_fee_paid).times(filled) : new Dec(0),
      tsMs: ack.ts_ms,
    };
  }

  async cancel(venueOrderId: string): Promise<{ canceledSize: Dec }> {
    const result = await this.rest.cancelOrder(venueOrderId);
    return { canceledSize: new Dec(result.reduced_by) };
  }
}
