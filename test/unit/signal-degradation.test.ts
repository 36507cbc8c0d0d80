import assert from 'node:assert/strict';
import { describeDegradation, signalDegradation, type ClosedTrade, type TypeDegradation } from '../../domain/signals/degradation';

/** Trades of one type closing one minute apart, in order, from `startMs`. */
const trades = (type: string, pnls: readonly string[], startMs = 0): ClosedTrade[] => pnls.map((pnl, i) => ({ type, closedAtMs: startMs + i * 60_000, pnl }));
/** `wins` trades of `win` then `n - wins` of `loss`. */
const mix = (n: number, wins: number, win: string, loss: string) => Array.from({ length: n }, (_, i) => (i < wins ? win : loss));
const judged = (d: TypeDegradation | undefined) => {
  assert.ok(d && d.judged, JSON.stringify(d));
  return d;
};

describe('signal degradation rule (rolling window vs trailing baseline)', () => {
  const settings = { pct: 20, recentTrades: 10, baselineTrades: 40 };

  it('flags a win rate more than pct below the baseline, and not one exactly pct below', () => {
    // Baseline 50% wins; recent 40% is exactly 20% lower (not more), 30% is more.
    const baseline = mix(40, 20, '0.10', '-0.10');
    const atLimit = judged(signalDegradation(trades('volume_spike', [...baseline, ...mix(10, 4, '0.30', '-0.10')]), settings)[0]);
    assert.equal(atLimit.baseline.winRate, 0.5);
    assert.equal(atLimit.recent.winRate, 0.4);
    assert.deepEqual(atLimit.degraded, []);
    const below = judged(signalDegradation(trades('volume_spike', [...baseline, ...mix(10, 3, '0.50', '-0.10')]), settings)[0]);
    assert.deepEqual(below.degraded, ['win_rate']);
    assert.equal(below.recent.pnlPerTrade, '0.080000', 'P&L per trade rose: only the win rate fell');
  });

  it('flags P&L per trade more than pct of its magnitude below the baseline, also when the baseline is a loss', () => {
    // Baseline −0.10 per trade: −0.12 is the limit; −0.13 is beyond it, −0.11 is not.
    const baseline = Array(40).fill('-0.10');
    assert.deepEqual(judged(signalDegradation(trades('book_imbalance', [...baseline, ...Array(10).fill('-0.13')]), settings)[0]).degraded, ['pnl_per_trade']);
    assert.deepEqual(judged(signalDegradation(trades('book_imbalance', [...baseline, ...Array(10).fill('-0.11')]), settings)[0]).degraded, []);
    // Baseline +0.25: recent 0.19 is 24% lower.
    const fell = judged(signalDegradation(trades('book_imbalance', [...Array(40).fill('0.25'), ...Array(10).fill('0.19')]), settings)[0]);
    assert.deepEqual(fell.degraded, ['pnl_per_trade']);
    assert.match(describeDegradation(fell, 20), /book_imbalance: P&L per trade 0\.190000 over the last 10 trades vs 0\.250000 over the 40 before \(more than 20% below the baseline\)/);
  });

  it('does not judge P&L against a zero baseline, nor a win rate against a baseline without wins', () => {
    const d = judged(signalDegradation(trades('x', [...Array(20).fill('0'), ...Array(10).fill('-1')]), settings)[0]);
    assert.equal(d.baseline.pnlPerTrade, '0.000000');
    assert.deepEqual(d.degraded, []);
  });

  it('reads only the last baselineTrades before the window, ordered by close time whatever the input order', () => {
    // 40 old winners beyond the baseline, then 40 baseline trades at 20% wins, then 10 recent at 20%.
    const all = trades('t', [...Array(40).fill('1'), ...mix(40, 8, '1', '-1'), ...mix(10, 2, '1', '-1')]);
    const d = judged(signalDegradation([...all].reverse(), settings)[0]);
    assert.equal(d.baseline.trades, 40);
    assert.equal(d.baseline.winRate, 0.2);
    assert.deepEqual(d.degraded, []);
  });

  it('keeps types apart and says why a type with too few trades is not judged', () => {
    const out = signalDegradation([...trades('b', Array(15).fill('0.1')), ...trades('a', [...Array(10).fill('0.1'), ...Array(10).fill('-0.1')])], settings);
    assert.deepEqual(out.map((d) => d.type), ['a', 'b']);
    assert.equal(out[0]!.judged, true);
    assert.deepEqual((out[0] as Extract<TypeDegradation, { judged: true }>).degraded, ['win_rate', 'pnl_per_trade']);
    assert.equal(out[1]!.judged, false);
    assert.match((out[1] as Extract<TypeDegradation, { judged: false }>).why, /15 closed trades; at least 20 needed/);
  });

  it('refuses settings it cannot apply', () => {
    assert.throws(() => signalDegradation([], { ...settings, pct: 0 }), /pct must be in \(0, 100\]/);
    assert.throws(() => signalDegradation([], { ...settings, pct: 120 }), /pct must be in/);
    assert.throws(() => signalDegradation([], { ...settings, recentTrades: 0 }), /recentTrades must be a positive integer/);
    assert.throws(() => signalDegradation([], { ...settings, baselineTrades: 2.5 }), /baselineTrades must be a positive integer/);
  });
});
