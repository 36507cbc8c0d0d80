import { toUnits, type MarketEvent } from '../../domain/market-data/events';
import type { Level } from '../../domain/market-data/order-book';
import { kalshiDeltaMsgSchema, kalshiSnapshotMsgSchema, noPriceFromYesTerms, parseKalshiTrade, type ParseResult } from './ws-messages';
import { describeIssues } from '../../domain/validation';

export interface KalshiBookForm {
  /** The subscription asked for `use_yes_price`: NO levels arrive in YES terms (a NO bid at q as 1 − q). */
  noInYesTerms?: boolean;
}

/**
 * Kalshi WS message → venue-neutral wire event (decimal strings kept as sent, NO levels as NO bid
 * prices). `fallbackTsMs` is used where Kalshi sends no exchange time (snapshots). Prices outside
 * (0, 1), negative snapshot sizes and values off the fixed-point grid are refused here, so `toUnits`
 * never throws on an event this returns. Non-market-data types return undefined.
 */
export function kalshiToMarketEvent(type: string, msg: unknown, fallbackTsMs: number, form: KalshiBookForm = {}): ParseResult<MarketEvent> | undefined {
  const fail = (issues: { path: PropertyKey[]; message: string }[]): ParseResult<MarketEvent> => ({ ok: false, error: describeIssues(issues) });
  if (type === 'orderbook_snapshot') {
    const p = kalshiSnapshotMsgSchema.safeParse(msg);
    if (!p.success) return fail(p.error.issues);
    const no = p.data.no_dollars_fp ?? [];
    return {
      ok: true,
      value: { t: 'snapshot', m: p.data.market_ticker, ts: fallbackTsMs, yes: p.data.yes_dollars_fp ?? [], no: form.noInYesTerms ? no.map(([price, size]) => [noPriceFromYesTerms(price), size]) : no },
    };
  }
  if (type === 'orderbook_delta') {
    const p = kalshiDeltaMsgSchema.safeParse(msg);
    if (!p.success) return fail(p.error.issues);
    const price = form.noInYesTerms && p.data.side === 'no' ? noPriceFromYesTerms(p.data.price_dollars) : p.data.price_dollars;
    return { ok: true, value: { t: 'delta', m: p.data.market_ticker, ts: p.data.ts_ms ?? fallbackTsMs, side: p.data.side, price, delta: p.data.delta_fp } };
  }
  if (type === 'trade') {
    const p = parseKalshiTrade(msg, fallbackTsMs);
    if (!p.ok) return p;
    const t = p.value;
    return { ok: true, value: { t: 'trade', m: t.marketTicker, ts: t.exchangeTsMs, id: t.tradeId, yesPrice: t.yesPrice, count: t.count, takerSide: t.takerSide } };
  }
  return undefined;
}

/** Book events in exact integer units (see domain/fixed-point). */
export type KalshiBookEvent =
  | { kind: 'snapshot'; marketTicker: string; yes: Level[]; no: Level[] }
  | { kind: 'delta'; marketTicker: string; side: 'yes' | 'no'; price: number; delta: number; tsMs?: number };

/** A book message in integer units, by the same rule as `kalshiToMarketEvent` (exchange time where the message has one). */
export function parseKalshiBookMessage(type: string, msg: unknown): ParseResult<KalshiBookEvent> {
  if (type !== 'orderbook_snapshot' && type !== 'orderbook_delta') return { ok: false, error: `not a book message: ${type}` };
  const parsed = kalshiToMarketEvent(type, msg, NaN);
  if (!parsed?.ok) return parsed ?? { ok: false, error: `not a book message: ${type}` };
  const e = toUnits(parsed.value);
  if (e.t === 'snapshot') return { ok: true, value: { kind: 'snapshot', marketTicker: e.m, yes: e.yes, no: e.no } };
  if (e.t === 'delta') return { ok: true, value: { kind: 'delta', marketTicker: e.m, side: e.side, price: e.price, delta: e.delta, tsMs: Number.isNaN(e.ts) ? undefined : e.ts } };
  return { ok: false, error: `not a book message: ${type}` };
}
