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

describe('BinaryOrderBook refuses bad snapshots and crossed books atomically', () => {
  const YES = [{ price: 4000, size: 1000 }, { price: 4500, size: 250 }];
  const NO = [{ price: 5000, size: 300 }, { price: 5300, size: 700 }];
  const fresh = () => {
    const book = new BinaryOrderBook('M');
    assert.ok(book.applySnapshot(YES, NO, 1).ok);
    return book;
  };
  const contents = (book: BinaryOrderBook) => ({ yes: book.levels('yes'), no: book.levels('no'), lastUpdateMs: book.lastUpdateMs });

  it('refuses a snapshot with a negative size or a price off the grid, leaving the book as it was and stale', () => {
    const cases: [yes: { price: number; size: number }[], no: { price: number; size: number }[], reason: RegExp][] = [
      [[{ price: 4000, size: -1 }], [], /negative or invalid yes size/],
      [[], [{ price: 0, size: 1 }], /no level price 0.0000 is outside \(0, 1\)/],
      [[{ price: 10_000, size: 1 }], [], /outside \(0, 1\)/],
      [[{ price: 4000.5, size: 1 }], [], /off the price grid/],
      [[], [{ price: 5000, size: 0.5 }], /invalid no size/],
    ];
    for (const [yes, no, reason] of cases) {
      const book = fresh();
      const before = contents(book);
      const result = book.applySnapshot(yes, no, 2);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.reason, reason);
      assert.deepEqual(contents(book), before, 'nothing of the refused snapshot was applied');
      assert.ok(book.stale);
    }
  });

  it('refuses a crossed or locked snapshot (best YES bid + best NO bid >= $1)', () => {
    const book = fresh();
    const before = contents(book);
    const locked = book.applySnapshot([{ price: 5500, size: 1 }], [{ price: 4500, size: 1 }], 2);
    assert.deepEqual(locked, { ok: false, reason: 'snapshot crossed: best YES bid 0.5500 >= best YES ask 0.5500 (NO bid 0.4500)' });
    assert.deepEqual(contents(book), before);
    assert.equal(book.staleBecause, locked.ok ? '' : locked.reason);
    assert.ok(book.applySnapshot([{ price: 5400, size: 1 }], [{ price: 4500, size: 1 }], 3).ok, 'one tick apart is not crossed');
    assert.equal(book.stale, false);
  });

  it('lets a delta cross the book within an exchange millisecond if a later delta of that millisecond uncrosses it', () => {
    const book = fresh();
    assert.ok(book.applyDelta('yes', 5000, 100, 7).ok, 'YES bid 0.50 meets the YES ask 0.47: crossed for now');
    assert.ok(book.applyDelta('no', 5300, -700, 7).ok);
    assert.ok(book.applyDelta('no', 5000, -300, 7).ok, 'the crossed NO bids are gone in the same millisecond');
    assert.ok(book.applyDelta('yes', 4000, 1, 8).ok, 'the next millisecond finds the book uncrossed');
    assert.deepEqual(book.top().yesBid, { price: 5000, size: 100 });
    assert.equal(book.top().yesAsk, undefined);
    assert.ok(book.settle().ok);
  });

  it('undoes a millisecond that leaves the book crossed and marks it stale', () => {
    const book = fresh();
    const before = contents(book);
    assert.ok(book.applyDelta('yes', 4500, -250, 7).ok);
    assert.ok(book.applyDelta('yes', 5000, 100, 7).ok);
    const next = book.applyDelta('yes', 4000, 1, 8);
    assert.deepEqual(next, { ok: false, reason: 'crossed: best YES bid 0.5000 >= best YES ask 0.4700 (NO bid 0.5300) at the end of exchange ms 7; its changes were undone' });
    assert.deepEqual(contents(book), before, 'the book is as it was before millisecond 7');
    assert.ok(book.stale);
    // settle() closes a millisecond explicitly when the caller knows it is complete.
    const other = fresh();
    assert.ok(other.applyDelta('no', 5600, 10, 9).ok);
    assert.equal(other.settle().ok, false);
    assert.deepEqual(contents(other), before);
  });

  it('keeps stale reasons flat', () => {
    const book = fresh();
    book.applyDelta('no', 5300, -701, 2);
    const refused = book.applyDelta('no', 5300, -1, 3);
    assert.deepEqual(refused, { ok: false, reason: 'book is stale: delta -0.000701 at no 0.5300 would leave -0.000001' });
    // A consumer that marks the book stale with a refusal's reason (e.g. a resync request) does not nest it.
    book.markStale(refused.ok ? '' : refused.reason);
    assert.equal(book.staleBecause, 'delta -0.000701 at no 0.5300 would leave -0.000001');
    const again = book.applyDelta('no', 5300, -1, 4);
    assert.equal(again.ok ? '' : again.reason, 'book is stale: delta -0.000701 at no 0.5300 would leave -0.000001');
  });
});

describe('SequenceTracker with several markets on one sid', () => {
  it("numbers a snapshot like any message of its sid: a gap before another market's snapshot is a gap", () => {
    const s = new SequenceTracker({ expectFilteredGaps: false });
    assert.deepEqual([s.observe(1, 1, true), s.observe(1, 2), s.observe(1, 3, true), s.observe(1, 5, true)], ['first', 'next', 'next', 'gap']);
  });
  it('a snapshot numbered at or below its sid restarts that sid, or every sid of the connection', () => {
    const perSid = new SequenceTracker({ expectFilteredGaps: false });
    perSid.observe(1, 9);
    perSid.observe(2, 4);
    assert.deepEqual([perSid.observe(1, 1, true), perSid.observe(1, 2), perSid.observe(2, 5)], ['restart', 'next', 'next']);
    assert.equal(perSid.observe(1, 1), 'regression', 'only snapshots restart numbering');

    const recording = new SequenceTracker({ expectFilteredGaps: true, restartScope: 'connection' });
    recording.observe(1, 9);
    recording.observe(2, 4);
    assert.deepEqual([recording.observe(1, 1, true), recording.observe(2, 1)], ['restart', 'first']);
    assert.equal(recording.counts.restart, 1);
  });
});
