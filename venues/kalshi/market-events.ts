import type { MarketEvent } from '../../domain/market-data/events';
import { kalshiDeltaMsgSchema, kalshiSnapshotMsgSchema, parseKalshiTrade, type ParseResult } from './ws-messages';
import { describeIssues } from '../../domain/validation';

/**
 * Kalshi WS message → venue-neutral wire event (decimal strings kept as sent). `fallbackTsMs` is
 * used where Kalshi sends no exchange time (snapshots). Non-market-data types return undefined.
 */
export function kalshiToMarketEvent(type: string, msg: unknown, fallbackTsMs: number): ParseResult<MarketEvent> | undefined {
  const fail = (issues: { path: PropertyKey[]; message: string }[]): ParseResult<MarketEvent> => ({ ok: false, error: describeIssues(issues) });
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
    const p = parseKalshiTrade(msg, fallbackTsMs);
    if (!p.ok) return p;
    const t = p.value;
    return { ok: true, value: { t: 'trade', m: t.marketTicker, ts: t.exchangeTsMs, id: t.tradeId, yesPrice: t.yesPrice, count: t.count, takerSide: t.takerSide } };
  }
  return undefined;
}
