import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { priceText, priceUnits, sizeText, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BookStore } from '../../domain/market-data/book-store';
import { tickAt } from '../../domain/signals/tick';
import type { MarketTick } from '../../domain/signals/types';

const levelWire = z.tuple([decimalString, decimalString]);
const tickWire = z.object({
  m: z.string().min(1),
  ts: z.number().int().nonnegative(),
  yesBids: z.array(levelWire).max(50),
  noBids: z.array(levelWire).max(50),
  trades: z.array(z.object({ ts: z.number().int().nonnegative(), yesPrice: decimalString, count: decimalString, takerSide: z.enum(['yes', 'no']) })),
});

/** One applied market-data batch, summarised per market: what the signal worker consumes. Decimal strings on the wire. */
export const signalTickBatchSchema = z.object({
  source: z.string().min(1),
  partition: z.number().int().nonnegative(),
  batchSeq: z.number().int().nonnegative(),
  ticks: z.array(tickWire).min(1).max(10_000),
});
export type SignalTickBatch = z.infer<typeof signalTickBatchSchema>;
export type SignalTickWire = z.infer<typeof tickWire>;

export function tickFromWire(w: SignalTickWire): MarketTick {
  const levels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
  return { market: w.m, ts: w.ts, yesBids: levels(w.yesBids), noBids: levels(w.noBids), trades: w.trades.map((t) => ({ ts: t.ts, price: priceUnits(t.yesPrice), count: sizeUnits(t.count), takerSide: t.takerSide })) };
}

export function tickToWire(t: MarketTick): SignalTickWire {
  const levels = (ls: MarketTick['yesBids']) => ls.map((l) => [priceText(l.price), sizeText(l.size)] as [string, string]);
  return { m: t.market, ts: t.ts, yesBids: levels(t.yesBids), noBids: levels(t.noBids), trades: t.trades.map((x) => ({ ts: x.ts, yesPrice: priceText(x.price), count: sizeText(x.count), takerSide: x.takerSide })) };
}

/** The book after a batch plus the batch's trades, per market touched, at its newest event (stale books are left out). */
export function ticksAfterBatch(store: BookStore, events: readonly UnitEvent[]): SignalTickWire[] {
  const byMarket = new Map<string, { ts: number; trades: MarketTick['trades'] }>();
  for (const e of events) {
    const m = byMarket.get(e.m) ?? { ts: 0, trades: [] };
    m.ts = Math.max(m.ts, e.ts);
    if (e.t === 'trade') m.trades.push({ ts: e.ts, price: e.price, count: e.count, takerSide: e.takerSide });
    byMarket.set(e.m, m);
  }
  return [...byMarket].flatMap(([market, { ts, trades }]) => {
    const tick = tickAt(store, market, ts, trades);
    return tick ? [tickToWire(tick)] : [];
  });
}

export function createSignalQueue(name: string, connection: Redis, prefix: string): Queue<SignalTickBatch, unknown> {
  return new Queue<SignalTickBatch, unknown>(name, { connection, prefix });
}

export async function enqueueTicks(queue: Queue<SignalTickBatch, unknown>, batch: SignalTickBatch): Promise<void> {
  // The id makes a redelivered market-data batch enqueue its ticks once.
  await queue.add('ticks', batch, { jobId: `ticks_${batch.source.replace(/[^A-Za-z0-9_.-]/g, '_')}_${batch.partition}_${batch.batchSeq}`, removeOnComplete: { count: 1000 }, removeOnFail: false });
}
