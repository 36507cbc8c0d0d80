import type { BookStore } from '../market-data/book-store';
import type { UnitEvent } from '../market-data/events';
import type { MarketTick } from './types';

/** Levels of each side a tick carries (imbalance and icebergs look at the top few). */
export const TICK_LEVELS = 5;

/** The trades of one market among some events, in tick form. */
export function tickTrades(events: readonly UnitEvent[], market: string): MarketTick['trades'] {
  return events.flatMap((e) => (e.t === 'trade' && e.m === market ? [{ ts: e.ts, price: e.price, count: e.count, takerSide: e.takerSide }] : []));
}

/**
 * What the signal detectors see of a market at `ts`: its book's top levels and the trades given.
 * The signal worker and the backtest signal rule build ticks here, so both see the same thing.
 * Stale books give no tick.
 */
export function tickAt(store: BookStore, market: string, ts: number, trades: MarketTick['trades']): MarketTick | undefined {
  const book = store.markets.get(market)?.book;
  if (!book || book.stale) return undefined;
  return { market, ts, yesBids: book.topLevels('yes', TICK_LEVELS), noBids: book.topLevels('no', TICK_LEVELS), trades };
}
