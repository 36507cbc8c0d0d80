import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { exitClientOrderId, exitPlanConfigSchema, planExitAttempt } from '../../domain/trading/exit-plan';
import { evaluateExits, exitConfigSchema, type ExitMarketView, type ExitPositionView } from '../../domain/trading/exits';

const d = (s: string | number) => new Dec(s);
const config = exitConfigSchema.parse({});
const position = (o: Partial<ExitPositionView> = {}): ExitPositionView => ({ entryPrice: d('0.50'), originalSize: d(100), remainingSize: d(100), highWaterBid: d('0.50'), partialStagesDone: 0, circuitBreakerTripped: false, rebalanceRequested: false, ...o });
const market = (o: Partial<ExitMarketView> = {}): ExitMarketView => ({ nowMs: 0, bid: d('0.50'), bidSize: d(50), ask: d('0.52'), closeTimeMs: 3_600_000, ...o });
const reasons = (p: ExitPositionView, m: ExitMarketView) => evaluateExits(p, m, config).triggered.map((t) => t.reason);

describe('exit conditions', () => {
  it('nothing triggers in a quiet market', () => {
    assert.deepEqual(evaluateExits(position(), market(), config), { triggered: [], decision: undefined });
  });

  it('each of the ten conditions fires on its own', () => {
    assert.deepEqual(reasons(position(), market({ bid: d('0.40'), ask: d('0.42') })), ['stop_loss']);
    assert.deepEqual(reasons(position({ circuitBreakerTripped: true }), market()), ['circuit_breaker']);
    assert.deepEqual(reasons(position({ highWaterBid: d('0.60'), partialStagesDone: 2 }), market({ bid: d('0.54'), ask: d('0.55') })), ['trailing_stop']);
    assert.deepEqual(reasons(position(), market({ nowMs: 3_550_000 })), ['time_based_urgent']);
    assert.deepEqual(reasons(position(), market({ bidSize: d('0.5') })), ['liquidity_dried_up']);
    assert.deepEqual(reasons(position(), market({ bid: undefined, ask: d('0.60') })), ['liquidity_dried_up']);
    assert.deepEqual(reasons(position({ partialStagesDone: 2, highWaterBid: d('0.76') }), market({ bid: d('0.76'), ask: d('0.77') })), ['profit_target']);
    assert.deepEqual(reasons(position(), market({ bid: d('0.58'), ask: d('0.59') })), ['partial_exit_target']);
    assert.deepEqual(reasons(position({ partialStagesDone: 2 }), market({ bid: d('0.53'), ask: d('0.54'), nowMs: 3_450_000 })), ['early_exit']);
    assert.deepEqual(reasons(position(), market({ modelProbability: d('0.45') })), ['edge_disappeared']);
    assert.deepEqual(reasons(position({ rebalanceRequested: true }), market()), ['rebalance']);
  });

  it('the highest priority wins and every triggered condition is reported', () => {
    const result = evaluateExits(position({ rebalanceRequested: true }), market({ bid: d('0.39'), bidSize: d('0.5'), nowMs: 3_590_000, modelProbability: d('0.2') }), config);
    assert.deepEqual(result.triggered.map((t) => [t.reason, t.urgency]), [
      ['stop_loss', 'CRITICAL'],
      ['time_based_urgent', 'HIGH'],
      ['liquidity_dried_up', 'HIGH'],
      ['edge_disappeared', 'LOW'],
      ['rebalance', 'LOW'],
    ]);
    assert.equal(result.decision!.reason, 'stop_loss');
    assert.equal(result.decision!.size.toString(), '100');
  });

  it('stages partial exits: 50% of the original at +15%, 25% at +25%, the rest rides the trailing stop', () => {
    const first = evaluateExits(position(), market({ bid: d('0.58'), ask: d('0.59') }), config).decision!;
    assert.deepEqual([first.reason, first.size.toString()], ['partial_exit_target', '50']);
    const second = evaluateExits(position({ remainingSize: d(50), partialStagesDone: 1 }), market({ bid: d('0.63'), ask: d('0.64') }), config).decision!;
    assert.deepEqual([second.reason, second.size.toString()], ['partial_exit_target', '25']);
    assert.deepEqual(reasons(position({ remainingSize: d(25), partialStagesDone: 2, highWaterBid: d('0.63') }), market({ bid: d('0.63'), ask: d('0.64') })), []);
  });

  it('rejects invalid configuration with the key named', () => {
    const bad = exitConfigSchema.safeParse({ stopLossFraction: '1.5' });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error!.issues), /stopLossFraction must be between 0 and 1/);
  });
});

describe('urgency-based exit execution', () => {
  const plan = exitPlanConfigSchema.parse({});
  const quote = { bid: d('0.50'), ask: d('0.56') };
  const walk = (urgency: 'HIGH' | 'MEDIUM' | 'LOW', n: number) => Array.from({ length: n }, (_, i) => planExitAttempt(urgency, i + 1, quote, plan)).map((a) => (a ? `${a.orderType}@${a.limitPrice.toFixed(2)}` : 'done'));

  it('CRITICAL: marketable IOC through the bid, retried immediately, then exhausted', () => {
    assert.deepEqual(walk('HIGH', 0), []);
    const attempts = Array.from({ length: 6 }, (_, i) => planExitAttempt('CRITICAL', i + 1, quote, plan));
    assert.deepEqual(attempts.map((a) => a && `${a.orderType}@${a.limitPrice.toFixed(2)}/${a.timeoutMs}`), ['ioc@0.45/500', 'ioc@0.45/500', 'ioc@0.45/500', 'ioc@0.45/500', 'ioc@0.45/500', undefined]);
  });

  it('HIGH: one tick better than the touch, walks 2 ticks, then goes marketable', () => {
    assert.deepEqual(walk('HIGH', 4), ['limit@0.55', 'limit@0.54', 'limit@0.53', 'ioc@0.45']);
  });

  it('MEDIUM: at the touch, walks up to 5 ticks', () => {
    assert.deepEqual(walk('MEDIUM', 7), ['limit@0.56', 'limit@0.55', 'limit@0.54', 'limit@0.53', 'limit@0.52', 'limit@0.51', 'ioc@0.45']);
  });

  it('LOW: one tick behind the touch, walks up to 10 ticks, never below the bid', () => {
    assert.deepEqual(walk('LOW', 12), ['limit@0.57', 'limit@0.56', 'limit@0.55', 'limit@0.54', 'limit@0.53', 'limit@0.52', 'limit@0.51', 'limit@0.50', 'limit@0.50', 'limit@0.50', 'limit@0.50', 'ioc@0.45']);
  });

  it('derives client order ids from the workflow id and attempt', () => {
    assert.equal(exitClientOrderId('position/KX-1/3', 2, 4), 'position/KX-1/3/exit-2/attempt-4');
  });
});
