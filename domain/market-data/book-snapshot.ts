import { z } from 'zod';
import { BinaryOrderBook, type BookState } from './order-book';
import type { MarketState } from './book-store';
import { describeIssues } from '../validation';

/**
 * One market's state as a partition owner checkpoints it (with the batch checkpoint, in one write),
 * so the process that takes the partition over continues from exactly where the owner was: the
 * book with its open millisecond, the trade counters the history sampling reads, and the stream
 * position that makes a redelivered batch a no-op. The price-history ring is not in it (it is
 * persisted to Postgres per batch and reloaded from there).
 */
export interface MarketSnapshot {
  book: BookState;
  lastTradePrice: number;
  cumulativeVolume: number;
  lastPointTs: number;
  receivedAtMs: number;
  appliedStream: string | undefined;
  appliedBatch: number;
  appliedIndex: number;
}

const FORMAT = 1;

const int = z.number().int();
/** -Infinity (nothing yet) travels as null: JSON has no infinities. */
const instant = z.number().int().nullable();
const flatLevels = z.array(int.nonnegative()).refine((l) => l.length % 2 === 0, 'levels are [price, size] pairs');

const snapshotSchema = z.tuple([
  z.literal(FORMAT),
  flatLevels,
  flatLevels,
  z.string().nullable(),
  int,
  z.tuple([int, int, z.array(z.tuple([z.union([z.literal(0), z.literal(1)]), int, int.nonnegative()]))]).nullable(),
  int,
  z.number().nonnegative(),
  instant,
  instant,
  z.string().nullable(),
  int,
  int,
]);

const finite = (n: number) => (Number.isFinite(n) ? n : null);

/** The compact text of one market's state (a JSON array of integers and the few texts it holds). */
export function encodeMarketSnapshot(state: MarketState): string {
  const b = state.book.exportState();
  return JSON.stringify([
    FORMAT,
    b.yes,
    b.no,
    b.stale ?? null,
    b.lastUpdateMs,
    b.open ? [b.open.ms, b.open.lastUpdateBeforeMs, b.open.undo] : null,
    state.lastTradePrice,
    state.cumulativeVolume,
    finite(state.lastPointTs),
    finite(state.receivedAtMs),
    state.appliedStream ?? null,
    state.appliedBatch,
    state.appliedIndex,
  ]);
}

/** Reads `encodeMarketSnapshot`'s text back; anything else is refused with what is wrong. */
export function decodeMarketSnapshot(market: string, text: string): MarketSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`book snapshot of ${market} is not JSON: ${(err as Error).message}`);
  }
  const parsed = snapshotSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`book snapshot of ${market} is malformed: ${describeIssues(parsed.error.issues, 5)}`);
  const [, yes, no, stale, lastUpdateMs, open, lastTradePrice, cumulativeVolume, lastPointTs, receivedAtMs, appliedStream, appliedBatch, appliedIndex] = parsed.data;
  return {
    book: { yes, no, stale: stale ?? undefined, lastUpdateMs, open: open ? { ms: open[0], lastUpdateBeforeMs: open[1], undo: open[2] } : undefined },
    lastTradePrice,
    cumulativeVolume,
    lastPointTs: lastPointTs ?? -Infinity,
    receivedAtMs: receivedAtMs ?? -Infinity,
    appliedStream: appliedStream ?? undefined,
    appliedBatch,
    appliedIndex,
  };
}

/** Puts a snapshot into a market state (from `BookStore.state`), replacing its book and counters; the history ring is left as it is. */
export function restoreMarketSnapshot(state: MarketState, market: string, snapshot: MarketSnapshot): void {
  state.book = BinaryOrderBook.fromState(market, snapshot.book);
  state.lastTradePrice = snapshot.lastTradePrice;
  state.cumulativeVolume = snapshot.cumulativeVolume;
  state.lastPointTs = snapshot.lastPointTs;
  state.pointIndex = -1;
  state.receivedAtMs = snapshot.receivedAtMs;
  state.appliedStream = snapshot.appliedStream;
  state.appliedBatch = snapshot.appliedBatch;
  state.appliedIndex = snapshot.appliedIndex;
}
