import { Dec } from '../../domain/decimal';
import type { Instrument, InstrumentProvider } from '../../domain/ports';
import type { z } from 'zod';
import type { kalshiMarketSchema, KalshiRestClient } from './rest-client';

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

/** Kalshi markets as instruments, from the public REST market endpoints. */
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
