import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { kellyContracts } from '../../domain/risk/kelly';
import { checkOrder, evaluateBreakers, initialRiskState, recordClosedPosition, recordVenueRequest, resetBreakers, riskLimitsSchema, type OpenExposure, type OrderIntent } from '../../domain/risk/risk-manager';

const d = (x: string | number) => new Dec(x);
const limits = riskLimitsSchema.parse({});
const NOW = 1_000_000;
const fresh = () => {
  const s = initialRiskState();
  s.lastMarketDataMs = { M: NOW - 1000, N: NOW - 1000 };
  return s;
};
const intent = (o: Partial<OrderIntent> = {}): OrderIntent => ({ market: 'M', event: 'E', cost: d(500), closeTimeMs: NOW + 600_000, reducesExposure: false, ...o });
const pos = (market: string, event: string, exposure: number): OpenExposure => ({ positionId: `${market}-${exposure}`, market, event, exposure: d(exposure) });

describe('risk manager: pre-trade limits', () => {
  it('allows an order inside every limit', () => {
    assert.deepEqual(checkOrder(intent(), [], fresh(), limits, NOW), { allowed: true });
  });
  it('denies each limit with its rule and a reason', () => {
    const rule = (i: OrderIntent, open: OpenExposure[] = [], state = fresh()) => {
      const r = checkOrder(i, open, state, limits, NOW);
      return r.allowed ? 'allowed' : `${r.rule}: ${r.reason}`;
    };
    assert.match(rule(intent({ cost: d(1001) })), /^max_position_size: order cost 1001\.00 > 1000\.00/);
    assert.match(rule(intent(), [pos('A', 'X', 900), pos('B', 'Y', 900), pos('C', 'Z', 900)]), /^max_total_exposure/);
    assert.match(rule(intent(), [1, 2, 3, 4, 5].map((i) => pos(`P${i}`, `E${i}`, 10))), /^max_concurrent_positions: 5 positions open/);
    assert.match(rule(intent({ cost: d(600) }), [pos('M', 'E', 500)]), /^max_market_exposure/);
    assert.match(rule(intent({ market: 'N', cost: d(600) }), [pos('M', 'E', 900), pos('O', 'E', 600)]), /^max_event_exposure/);
    assert.match(rule(intent({ closeTimeMs: NOW + 60_000 })), /^near_settlement/);
    const stale = fresh();
    stale.lastMarketDataMs.M = NOW - 20_000;
    assert.match(rule(intent(), [], stale), /^stale_market_data: market data for M is 20000 ms old/);
  });
  it('never blocks an exit, even when halted', () => {
    const s = fresh();
    s.mode = 'HALTED';
    assert.deepEqual(checkOrder(intent({ reducesExposure: true }), [], s, limits, NOW), { allowed: true });
    assert.match(JSON.stringify(checkOrder(intent(), [], s, limits, NOW)), /trading mode is HALTED/);
  });
});

describe('risk manager: circuit breakers', () => {
  it('daily loss of 5% halts trading', () => {
    const s = fresh();
    assert.deepEqual(recordClosedPosition(s, d(-300), limits, NOW), []);
    assert.deepEqual(recordClosedPosition(s, d(-200), limits, NOW), ['daily_loss']);
    assert.equal(s.mode, 'HALTED');
    assert.deepEqual(recordClosedPosition(s, d(-1), limits, NOW), [], 'a breaker trips once');
  });
  it('five consecutive losses halt trading; a win resets the count', () => {
    const s = fresh();
    for (let i = 0; i < 4; i++) recordClosedPosition(s, d(-1), limits, NOW);
    recordClosedPosition(s, d(1), limits, NOW);
    assert.equal(s.consecutiveLosses, 0);
    let tripped: string[] = [];
    for (let i = 0; i < 5; i++) tripped = recordClosedPosition(s, d(-1), limits, NOW);
    assert.deepEqual(tripped, ['consecutive_losses']);
  });
  it('venue error rate above 10% and stale data switch to REDUCING', () => {
    const s = fresh();
    for (let i = 0; i < 18; i++) recordVenueRequest(s, false, limits, NOW);
    recordVenueRequest(s, true, limits, NOW);
    assert.equal(s.mode, 'ACTIVE', 'too few requests to judge');
    assert.deepEqual(recordVenueRequest(s, true, limits, NOW), []);
    assert.deepEqual(recordVenueRequest(s, true, limits, NOW), ['venue_error_rate']);
    assert.equal(s.mode, 'REDUCING');
    const t = fresh();
    assert.deepEqual(evaluateBreakers(t, limits, NOW + 20_000, ['M']), ['stale_market_data']);
    resetBreakers(t);
    assert.equal(t.mode, 'ACTIVE');
  });
});

describe('Kelly sizing', () => {
  it('sizes by fractional Kelly on the edge after fees, capped', () => {
    // p = 0.60, price 0.50: fee/contract 0.0175, cost 0.5175, edge 0.0825, f* = 0.0825/0.4825 = 0.17098…
    const r = kellyContracts({ probability: d('0.60'), price: d('0.50'), capital: d(10000), kellyFraction: d('0.25'), takerRate: d('0.07'), maxContracts: d(100000) });
    assert.equal(r.edge.toFixed(4), '0.0825');
    assert.equal(r.fullKelly.toFixed(5), '0.17098');
    assert.equal(r.contracts.toString(), '826', '10000 × 0.170984 × 0.25 / 0.5175 = 826.01, rounded down');
    assert.equal(kellyContracts({ probability: d('0.60'), price: d('0.50'), capital: d(10000), kellyFraction: d('0.25'), takerRate: d('0.07'), maxContracts: d(200) }).contracts.toString(), '200');
    assert.equal(kellyContracts({ probability: d('0.51'), price: d('0.50'), capital: d(10000), kellyFraction: d('1'), takerRate: d('0.07'), maxContracts: d(100) }).contracts.toString(), '0', 'no edge after fees');
  });
});
