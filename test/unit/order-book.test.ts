import assert from 'node:assert/strict';
import { priceText, priceUnits, sizeText, sizeUnits, textToUnits } from '../../domain/fixed-point';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { SequenceTracker } from '../../domain/market-data/sequence';

describe('fixed-point units', () => {
  it('converts text exactly, both ways', () => {
    assert.equal(priceUnits('0.6800'), 6800);
    assert.equal(priceUnits('0.68'), 6800);
    assert.equal(sizeUnits('46.02'), 46_020_000);
    assert.equal(sizeUnits('11.276594'), 11_276_594, 'Polymarket share amounts have 6 decimals');
    assert.equal(sizeUnits('-3.07'), -3_070_000);
    assert.equal(priceText(6800), '0.6800');
    assert.equal(sizeText(-3_070_000), '-3.070000');
    assert.equal(sizeText(5), '0.000005');
  });
  it('refuses extra precision and garbage instead of rounding', () => {
    assert.throws(() => priceUnits('0.12345'), /more than 4 decimals/);
    assert.throws(() => sizeUnits('1.0000001'), /more than 6 decimals/);
    assert.throws(() => textToUnits('1e3', 2), /not a fixed-point number/);
    assert.equal(priceUnits('0.12340'), 1234, 'trailing zeros are not extra precision');
  });
});

describe('BinaryOrderBook', () => {
  const snap = () => {
    const book = new BinaryOrderBook('M');
    book.applySnapshot(
      [{ price: 4000, size: 1000 }, { price: 4500, size: 250 }],
      [{ price: 5000, size: 300 }, { price: 5300, size: 700 }],
      1,
    );
    return book;
  };

  it('derives YES ask from the best NO bid', () => {
    const top = snap().top();
    assert.deepEqual(top.yesBid, { price: 4500, size: 250 });
    assert.deepEqual(top.yesAsk, { price: 4700, size: 700 });
  });

  it('applies deltas and finds the next best level when the top empties', () => {
    const book = snap();
    assert.ok(book.applyDelta('yes', 4500, -250, 2).ok);
    assert.deepEqual(book.top().yesBid, { price: 4000, size: 1000 });
    assert.ok(book.applyDelta('yes', 4600, 100, 3).ok);
    assert.deepEqual(book.top().yesBid, { price: 4600, size: 100 });
    assert.equal(book.depth('yes'), 2);
  });

  it('refuses a delta that would go negative, marks the book stale and leaves it unchanged', () => {
    const book = snap();
    const result = book.applyDelta('no', 5300, -701, 2);
    assert.equal(result.ok, false);
    assert.ok(book.stale);
    assert.equal(book.sizeAt('no', 5300), 700);
    assert.equal(book.applyDelta('no', 5300, -1, 3).ok, false, 'stale books take no deltas');
    book.applySnapshot([{ price: 4000, size: 1 }], [], 4);
    assert.equal(book.stale, false, 'a snapshot re-bases the book');
    assert.equal(book.top().yesAsk, undefined);
  });

  it('is stale before its first snapshot', () => {
    const book = new BinaryOrderBook('M');
    assert.ok(book.stale);
    assert.equal(book.applyDelta('yes', 100, 1, 1).ok, false);
  });
});

describe('SequenceTracker', () => {
  it('reports gaps on live subscriptions', () => {
    const s = new SequenceTracker({ expectFilteredGaps: false });
    assert.deepEqual([s.observe(1, 5), s.observe(1, 6), s.observe(1, 9), s.observe(2, 1)], ['first', 'next', 'gap', 'first']);
  });
  it('treats forward jumps in a filtered recording as expected, but still flags duplicates and regressions', () => {
    const s = new SequenceTracker({ expectFilteredGaps: true });
    assert.deepEqual([s.observe(1, 5), s.observe(1, 9), s.observe(1, 9), s.observe(1, 7), s.observe(1, 10)], ['first', 'filtered', 'duplicate', 'regression', 'next']);
    assert.equal(s.counts.filtered, 1);
  });
});

describe('BinaryOrderBook.topLevels', () => {
  it('returns the best n levels best first, as a full sort would', () => {
    const book = new BinaryOrderBook('M');
    const yes = [4100, 3900, 4500, 4000, 4400, 4300, 3800].map((price, i) => ({ price, size: (i + 1) * 100 }));
    book.applySnapshot(yes, [], 1);
    assert.deepEqual(book.topLevels('yes', 3), book.levels('yes').slice(0, 3));
    assert.deepEqual(book.topLevels('yes', 3).map((l) => l.price), [4500, 4400, 4300]);
    assert.deepEqual(book.topLevels('yes', 20), book.levels('yes'));
    assert.deepEqual(book.topLevels('no', 5), []);
  });
});
