import assert from 'node:assert/strict';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { ExitWatchWire } from '../../domain/trading/exit-watch';
import type { QuoteWire } from '../../domain/trading/wire';
import { ExitWatch } from '../../workers/exit-watch';

const level = (p: string, s: string) => ({ price: priceUnits(p), size: sizeUnits(s) });

describe('exit watch (exits on pushed book updates)', () => {
  const market = 'KXTEST-1';
  const book = new BinaryOrderBook(market);
  const setBook = (bid: string, noBid: string) => book.applySnapshot([level(bid, '100')], [level(noBid, '100')], 0);
  const touched: UnitEvent[] = [{ t: 'delta', m: market, ts: 1234, side: 'yes', price: 5000, delta: 1 }];
  const wire = (over: Partial<ExitWatchWire> = {}): ExitWatchWire => ({
    positionId: 'p1',
    closeTimeMs: 10_000_000,
    entryPrice: '0.50',
    originalSize: '10',
    remainingSize: '10',
    highWaterBid: '0.50',
    partialStagesDone: 0,
    exitConfig: { partialStages: [] },
    watchForMs: 1000,
    ...over,
  });

  function setup() {
    let now = 1_000;
    const woken: { positionId: string; highBid?: string; quote?: QuoteWire }[] = [];
    const watch = new ExitWatch({ book: (m) => (m === market ? book : undefined), wake: async (positionId, payload) => void woken.push({ positionId, ...payload }), nowMs: () => now, minWakeIntervalMs: 200 });
    return { watch, woken, advance: (ms: number) => (now += ms) };
  }

  it('wakes a position once when a book update triggers its exit, and not while nothing triggers', () => {
    const { watch, woken } = setup();
    setBook('0.49', '0.49');
    watch.register(market, 'yes', wire());
    watch.onApplied(touched);
    assert.equal(woken.length, 0, '0.49 is inside every band');
    setBook('0.39', '0.59');
    const fired: string[][] = [];
    watch.onTrigger((t) => fired.push(t.reasons));
    watch.onApplied(touched);
    watch.onApplied(touched);
    assert.deepEqual(woken.map((w) => w.positionId), ['p1'], 'one-shot until the position reads a quote again');
    assert.deepEqual(fired, [['stop_loss']]);
    assert.equal(watch.watching(market, 'p1'), false);
  });

  it('throttles wakes per position and keeps the watch until the interval passes', () => {
    const { watch, woken, advance } = setup();
    setBook('0.39', '0.59');
    watch.register(market, 'yes', wire());
    watch.onApplied(touched);
    watch.register(market, 'yes', wire());
    advance(50);
    watch.onApplied(touched);
    assert.equal(woken.length, 1, 'within 200 ms of the last wake');
    assert.equal(watch.counters.throttled, 1);
    advance(200);
    watch.onApplied(touched);
    assert.equal(woken.length, 2);
  });

  it('lapses when not renewed and ignores other markets', () => {
    const { watch, woken, advance } = setup();
    setBook('0.39', '0.59');
    // A replay scaled to wall time has fractional close times.
    watch.register(market, 'yes', wire({ closeTimeMs: 10_000_000.5 }));
    watch.onApplied([{ ...touched[0]!, m: 'OTHER' }]);
    assert.equal(woken.length, 0);
    advance(1001);
    watch.onApplied(touched);
    assert.equal(woken.length, 0, 'expired after watchForMs');
    assert.equal(watch.watching(market, 'p1'), false);
  });

  it('carries the highest bid it saw, so a trailing stop armed between polls still fires', () => {
    const { watch, woken } = setup();
    // Trailing arms at +10% (0.55) and fires 10% below the high water.
    watch.register(market, 'yes', wire({ exitConfig: { partialStages: [], profitTargetFraction: '0.90' } }));
    setBook('0.70', '0.29');
    watch.onApplied(touched);
    assert.equal(woken.length, 0, 'a new high is no exit');
    setBook('0.62', '0.37');
    watch.onApplied(touched);
    assert.deepEqual(woken.map((w) => [w.positionId, w.highBid, w.quote?.bid]), [['p1', '0.7000', '0.6200']], '0.62 <= 0.63 = 0.70 × 0.9; the triggering quote goes along');
  });
});
