import assert from 'node:assert/strict';
import { BinaryOrderBook, type BookSide, type Level } from '../../domain/market-data/order-book';
import { seededRandom } from '../../domain/random';

// The ladder keeps whole-cent prices in a dense array and any other price in a map: checked here
// against a plain map of levels, through the book's public reads, over seeded random changes.
describe('BinaryOrderBook ladders (whole cents and finer ticks)', () => {
  for (const side of ['yes', 'no'] as const satisfies readonly BookSide[]) {
    it(`reads back exactly what a plain map of levels holds (${side} side)`, () => {
      const random = seededRandom(side === 'yes' ? 11 : 12);
      const prices = [1, 99, 100, 101, 150, 200, 4500, 4550, 4555, 4600, 5000, 9800, 9899, 9900, 9999];
      const book = new BinaryOrderBook('M');
      assert.ok(book.applySnapshot(side === 'yes' ? [{ price: 4500, size: 7 }] : [], side === 'no' ? [{ price: 4500, size: 7 }] : [], 1).ok);
      const model = new Map<number, number>([[4500, 7]]);
      for (let step = 0; step < 5000; step++) {
        const price = prices[Math.floor(random() * prices.length)]!;
        const ts = 2 + step;
        if (random() < 0.3) {
          const size = random() < 0.4 ? 0 : Math.floor(random() * 1e10);
          assert.ok(book.setLevel(side, price, size, ts).ok);
          if (size === 0) model.delete(price);
          else model.set(price, size);
        } else {
          const held = model.get(price) ?? 0;
          const delta = random() < 0.5 ? -held : Math.floor(random() * 1e6) + 1;
          assert.ok(book.applyDelta(side, price, delta, ts).ok);
          if (held + delta === 0) model.delete(price);
          else model.set(price, held + delta);
        }
        const expected: Level[] = [...model].map(([p, s]) => ({ price: p, size: s })).sort((a, b) => b.price - a.price);
        assert.deepEqual(book.levels(side), expected, `step ${step}`);
        assert.equal(book.depth(side), expected.length);
        assert.deepEqual(book.topLevels(side, 3), expected.slice(0, 3));
        assert.equal(book.bestBid(side), expected[0]?.price);
        assert.equal(book.sizeAt(side, price), model.get(price) ?? 0);
        const top = book.top();
        const best = side === 'yes' ? top.yesBid : top.yesAsk && { price: 10_000 - top.yesAsk.price, size: top.yesAsk.size };
        assert.deepEqual(best, expected[0]);
      }
    });
  }
});
