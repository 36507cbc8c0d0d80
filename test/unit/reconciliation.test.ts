import assert from 'node:assert/strict';
import { reconcile } from '../../domain/trading/reconciliation';

describe('reconciliation (venue vs recorded orders and positions)', () => {
  it('names every kind of difference, and nothing when both sides agree', () => {
    const recorded = {
      orders: [
        { clientOrderId: 'a', venueOrderId: 'va', market: 'M', status: 'resting', filled: '0' },
        { clientOrderId: 'b', market: 'M', status: 'submitting', filled: '0' },
        { clientOrderId: 'c', venueOrderId: 'vc', market: 'M', status: 'resting', filled: '0' },
        { clientOrderId: 'd', venueOrderId: 'vd', market: 'N', status: 'filled', filled: '2' },
      ],
      positions: [
        { positionId: 'p1', market: 'M', outcome: 'yes' as const, remaining: '3' },
        { positionId: 'p2', market: 'N', outcome: 'no' as const, remaining: '2' },
      ],
    };
    const venue = {
      orders: [
        { venueOrderId: 'va', clientOrderId: 'a', market: 'M', status: 'filled' as const, filled: '1.00' },
        { venueOrderId: 'vb', clientOrderId: 'b', market: 'M', status: 'resting' as const, filled: '0.00' },
        { venueOrderId: 'vd', clientOrderId: 'd', market: 'N', status: 'filled' as const, filled: '2.00' },
        { venueOrderId: 'vx', clientOrderId: 'someone-else', market: 'M', status: 'resting' as const, filled: '0.00' },
      ],
      positions: [
        { market: 'M', netYes: '4.00' },
        { market: 'N', netYes: '-2.00' },
      ],
    };
    assert.deepEqual(reconcile(recorded, venue), [
      { kind: 'order_behind', clientOrderId: 'a', market: 'M', recorded: { status: 'resting', filled: '0' }, venue: { status: 'filled', filled: '1.00' } },
      { kind: 'order_outcome_found', clientOrderId: 'b', market: 'M', venue: { status: 'resting', filled: '0.00' } },
      { kind: 'order_missing_at_venue', clientOrderId: 'c', market: 'M', recordedStatus: 'resting' },
      { kind: 'unknown_venue_order', venueOrderId: 'vx', clientOrderId: 'someone-else', market: 'M' },
      { kind: 'position_mismatch', market: 'M', venueNetYes: '4.00', recordedNetYes: '3.00' },
    ]);
    const agreed = { orders: [{ venueOrderId: 'vd', clientOrderId: 'd', market: 'N', status: 'filled' as const, filled: '2.00' }], positions: [{ market: 'N', netYes: '-2.00' }] };
    assert.deepEqual(reconcile({ orders: [recorded.orders[3]!], positions: [recorded.positions[1]!] }, agreed), []);
  });

  it('a venue position with no Kestrel position, and a Kestrel position the venue does not hold, are both mismatches', () => {
    assert.deepEqual(reconcile({ orders: [], positions: [{ positionId: 'p', market: 'A', outcome: 'yes', remaining: '1' }] }, { orders: [], positions: [{ market: 'B', netYes: '5.00' }] }), [
      { kind: 'position_mismatch', market: 'A', venueNetYes: '0.00', recordedNetYes: '1.00' },
      { kind: 'position_mismatch', market: 'B', venueNetYes: '5.00', recordedNetYes: '0.00' },
    ]);
  });
});
