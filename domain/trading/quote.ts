import { ONE_DOLLAR, priceText, sizeText } from '../fixed-point';
import type { BinaryOrderBook } from '../market-data/order-book';
import type { QuoteWire } from './wire';

/** Best bid/ask for the held outcome: a NO bid is a YES ask seen from the other side. */
export function quoteFromBook(book: BinaryOrderBook | undefined, market: string, outcome: 'yes' | 'no'): QuoteWire {
  if (!book) return { market, outcome, bidSize: '0', askSize: '0', tsMs: 0, stale: true };
  const top = book.top();
  const [bid, ask] = outcome === 'yes' ? [top.yesBid, top.yesAsk] : [top.yesAsk && { price: ONE_DOLLAR - top.yesAsk.price, size: top.yesAsk.size }, top.yesBid && { price: ONE_DOLLAR - top.yesBid.price, size: top.yesBid.size }];
  return {
    market,
    outcome,
    bid: bid && priceText(bid.price),
    bidSize: bid ? sizeText(bid.size) : '0',
    ask: ask && priceText(ask.price),
    askSize: ask ? sizeText(ask.size) : '0',
    tsMs: book.lastUpdateMs,
    stale: book.stale,
  };
}
