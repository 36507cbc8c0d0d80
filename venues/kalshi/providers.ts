import { Dec } from '../../domain/decimal';
import type { Instrument, InstrumentProvider } from '../../domain/ports';
import { kalshiEvent } from '../../domain/market-data/kalshi-tickers';
import { parsePriceRanges } from '../../domain/trading/price-grid';
import { kalshiMarketFees, type MarketFees } from '../../domain/trading/taker-fee';
import type { z } from 'zod';
import type { kalshiMarketSchema, KalshiRestClient } from './rest-client';

/**
 * A Kalshi market as an instrument. Its price grid is the market's own `price_ranges` (absent: the
 * cent grid); malformed ranges are an error rather than a guess. Counts need no per-market rule:
 * `fractional_trading_enabled` is deprecated and always true (two-decimal counts everywhere).
 */
export function toInstrument(market: z.infer<typeof kalshiMarketSchema>): Instrument {
  const priceGrid = parsePriceRanges(market.price_ranges);
  return {
    venue: 'kalshi',
    id: market.ticker,
    eventId: market.event_ticker,
    title: typeof market.title === 'string' ? market.title : undefined,
    status: market.status,
    tickSize: Dec.min(...priceGrid.map((r) => r.step)),
    priceGrid,
    closeTimeMs: market.close_time ? Date.parse(market.close_time) : undefined,
  };
}

/** Kalshi markets as instruments, from the public REST market endpoints. */
export class KalshiInstrumentProvider implements InstrumentProvider {
  /** Fee terms per event, re-read after `feeTermsMaxAgeMs` (Kalshi schedules fee changes ahead). */
  private readonly feeTerms = new Map<string, { readAtMs: number; terms: Promise<MarketFees | undefined> }>();

  constructor(
    private readonly rest: KalshiRestClient,
    private readonly feeTermsMaxAgeMs = 3_600_000,
  ) {}

  /**
   * A market's own fee terms: its event's fee override, else its series' `fee_type` and
   * `fee_multiplier` (undefined when Kalshi gives none; `takerFeeRate` then uses the configured ones).
   */
  marketFees(market: string, nowMs = Date.now()): Promise<MarketFees | undefined> {
    const eventTicker = kalshiEvent(market);
    const cached = this.feeTerms.get(eventTicker);
    if (cached && nowMs - cached.readAtMs < this.feeTermsMaxAgeMs) return cached.terms;
    const terms = (async () => {
      const event = await this.rest.event(eventTicker);
      const series = event.series_ticker ? await this.rest.seriesByTicker(event.series_ticker) : {};
      return kalshiMarketFees(series, event);
    })();
    // A failed read is not kept: the next call asks again.
    terms.catch(() => this.feeTerms.delete(eventTicker));
    this.feeTerms.set(eventTicker, { readAtMs: nowMs, terms });
    return terms;
  }

  async instrument(id: string): Promise<Instrument | undefined> {
    for await (const m of this.rest.markets({ tickers: id })) if (m.ticker === id) return toInstrument(m);
    return undefined;
  }

  async *list(filter: { eventId?: string; seriesId?: string; status?: string }): AsyncIterable<Instrument> {
    for await (const m of this.rest.markets({ event_ticker: filter.eventId, series_ticker: filter.seriesId, status: filter.status })) yield toInstrument(m);
  }
}
