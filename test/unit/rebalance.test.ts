import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { selectRebalanceExits } from '../../domain/trading/rebalance';

const held = (positionId: string, remaining: number, entryPrice?: string) => ({ positionId, market: `M-${positionId}`, remaining: new Dec(remaining), ...(entryPrice ? { entryPrice: new Dec(entryPrice) } : {}) });
const limits = { capital: new Dec(1000), maxTotalExposureFraction: new Dec('0.30') };

describe('portfolio rebalance rule', () => {
  it('asks nobody to exit while exposure is within the limit', () => {
    const d = selectRebalanceExits([held('a', 100, '0.50'), held('b', 200, '0.50')], limits);
    assert.equal(d.exposure.toString(), '150');
    assert.equal(d.target.toString(), '300');
    assert.deepEqual(d.exits, []);
  });

  it('exits the largest positions until the rest fits the limit', () => {
    // 50 + 240 + 90 + 30 = 410 > 300: removing the 240 brings it to 170.
    const d = selectRebalanceExits([held('a', 100, '0.50'), held('b', 400, '0.60'), held('c', 100, '0.90'), held('d', 100, '0.30')], limits);
    assert.deepEqual(d.exits.map((e) => [e.positionId, e.exposure.toString()]), [['b', '240']]);
    const tighter = selectRebalanceExits([held('a', 100, '0.50'), held('b', 400, '0.60'), held('c', 100, '0.90'), held('d', 100, '0.30')], { ...limits, maxTotalExposureFraction: new Dec('0.10') });
    // Limit 100: 410 − 240 − 90 = 80.
    assert.deepEqual(tighter.exits.map((e) => e.positionId), ['b', 'c']);
  });

  it('counts positions already asked as gone, ignores ones with nothing held yet, and breaks ties by id', () => {
    const positions = [held('x', 300, '0.50'), held('y', 300, '0.50'), held('entering', 500)];
    const first = selectRebalanceExits(positions, { ...limits, maxTotalExposureFraction: new Dec('0.2') });
    assert.deepEqual(first.exits.map((e) => e.positionId), ['x']);
    const again = selectRebalanceExits(positions, { ...limits, maxTotalExposureFraction: new Dec('0.2') }, new Set(['x']));
    assert.deepEqual(again.exits, []);
  });
});
