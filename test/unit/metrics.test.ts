import assert from 'node:assert/strict';
import { annualReturn, calmarRatio, DAYS_PER_YEAR, dailyEquityReturns, equityOfReturns, maxDrawdownFromPeak, performance, performanceBy, sharpeRatio, sortinoRatio, type TradeRecord } from '../../domain/backtest/metrics';
import { Dec } from '../../domain/decimal';

/*
 * Reference vectors: empyrical's empyrical/tests/test_stats.py as maintained in
 * stefan-jansen/empyrical-reloaded (commit 20aa2daab71b966057b896e8d0a7b307fe87936f); the older
 * quantopian/empyrical vectors for weekly/monthly Sortino (0.5069…, 0.1170…) annualise the downside
 * with 252 whatever the period, a bug fixed there. Periods per year: DAILY 252, WEEKLY 52, MONTHLY 12;
 * asserted to 8 decimal places as empyrical does (numpy's assert_almost_equal: |actual − expected|
 * < 1.5e-8). Kestrel annualises daily returns with 365 through the same functions.
 */
const DAILY = 252;
const WEEKLY = 52;
const MONTHLY = 12;
const pct = (xs: number[]) => xs.map((x) => x / 100);
const positiveReturns = pct([1, 2, 1, 1, 1, 1, 1, 1, 1]);
const negativeReturns = pct([0, -6, -7, -1, -9, -2, -6, -8, -5]);
// mixed_returns is [nan, 1, 10, -4, 2, 3, 2, 1, -10] / 100. empyrical's means skip the nan (nanmean);
// its compounding counts the nan day as a 0 return (cum_returns fills it, annual_return counts it).
const mixedReturns = pct([1, 10, -4, 2, 3, 2, 1, -10]);
const mixedReturnsNanAsZero = [0, ...mixedReturns];
const weeklyReturns = pct([0, 1, 10, -4, 2, 3, 2, 1, -10]);
const dfSimpleOne = [-0.00171614, 0.01322056, 0.03063862, -0.01422057, -0.00489779, 0.01268925, -0.03357711, 0.01797036];
const dfSimpleTwo = [0.01846232, 0.00793951, -0.01448395, 0.00422537, -0.00339611, 0.03756813, 0.0151531, 0.03549769];

function close(actual: number | null, expected: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1.5e-8, `${what}: ${actual} vs empyrical ${expected}`);
}
const maxDrawdownOfReturns = (returns: number[]) => maxDrawdownFromPeak(equityOfReturns(returns));

describe('performance metrics: standard definitions against empyrical', () => {
  it('Sharpe: test_sharpe_ratio (risk_free 0)', () => {
    close(sharpeRatio(mixedReturns, DAILY), 1.7238613961706866, 'mixed_returns');
    close(sharpeRatio(positiveReturns, DAILY), 52.915026221291804, 'positive_returns');
    close(sharpeRatio(negativeReturns, DAILY), -24.406808633910085, 'negative_returns');
    assert.equal(sharpeRatio(pct([1]), DAILY), null, 'one_return: nan');
    assert.equal(sharpeRatio([], DAILY), null, 'empty_returns: nan');
  });

  it('Sortino: test_sortino (required_return 0)', () => {
    close(sortinoRatio(mixedReturns, DAILY), 2.605531251673693, 'mixed_returns, DAILY');
    close(sortinoRatio(negativeReturns, DAILY), -13.532743075043401, 'negative_returns, DAILY');
    close(sortinoRatio(weeklyReturns, WEEKLY), 1.1158901056866439, 'weekly_returns, WEEKLY');
    close(sortinoRatio(weeklyReturns, MONTHLY), 0.53605626741889756, 'monthly_returns, MONTHLY');
    close(sortinoRatio(dfSimpleOne, DAILY), 3.0639640966566306, 'df_simple.one, DAILY');
    close(sortinoRatio(dfSimpleTwo, DAILY), 38.090963117002495, 'df_simple.two, DAILY');
    close(sortinoRatio(dfSimpleOne, WEEKLY), 1.3918264112070571, 'df_week.one, WEEKLY');
    close(sortinoRatio(dfSimpleTwo, WEEKLY), 17.303077589064618, 'df_week.two, WEEKLY');
    close(sortinoRatio(dfSimpleOne, MONTHLY), 0.6686117809312383, 'df_month.one, MONTHLY');
    assert.equal(sortinoRatio(positiveReturns, DAILY), null, 'positive_returns: inf (no downside) is reported as null');
  });

  it('max drawdown from peak: test_max_drawdown', () => {
    close(maxDrawdownOfReturns(mixedReturnsNanAsZero), 0.1, 'mixed_returns');
    close(maxDrawdownOfReturns(negativeReturns), 0.36590730349873601, 'negative_returns');
    close(maxDrawdownOfReturns(pct([10, -10, 10])), 0.1, '[10, -10, 10]');
    close(maxDrawdownOfReturns(positiveReturns), 0, 'positive_returns');
    close(maxDrawdownOfReturns(pct([0, 1, 0, 1, 0, 1, 0, 1, 0])), 0, 'simple_benchmark');
  });

  it('annual return and Calmar: test_annual_ret, test_calmar', () => {
    close(annualReturn(mixedReturnsNanAsZero, DAILY), 1.9135925373194231, 'mixed_returns, DAILY');
    close(annualReturn(weeklyReturns, WEEKLY), 0.24690830513998208, 'weekly_returns, WEEKLY');
    close(annualReturn(weeklyReturns, MONTHLY), 0.052242061386048144, 'monthly_returns, MONTHLY');
    const calmar = (returns: number[], periods: number) => calmarRatio(annualReturn(returns, periods), maxDrawdownOfReturns(returns));
    close(calmar(mixedReturnsNanAsZero, DAILY), 19.135925373194233, 'mixed_returns, DAILY');
    close(calmar(weeklyReturns, WEEKLY), 2.4690830513998208, 'weekly_returns, WEEKLY');
    close(calmar(weeklyReturns, MONTHLY), 0.52242061386048144, 'monthly_returns, MONTHLY');
    assert.equal(calmar([], DAILY), null, 'empty_returns: nan');
    assert.equal(calmar(pct([1]), DAILY), null, 'one_return: nan (no drawdown)');
  });
});

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 7, 5);
function trade(id: string, closedDay: number, pnl: string, extra: Partial<TradeRecord> = {}): TradeRecord {
  const closedAtMs = T0 + closedDay * DAY + 3_600_000;
  return { positionId: id, market: 'M', signalType: 'momentum', category: 'c', outcome: 'yes', status: 'closed', openedAtMs: closedAtMs - 60_000, closedAtMs, cost: new Dec(100), pnl: new Dec(pnl), fees: new Dec('0.50'), ...extra };
}

describe('performance of a run', () => {
  it('daily equity returns: every UTC day of the span, 0 on days without a close, compounding on the equity', () => {
    const trades = [trade('a', 0, '10'), trade('b', 0, '-5'), trade('c', 2, '21')];
    const returns = dailyEquityReturns(trades, new Dec(100), { startMs: T0, endMs: T0 + 3 * DAY + 1 });
    assert.deepEqual(returns, [0.05, 0, 0.2, 0]);
    assert.deepEqual(dailyEquityReturns(trades, new Dec(100)), [0.05, 0, 0.2], 'no span: the trades own days');
  });

  it('a compounding run: max drawdown from peak, not of the initial capital', () => {
    // Capital 100 grows to 3690, then falls 2250: 22.5 × the capital, 61% of the peak.
    const m = performance([trade('a', 0, '3590'), trade('b', 1, '-2250')], new Dec(100));
    assert.equal(m.maxDrawdown, '2250.0000');
    assert.equal(m.maxDrawdownOfCapital, 22.5);
    assert.equal(m.maxDrawdownFromPeak.toFixed(4), (2250 / 3690).toFixed(4));
    assert.deepEqual(m.dailyReturns, [35.9, 1440 / 3690 - 1]);
    // Two days: 100 → 1440, annualised over 365 days; Calmar = that over the drawdown from peak.
    assert.equal(m.annualReturn, 14.4 ** (DAYS_PER_YEAR / 2) - 1);
    assert.equal(m.calmarAnnualised, m.annualReturn! / m.maxDrawdownFromPeak);
    assert.equal(m.sharpeAnnualised, sharpeRatio(m.dailyReturns, DAYS_PER_YEAR));
  });

  it('keeps the per-trade ratios under their own names: return = P&L / cost, not annualised', () => {
    const m = performance([trade('a', 0, '10'), trade('b', 0, '-5'), trade('c', 1, '20')], new Dec(1000));
    const perTrade = [0.1, -0.05, 0.2];
    const meanReturn = 0.25 / 3;
    const sd = Math.sqrt(perTrade.reduce((a, r) => a + (r - meanReturn) ** 2, 0) / 2);
    assert.equal(m.sharpePerTrade, meanReturn / sd);
    assert.equal(m.sortinoPerTrade, meanReturn / Math.sqrt(0.05 ** 2 / 3));
  });

  it('fees: the given total, else the trades own; each group row carries its own', () => {
    const trades = [trade('a', 0, '10'), trade('b', 1, '-5', { signalType: 'spread', fees: new Dec('0.25') })];
    assert.equal(performance(trades, new Dec(1000)).fees, '0.7500');
    assert.equal(performance(trades, new Dec(1000), new Dec(2)).fees, '2.0000');
    const by = performanceBy(trades, (t) => t.signalType, new Dec(1000));
    assert.deepEqual(Object.fromEntries(Object.entries(by).map(([k, v]) => [k, v.fees])), { momentum: '0.5000', spread: '0.2500' });
    assert.equal(by.momentum!.dailyReturns.length, 2, 'a group is measured over the run’s days, not its own');
  });
});
