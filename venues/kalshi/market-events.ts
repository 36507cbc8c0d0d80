import type { MarketEvent } from '../../domain/market-data/events';
import { kalshiDeltaMsgSchema, kalshiSnapshotMsgSchema, kalshiTradeMsgSchema, type ParseResult } from './ws-messages';

/**
 * Kalshi WS message → venue-neutral wire event (decimal strings kept as sent). `fallbackTsMs` is
 * used where Kalshi sends no exchange time (snapshots). Non-market-data types return undefined.
 */
export function kalshiToMarketEvent(type: string, msg: unknown, fallbackTsMs: number): ParseResult<MarketEvent> | undefined {
  const fail = (issues: { path: PropertyKey[]; message: string }[]): ParseResult<MarketEvent> => ({ ok: false, error: issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  if (type === 'orderbook_snapshot') {
    const p = kalshiSnapshotMsgSchema.safeParse(msg);
    if (!p.success) return fail(p.error.issues);
    return { ok: true, value: { t: 'snapshot', m: p.data.market_ticker, ts: fallbackTsMs, yes: p.data.yes_dollars_fp ?? [], no: p.data.no_dollars_fp ?? [] } };
  }
  if (type === 'orderbook_delta') {
    const p = kalshiDeltaMsgSchema.safeParse(msg);
    if (!p.success) return fail(p.error.issues);
    return { ok: true, value: { t: 'delta', m: p.data.market_ticker, ts: p.data.ts_ms ?? fallbackTsMs, side: p.data.side, price: p.data.price_dollars, delta: p.data.delta_fp } };
  }
  if (type === 'trade') {
    const p = kalshiTradeMsgSchema.safeParse(msg);
    if (!p.success) return fail(p.error.issues);
    const m = p.data;
    return { ok: true, value: { t: 'trade', m: m.market_ticker, ts: m.ts_ms ?? (m.ts !== undefined ? m.ts * 1000 : fallbackTsMs), id: m.trade_id, yesPrice: m.yes_price_dollars, count: m.count_fp, takerSide: m.taker_side } };
  }
  return undefined;
}
