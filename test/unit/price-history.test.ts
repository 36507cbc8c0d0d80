import assert from 'node:assert/strict';
import { BookStore } from '../../domain/market-data/book-store';
import { NO_PRICE, PriceRing } from '../../domain/market-data/price-history';

describe('PriceRing', () => {
  it('keeps the newest `capacity` points in order', () => {
    const ring = new PriceRing(3);
    for (let i = 1; i <= 5; i++) ring.push({ ts: i, bid: i * 100, ask: i * 100 + 50, last: NO_PRICE, volume: i });
    assert.equal(ring.length, 3);
    assert.deepEqual(ring.toArray().map((p) => p.ts), [3, 4, 5]);
    assert.deepEqual(ring.latest(), { ts: 5, bid: 500, ask: 550, last: -1, volume: 5 });
    ring.replaceLatest({ ts: 5, bid: 1, ask: 2, last: 3, volume: 6 });
    assert.deepEqual(ring.at(2), { ts: 5, bid: 1, ask: 2, last: 3, volume: 6 });
    assert.throws(() => ring.at(3), RangeError);
    assert.throws(() => new PriceRing(0), /positive integer/);
  });

  it('500 markets × 1000 points fit in 14 MB of typed arrays', () => {
    const bytes = new PriceRing(1000).byteLength * 500;
    assert.equal(bytes, 500 * 1000 * 28);
  });
});

describe('BookStore sampling', () => {
  it('samples at most every sampleMs, on every trade, and folds one millisecond into one point', () => {
    const store = new BookStore({ historyCapacity: 100, sampleMs: 1000 });
    const out = store.applyAll([
      { t: 'snapshot', m: 'M', ts: 0, yes: [{ price: 4000, size: 100 }], no: [{ price: 5000, size: 100 }] },
      { t: 'delta', m: 'M', ts: 10, side: 'yes', price: 4100, delta: 50 },
      { t: 'trade', m: 'M', ts: 20, id: 'a', price: 5000, count: 30, takerSide: 'yes' },
      { t: 'trade', m: 'M', ts: 20, id: 'b', price: 5000, count: 20, takerSide: 'yes' },
      { t: 'delta', m: 'M', ts: 1500, side: 'no', price: 5000, delta: -50 },
      { t: 'delta', m: 'M', ts: 1600, side: 'no', price: 5000, delta: -60 },
    ]);
    assert.equal(out.applied, 5);
    assert.equal(out.refused.length, 1, 'the last delta would go negative');
    assert.deepEqual(out.points.map((p) => [p.point.ts, p.point.volume, p.point.last]), [[0, 0, -1], [20, 50, 5000], [1500, 50, 5000]]);
    assert.equal(store.state('M').history.length, 3);
    assert.equal(store.state('M').book.stale, true);
  });
});

describe('PriceRing.midAtOrBefore', () => {
  it('finds the newest two-sided point at or before a time, across the ring wrap', () => {
    const ring = new PriceRing(4);
    const point = (ts: number, bid: number, ask: number) => ({ ts, bid, ask, last: -1, volume: 0 });
    [point(10, 100, 200), point(20, 110, 210), point(30, -1, 220), point(40, 130, 230), point(50, 140, 240)].forEach((p) => ring.push(p));
    assert.equal(ring.midAtOrBefore(5), undefined, 'before the oldest kept point');
    assert.equal(ring.midAtOrBefore(25), 160);
    assert.equal(ring.midAtOrBefore(35), 160, 'skips the one-sided point at 30');
    assert.equal(ring.midAtOrBefore(1000), 190);
    assert.equal(ring.midAtOrBefore(10), undefined, 'the point at 10 was overwritten');
  });
});
