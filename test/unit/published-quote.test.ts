import assert from 'node:assert/strict';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { quoteFromBook, quoteFromPublishedTop } from '../../domain/trading/quote';
import { topOfBookFields } from '../../workers/market-data/book-worker';

describe('a quote read from the owner\'s published top of book', () => {
  /** The top as the hash the owner writes, read back the way readTopOfBook does. */
  const published = (book: BinaryOrderBook) => {
    const f = topOfBookFields(book);
    return { yesBid: f.yesBid!, yesBidSize: f.yesBidSize!, yesAsk: f.yesAsk!, yesAskSize: f.yesAskSize!, ts: Number(f.ts), stale: f.stale! };
  };

  it('is the quote the owner reads from its own book, for both outcomes, one-sided and stale books too', () => {
    const full = new BinaryOrderBook('M');
    full.applySnapshot([{ price: 4500, size: 2_500_000 }], [{ price: 5300, size: 7_000_000 }, { price: 5000, size: 1 }], 17);
    const oneSided = new BinaryOrderBook('M');
    oneSided.applySnapshot([], [{ price: 120, size: 3_000_000 }], 18);
    const stale = new BinaryOrderBook('M');
    stale.applySnapshot([{ price: 9900, size: 1_000_000 }], [], 19);
    stale.markStale('sequence gap');
    for (const book of [full, oneSided, stale, new BinaryOrderBook('M')]) {
      for (const outcome of ['yes', 'no'] as const) assert.deepEqual(quoteFromPublishedTop(published(book), 'M', outcome), quoteFromBook(book, 'M', outcome), `${outcome} of ${JSON.stringify(book.top())}`);
    }
  });
});
