import { listRecordedMarkets } from '../../replay/gold-feed';
import { readGoldEventFile } from '../../replay/gold-metadata';
import { ONE_DOLLAR, priceUnits } from '../../../domain/fixed-point';
import { parsePriceRanges } from '../../../domain/trading/price-grid';

/** A listed market: its recorded end-of-life metadata plus the times its status changes at. */
export interface ListedMarket {
  ticker: string;
  eventTicker: string;
  seriesTicker: string;
  /** The recorded `Market` object (post-settlement values; live fields are recomputed from the clock and book). */
  recorded: Record<string, unknown>;
  /** The recorded event object it belongs to. */
  event: Record<string, unknown>;
  openMs: number;
  closeMs: number;
  /** When the recorded result was determined and paid (recorded `settlement_ts`). */
  settledMs: number | undefined;
  result: 'yes' | 'no' | undefined;
  /** Tradable price grid, in 1e-4 $ units: [start, end, step]. */
  priceRanges: { start: number; end: number; step: number }[];
}

/** Market statuses as Kalshi's `Market.status` names them, and the `status` filter names of GET /markets. */
export type MarketStatus = 'initialized' | 'active' | 'closed' | 'finalized';
export const STATUS_FILTER: Record<string, MarketStatus> = { unopened: 'initialized', open: 'active', closed: 'closed', settled: 'finalized' };

export function marketStatusAt(market: ListedMarket, nowMs: number): MarketStatus {
  if (nowMs < market.openMs) return 'initialized';
  if (nowMs < market.closeMs) return 'active';
  if (market.settledMs === undefined || nowMs < market.settledMs) return 'closed';
  return 'finalized';
}

/** The market's `price_ranges` as Kestrel's client reads them (absent: the cent grid). */
function priceGridOf(raw: unknown, ticker: string) {
  try {
    return parsePriceRanges(raw);
  } catch (err) {
    throw new Error(`market ${ticker}: ${(err as Error).message}`);
  }
}

function timeMs(value: unknown, what: string, ticker: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new Error(`market ${ticker}: ${what} ${JSON.stringify(value)} is not a time`);
  return ms;
}

/** Markets of the recording (the first `n`, or the named ones), described by their recorded metadata. */
export function loadCatalog(dataDir: string, selection: readonly string[] | number | undefined): ListedMarket[] {
  const recorded = listRecordedMarkets(dataDir);
  let tickers: string[];
  if (Array.isArray(selection)) {
    const unknown = selection.filter((t) => !recorded.includes(t));
    if (unknown.length) throw new Error(`no recording for market(s) ${unknown.join(', ')} in ${dataDir}`);
    tickers = [...selection];
  } else tickers = typeof selection === 'number' ? recorded.slice(0, selection) : recorded;
  if (tickers.length === 0) throw new Error('the emulator needs at least one market');
  return tickers.map((ticker) => {
    const file = readGoldEventFile(dataDir, ticker);
    const market = file?.response.markets.find((m) => m.ticker === ticker) as Record<string, unknown> | undefined;
    if (!file || !market) throw new Error(`no metadata for market ${ticker} in ${dataDir}/metadata`);
    const event = file.response.event as Record<string, unknown>;
    const result = market.result === 'yes' || market.result === 'no' ? market.result : undefined;
    const ranges = priceGridOf(market.price_ranges, ticker);
    return {
      ticker,
      eventTicker: String(market.event_ticker),
      seriesTicker: String(event.series_ticker ?? String(market.event_ticker).split('-')[0]),
      recorded: market,
      event,
      openMs: timeMs(market.open_time, 'open_time', ticker),
      closeMs: timeMs(market.close_time, 'close_time', ticker),
      settledMs: result && market.settlement_ts ? timeMs(market.settlement_ts, 'settlement_ts', ticker) : undefined,
      result,
      priceRanges: ranges.map((r) => ({ start: priceUnits(r.start.toFixed()), end: priceUnits(r.end.toFixed()), step: priceUnits(r.step.toFixed()) })),
    };
  });
}

/** Whether `price` (1e-4 $) lies strictly inside (0, 1) and on the market's price grid. */
export function onPriceGrid(market: ListedMarket, price: number): boolean {
  if (price <= 0 || price >= ONE_DOLLAR) return false;
  return market.priceRanges.some((r) => price >= r.start && price <= r.end && r.step > 0 && (price - r.start) % r.step === 0);
}
