import { createHash } from 'node:crypto';

/**
 * The hash Polymarket stamps on a book: SHA-1 of the compact JSON of the CLOB's order-book summary
 * with its `hash` field empty, keys in the venue's order. Reproduced on every recorded `book` message
 * in shared/data (min_order_size "5", neg_risk false: the two fields the market channel leaves out).
 * A `price_change` carries the same hash of the asset's book at the end of its timestamp batch, but
 * it also covers the last trade price text and the market's minimum order size, which the channel
 * does not carry with the change; so the book sync checks the venue's best bid/ask instead, and this
 * hash serves snapshots (the emulator stamps its books with it).
 */
export interface PolymarketBookSummary {
  market: string;
  asset_id: string;
  /** Milliseconds, as the venue's decimal text. */
  timestamp: string;
  /** In the venue's order: bids from the lowest price up, asks from the highest down. */
  bids: readonly { price: string; size: string }[];
  asks: readonly { price: string; size: string }[];
  min_order_size: string;
  tick_size: string;
  neg_risk: boolean;
  last_trade_price: string;
}

export function polymarketBookHash(book: PolymarketBookSummary): string {
  const summary = {
    market: book.market,
    asset_id: book.asset_id,
    timestamp: book.timestamp,
    hash: '',
    bids: book.bids.map((l) => ({ price: l.price, size: l.size })),
    asks: book.asks.map((l) => ({ price: l.price, size: l.size })),
    min_order_size: book.min_order_size,
    tick_size: book.tick_size,
    neg_risk: book.neg_risk,
    last_trade_price: book.last_trade_price,
  };
  return createHash('sha1').update(JSON.stringify(summary)).digest('hex');
}
