import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { decimalString } from '../../domain/decimal';
import { priceText, priceUnits, sizeText, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BookStore } from '../../domain/market-data/book-store';
import type { MarketTick } from '../../domain/signals/types';

/** Levels of each side kept in a tick (imbalance and icebergs look at the top few). */
export const TICK_LEVELS = 5;

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

/** The book after a batch plus the batch's trades, per market touched (stale books are left out). */
export function ticksAfterBatch(store: BookStore, events: readonly UnitEvent[]): SignalTickWire[] {
  const trades = new Map<string, SignalTickWire['trades']>();
  const lastTs = new Map<string, number>();
  for (const e of events) {
    lastTs.set(e.m, Math.max(lastTs.get(e.m) ?? 0, e.ts));
    if (e.t === 'trade') {
      const list = trades.get(e.m) ?? [];
      list.push({ ts: e.ts, yesPrice: priceText(e.price), count: sizeText(e.count), takerSide: e.takerSide });
      trades.set(e.m, list);
    }
  }
  const out: SignalTickWire[] = [];
  for (const [m, ts] of lastTs) {
    const book = store.markets.get(m)?.book;
    if (!book || book.stale) continue;
    const wire = (side: 'yes' | 'no') => book.topLevels(side, TICK_LEVELS).map((l) => [priceText(l.price), sizeText(l.size)] as [string, string]);
    out.push({ m, ts, yesBids: wire('yes'), noBids: wire('no'), trades: trades.get(m) ?? [] });
  }
  return out;
}

export function createSignalQueue(name: string, connection: Redis, prefix: string): Queue<SignalTickBatch, unknown> {
  return new Queue<SignalTickBatch, unknown>(name, { connection, prefix });
}

export async function enqueueTicks(queue: Queue<SignalTickBatch, unknown>, batch: SignalTickBatch): Promise<void> {
  // The id makes a redelivered market-data batch enqueue its ticks once.
  await queue.add('ticks', batch, { jobId: `ticks_${batch.source.replace(/[^A-Za-z0-9_.-]/g, '_')}_${batch.partition}_${batch.batchSeq}`, removeOnComplete: { count: 1000 }, removeOnFail: false });
}
