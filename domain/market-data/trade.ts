import { z } from 'zod';
import { decimalString } from '../decimal';

export const VENUES = ['kalshi', 'polymarket', 'sim'] as const;
export const venueSchema = z.enum(VENUES);
export type Venue = z.infer<typeof venueSchema>;

/**
 * A public trade print in wire form: what crosses BullMQ and Temporal. Prices are the YES price in
 * dollars and sizes are contracts, both as decimal strings (never floats).
 */
export const tradePrintSchema = z.object({
  venue: venueSchema,
  tradeId: z.string().min(1),
  marketTicker: z.string().min(1),
  yesPrice: decimalString,
  count: decimalString,
  takerSide: z.enum(['yes', 'no']),
  exchangeTsMs: z.number().int().nonnegative(),
});
export type TradePrint = z.infer<typeof tradePrintSchema>;

/** A batch of prints for one market, in exchange order: the unit of ingestion work. */
export const tradeBatchSchema = z
  .object({
    batchId: z.string().min(1).max(200),
    marketTicker: z.string().min(1),
    trades: z.array(tradePrintSchema).min(1).max(10_000),
  })
  .superRefine((batch, ctx) => {
    batch.trades.forEach((t, i) => {
      if (t.marketTicker !== batch.marketTicker) {
        ctx.addIssue({ code: 'custom', path: ['trades', i, 'marketTicker'], message: `trade belongs to ${t.marketTicker}, batch is for ${batch.marketTicker}` });
      }
    });
  });
export type TradeBatch = z.infer<typeof tradeBatchSchema>;
