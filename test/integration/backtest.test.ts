import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backtestConfig, runBacktest } from '../../backtest/gold-backtest';
import { momentumRule, momentumStrategy } from '../../domain/strategies/momentum';
import { loadRecordedWindow, type RecordedWindow } from '../../backtest/recorded-data';
import { writeBacktestReport } from '../../backtest/report';
import { goldWalkForward, momentumGrid } from '../../backtest/walk-forward-gold';
import { resolveConfig } from '../../config/load';
import { Backtester, type SignalRule } from '../../domain/backtest/backtester';
import { lookAheadCheck, walkForwardFolds } from '../../domain/backtest/walk-forward';
import { Dec } from '../../domain/decimal';
import { priceText } from '../../domain/fixed-point';
import { readGoldMarketMetadata } from '../../venues/replay/gold-metadata';
import { SHARED_DATA_DIR } from '../support/harness';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const { config } = resolveConfig({});

describe('backtester on the recorded gold feed', function () {
  this.timeout(120_000);
  let two: RecordedWindow;
  before(async () => {
    two = await loadRecordedWindow(GOLD, { markets: ['KXGOLD15M-26AUG060800-00', 'KXGOLD15M-26AUG061300-00'] });
  });

  it('reports P&L, win rate, Sharpe, Sortino, Calmar, drawdown and hold time that add up, plus plots and a report', async () => {
    const summary = await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: two.events, info: two.info, rule: momentumRule(), monteCarloRuns: 500 });
    const m = summary.metrics;
    assert.ok(m.trades >= 3, `trades: ${m.trades}`);
    const sum = summary.result.positions.reduce((n, p) => n.plus(p.realizedPnl), new Dec(0));
    assert.equal(m.totalPnl, sum.toFixed(4), 'total P&L is the sum of the positions');
    assert.equal(m.wins + m.losses <= m.trades, true);
    assert.ok(new Dec(m.maxDrawdown).gte(0) && m.averageHoldMs! > 0);
    // Every fill's fee is the Kalshi formula: fees in the report are the sum over orders.
    const orderFees = summary.result.orders.reduce((n, o) => n.plus(o.fees), new Dec(0));
    assert.equal(new Dec(m.fees).toFixed(4), orderFees.toFixed(4));
    assert.ok(summary.monteCarlo.totals.p5 <= summary.monteCarlo.totals.p50 && summary.monteCarlo.totals.p50 <= summary.monteCarlo.totals.p95);
    assert.deepEqual(Object.keys(summary.bySignalType), ['momentum']);
    assert.deepEqual(Object.keys(summary.byCategory), ['kxgold15m']);
    // Each group row carries its own trades' fees (they were "0.0000" before).
    const tradeFees = summary.trades.reduce((n, t) => n.plus(t.fees!), new Dec(0)).toFixed(4);
    assert.ok(new Dec(tradeFees).gt(0));
    assert.equal(summary.bySignalType.momentum!.fees, tradeFees);
    assert.equal(summary.byCategory.kxgold15m!.fees, tradeFees);
    // Peak-relative drawdown and daily returns over the run's calendar days.
    assert.ok(m.maxDrawdownFromPeak > 0 && m.maxDrawdownFromPeak <= 1);
    const days = Math.floor(summary.result.endMs! / 86_400_000) - Math.floor(summary.result.startMs! / 86_400_000) + 1;
    assert.equal(m.dailyReturns.length, days);
    const compounded = m.dailyReturns.reduce((g, r) => g * (1 + r), 1);
    assert.ok(Math.abs(compounded - (1 + Number(m.totalPnl) / config.risk.capital.toNumber())) < 1e-12, 'the daily returns compound to the total return');

    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-report-'));
    const files = writeBacktestReport(dir, summary, { title: 'test', capital: config.risk.capital, markets: two.markets, parameters: { rule: 'momentum' } });
    assert.match(readFileSync(files.equity, 'utf8'), /<polyline[^>]+points="[\d., ]+"/);
    assert.match(readFileSync(files.drawdown, 'utf8'), /<polygon/);
    const md = readFileSync(files.report, 'utf8');
    assert.match(md, /\| all \| \d+ \| [\d.]+% \| -?\d+\.\d{4} \| \d+\.\d{4} \|/);
    assert.match(md, /\| signal: momentum \| \d+ \| [\d.]+% \| -?\d+\.\d{4} \| [1-9]\d*\.\d{4} \|/, 'a group row shows its fees');
    assert.match(md, /annualised from \d+ daily equity returns?/);
    assert.match(md, /Monte Carlo \(500 resamples/);
  });

  it('models order latency in market time: orders meet the book as it is later', async () => {
    const instant = await new Backtester({ ...backtestConfig(config), latencyMs: 0 }, two.info, momentumRule()).run(two.events);
    const late = await new Backtester({ ...backtestConfig(config), latencyMs: 2000 }, two.info, momentumRule()).run(two.events);
    const entry = (r: typeof instant) => r.orders.find((o) => o.purpose === 'entry')!;
    assert.equal(entry(late).clientOrderId, entry(instant).clientOrderId);
    assert.ok(entry(late).fills.every((f) => f.tsMs >= entry(late).submittedAtMs + 2000) || entry(late).fills.length === 0, 'fills come at least the latency after sending');
    assert.notDeepEqual(late.orders.map((o) => o.fills), instant.orders.map((o) => o.fills));
  });

  it('is deterministic: the same window twice gives the same orders', async () => {
    const run = () => new Backtester(backtestConfig(config), two.info, momentumRule()).run(two.events);
    const [a, b] = [await run(), await run()];
    assert.deepEqual(a.orders, b.orders);
  });

  it('settles a position held to close on the recorded result', async () => {
    const market = 'KXGOLD15M-26AUG061300-00';
    const window = await loadRecordedWindow(GOLD, { markets: [market] });
    const info = window.info.get(market)!;
    const result = readGoldMarketMetadata(GOLD, market)!.meta.attributes.result;
    assert.equal(info.result, result);
    // Buy YES once, ten minutes before close, and never exit.
    let done = false;
    const once: SignalRule = ({ market: m, nowMs, store }) => {
      const top = store.markets.get(m)?.book.top();
      if (done || nowMs < info.closeTimeMs - 600_000 || !top?.yesAsk) return undefined;
      done = true;
      return { signalId: `${m}@${nowMs}`, market: m, outcome: 'yes', modelProbability: '0.99', ask: priceText(top.yesAsk.price), reason: 'test' };
    };
    const strategy = momentumStrategy(config);
    const hold = { stopLossFraction: '1', trailingActivationFraction: '1', profitTargetFraction: '1', partialStages: [], earlyExitBeforeCloseMs: 0, urgentBeforeCloseMs: 0, minExitLiquidity: '0', maxSpread: '1', minEdge: '-1' };
    const cfg = backtestConfig(config, { ...strategy, rules: { ...strategy.rules, sizing: { kind: 'fixed' }, size: '10', minEdge: '-1' }, position: { ...strategy.position, exitConfig: hold } });
    const r = await new Backtester(cfg, window.info, once).run(window.events);
    assert.equal(r.positions.length, 1);
    const p = r.positions[0]!;
    assert.equal(p.status, 'settled');
    const entryFees = new Dec(r.orders[0]!.fees);
    const value = result === 'yes' ? new Dec(1) : new Dec(0);
    assert.equal(new Dec(p.realizedPnl).toFixed(6), new Dec(p.size).times(value.minus(p.entryPrice!)).minus(entryFees).toFixed(6));
    assert.equal(r.orders.length, 1, 'no exit order: settlement pays out');
  });

  it('passes the look-ahead check, and catches a rule that peeks at the future', async () => {
    const run = (rule: () => SignalRule) => (events: readonly typeof two.events[number][]) => new Backtester(backtestConfig(config), two.info, rule()).run(events);
    const times = two.events.map((e) => e.ts);
    const cuts = [0.3, 0.6, 0.9].map((q) => times[Math.floor(q * times.length)]!);
    const honest = await lookAheadCheck(run(() => momentumRule()), two.events, cuts);
    assert.ok(honest.ok, JSON.stringify(honest.mismatches).slice(0, 500));
    assert.ok(honest.checked > 0);

    // A cheat: it knows where the mid will be a minute later (from the full recording) and buys that way.
    const future = new Map<string, { ts: number; price: number }[]>();
    const cheat = (): SignalRule => {
      const fired = new Set<string>();
      return ({ market, nowMs, store }) => {
        const top = store.markets.get(market)?.book.top();
        const later = future.get(market)?.find((t) => t.ts > nowMs + 60_000);
        if (!top?.yesAsk || !later || fired.has(market) || later.price <= top.yesAsk.price + 500) return undefined;
        fired.add(market);
        return { signalId: `${market}@${nowMs}`, market, outcome: 'yes', modelProbability: '0.95', ask: priceText(top.yesAsk.price), reason: 'peeked' };
      };
    };
    // Each run hands the cheat the recording it was given, as a rule with the whole file open would have.
    const cheatingRun = (events: readonly typeof two.events[number][]) => {
      future.clear();
      for (const e of events) if (e.t === 'trade') future.set(e.m, [...(future.get(e.m) ?? []), { ts: e.ts, price: e.price }]);
      return new Backtester(backtestConfig(config), two.info, cheat()).run(events);
    };
    const caught = await lookAheadCheck(cheatingRun, two.events, cuts);
    assert.equal(caught.ok, false, 'decisions before a cut changed when the data after it was removed');
  });

  it('walk-forward: picks parameters on training days, trades them on the next unseen day, and reports both', async () => {
    assert.deepEqual(walkForwardFolds(['d1', 'd2', 'd3', 'd4'], 2, 1), [
      { train: ['d1', 'd2'], test: ['d3'] },
      { train: ['d2', 'd3'], test: ['d4'] },
    ]);
    assert.throws(() => walkForwardFolds(['d1'], 0, 1), /at least one day/);
    // One market on each of three days keeps this quick.
    const window = await loadRecordedWindow(GOLD, { markets: ['KXGOLD15M-26AUG050000-00', 'KXGOLD15M-26AUG060000-00', 'KXGOLD15M-26AUG070000-00'] });
    const wf = await goldWalkForward({ config, window, trainDays: 1, testDays: 1, grid: momentumGrid([400, 900], [60_000]) });
    assert.deepEqual(wf.days, ['2026-08-05', '2026-08-06', '2026-08-07']);
    assert.equal(wf.folds.length, 2);
    assert.equal(wf.backtests, 2 * 2 + 2);
    for (const f of wf.folds) {
      const best = Math.max(...f.candidates.map((c) => c.score));
      assert.equal(f.candidates.find((c) => c.params === f.chosen)!.score, best, 'the chosen parameters are the best in sample');
    }
    assert.equal(wf.outOfSampleTotal, wf.folds.reduce((a, f) => a + f.outOfSample, 0));
  });
});
