import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import type { TradePrint } from '../../domain/market-data/trade';

// Pure parsers for Kalshi WebSocket messages (fixed-point era: *_dollars / *_fp strings).

export const kalshiTradeMsgSchema = z.object({
  trade_id: z.string().min(1),
  market_ticker: z.string().min(1),
  yes_price_dollars: decimalString,
  no_price_dollars: decimalString.optional(),
  count_fp: decimalString,
  taker_side: z.enum(['yes', 'no']),
  ts: z.number().int().optional(),
  ts_ms: z.number().int().nonnegative().optional(),
});

export const kalshiEnvelopeSchema = z.object({
  type: z.string().min(1),
  sid: z.number().int().optional(),
  seq: z.number().int().optional(),
  msg: z.unknown(),
});
export type KalshiEnvelope = z.infer<typeof kalshiEnvelopeSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function parseKalshiTrade(msg: unknown): ParseResult<TradePrint> {
  const parsed = kalshiTradeMsgSchema.safeParse(msg);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  const m = parsed.data;
  const tsMs = m.ts_ms ?? (m.ts !== undefined ? m.ts * 1000 : undefined);
  if (tsMs === undefined) return { ok: false, error: 'trade has neither ts_ms nor ts' };
  return {
    ok: true,
    value: {
      venue: 'kalshi',
      tradeId: m.trade_id,
      marketTicker: m.market_ticker,
      yesPrice: m.yes_price_dollars,
      count: m.count_fp,
      takerSide: m.taker_side,
      exchangeTsMs: tsMs,
    },
  };
}
