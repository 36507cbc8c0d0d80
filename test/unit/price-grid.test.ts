import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { CENT_GRID, parsePriceRanges, snapToPriceGrid } from '../../domain/trading/price-grid';
import { toInstrument } from '../../venues/kalshi/providers';

describe('price grid (Kalshi price_ranges)', () => {
  const snap = (price: string, side: 'bid' | 'ask', grid = CENT_GRID) => snapToPriceGrid(new Dec(price), side, grid)?.toFixed(4);
  // Deci-cent tails, cents in the middle (Kalshi's `tapered_deci_cent`).
  const tapered = parsePriceRanges([
    { start: '0.0000', end: '0.1000', step: '0.0010' },
    { start: '0.1000', end: '0.9000', step: '0.0100' },
    { start: '0.9000', end: '1.0000', step: '0.0010' },
  ]);

  it('keeps a price on the grid and never moves an order to a worse price', () => {
    assert.equal(snap('0.5500', 'bid'), '0.5500');
    assert.equal(snap('0.5550', 'bid'), '0.5500', 'a bid rounds down');
    assert.equal(snap('0.5550', 'ask'), '0.5600', 'an ask rounds up');
    assert.equal(snap('0.0550', 'bid', tapered), '0.0550', 'deci-cent in the tails');
    assert.equal(snap('0.5550', 'ask', tapered), '0.5600');
    assert.equal(snap('0.9555', 'bid', tapered), '0.9550');
  });

  it('never sends $0 or $1: those sides have no price', () => {
    assert.equal(snap('1.0000', 'bid'), '0.9900');
    assert.equal(snap('0.0000', 'ask'), '0.0100');
    assert.equal(snap('0.0040', 'bid'), undefined, 'no bid below one cent');
    assert.equal(snap('0.9950', 'ask'), undefined, 'no ask above 99 cents');
    assert.equal(snap('1.2000', 'bid'), undefined, 'outside the dollar: refused, not rounded');
    assert.equal(snap('-0.0100', 'ask'), undefined);
  });

  it('reads the venue field: absent means cents, malformed is an error', () => {
    assert.deepEqual(parsePriceRanges(undefined).map((r) => r.step.toString()), ['0.01']);
    assert.throws(() => parsePriceRanges([{ start: '0', end: '1' }]), /price_ranges/);
    assert.throws(() => parsePriceRanges([{ start: '0.5', end: '0.4', step: '0.01' }]), /end before its start/);
  });

  it('is part of the instrument: a Kalshi market carries its own grid and finest tick', () => {
    const market = { ticker: 'KXT-1', event_ticker: 'KXT', status: 'active' };
    const cents = toInstrument(market);
    assert.equal(cents.tickSize.toString(), '0.01');
    assert.deepEqual(cents.priceGrid, CENT_GRID);
    const deci = toInstrument({ ...market, price_level_structure: 'tapered_deci_cent', price_ranges: [{ start: '0.0000', end: '0.1000', step: '0.0010' }, { start: '0.1000', end: '0.9000', step: '0.0100' }, { start: '0.9000', end: '1.0000', step: '0.0010' }] });
    assert.equal(deci.tickSize.toString(), '0.001');
    assert.equal(snapToPriceGrid(new Dec('0.0555'), 'bid', deci.priceGrid)?.toFixed(4), '0.0550');
    assert.throws(() => toInstrument({ ...market, price_ranges: [{ start: '0', end: '1', step: '0' }] }), /price_ranges/);
  });
});
