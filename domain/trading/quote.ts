import { ONE_DOLLAR, priceText, priceUnits, sizeText } from '../fixed-point';
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

/** A top of book as a partition owner publishes it (decimal texts, '' for an empty side; workers/market-data/top-of-book.ts). */
export interface PublishedTop {
  yesBid: string;
  yesBidSize: string;
  yesAsk: string;
  yesAskSize: string;
  /** Exchange time of the book's newest event (ms). */
  ts: number;
  /** Why the book is stale, '' when it is not. */
  stale: string;
}

/** `quoteFromBook` of the published top: the quote any process reads for a market another process owns. */
export function quoteFromPublishedTop(top: PublishedTop, market: string, outcome: 'yes' | 'no'): QuoteWire {
  const flip = (price: string) => priceText(ONE_DOLLAR - priceUnits(price));
  const yesBid = top.yesBid === '' ? undefined : { price: top.yesBid, size: top.yesBidSize };
  const yesAsk = top.yesAsk === '' ? undefined : { price: top.yesAsk, size: top.yesAskSize };
  const [bid, ask] = outcome === 'yes' ? [yesBid, yesAsk] : [yesAsk && { price: flip(yesAsk.price), size: yesAsk.size }, yesBid && { price: flip(yesBid.price), size: yesBid.size }];
  return { market, outcome, bid: bid?.price, bidSize: bid?.size ?? '0', ask: ask?.price, askSize: ask?.size ?? '0', tsMs: top.ts, stale: top.stale !== '' };
}
