import path from 'node:path';
import { loadBootstrapConfig } from '../../config/load';
import { backtestConfig, runBacktest } from '../../backtest/gold-backtest';
import { loadRecordedWindow } from '../../backtest/recorded-data';
import { progressBar, writeBacktestReport } from '../../backtest/report';
import { runSignalBacktest } from '../../backtest/signal-strategy';
import { DEFAULT_MOMENTUM, momentumRule } from '../../domain/strategies/momentum';
import { MODEL_EDGE_BACKTEST_OPTIONS, runModelEdgeBacktestCommand } from './backtest-model-edge';
import { BUCKET_ARB_BACKTEST_OPTIONS, runBucketArbBacktestCommand } from './backtest-bucket-arb';
import { CommandInputError, EXIT, intOption, json, out, type CliCommand } from './cli-support';

export const backtestCommand: CliCommand = {
  summary: 'backtest the momentum strategy in process over recorded gold markets (same domain code as paper/live): metrics, plots, report',
  usage: 'kestrel backtest [--strategy momentum|signals|model-edge] [--markets N | --market TICKER ...] [--min-move DOLLARS] [--lookback-ms MS] [--train-days N] [--out DIR] [--json] | --strategy bucket-arb --snapshots DIR [--file STRATEGY.yaml] [--min-edge DOLLARS] [--folds N] [--train-folds N] [--out DIR] [--json]',
  options: { strategy: { type: 'string' }, markets: { type: 'string' }, market: { type: 'string', multiple: true }, 'min-move': { type: 'string' }, 'lookback-ms': { type: 'string' }, 'train-days': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, ...MODEL_EDGE_BACKTEST_OPTIONS, ...BUCKET_ARB_BACKTEST_OPTIONS },
  async run({ values }) {
    if (values.strategy === 'model-edge') return runModelEdgeBacktestCommand(values);
    if (values.strategy === 'bucket-arb') return runBucketArbBacktestCommand(values);
    if (values.snapshots !== undefined) throw new CommandInputError('--snapshots is an option of --strategy bucket-arb');
    const { config } = loadBootstrapConfig();
    const limit = intOption(values, 'markets', undefined);
    const minMove = values['min-move'] === undefined ? DEFAULT_MOMENTUM.minMove : Math.round(Number(values['min-move']) * 10_000);
    if (!Number.isFinite(minMove) || minMove <= 0 || minMove >= 10_000) throw new CommandInputError(`--min-move must be a price move in dollars in (0, 1), got ${JSON.stringify(values['min-move'])}`);
    const lookbackMs = intOption(values, 'lookback-ms', DEFAULT_MOMENTUM.lookbackMs, { min: 1000 });
    const markets = values.market as unknown as string[] | undefined;
    const window = await loadRecordedWindow(config.replay.dataDir, { markets, limit }).catch((e: Error) => {
      throw new CommandInputError(e.message);
    });
    const strategyName = values.strategy ?? 'momentum';
    if (strategyName !== 'momentum' && strategyName !== 'signals') throw new CommandInputError(`--strategy must be momentum, signals, model-edge or bucket-arb, got ${JSON.stringify(strategyName)}`);
    const trainDays = intOption(values, 'train-days', 2);
    const params = { ...DEFAULT_MOMENTUM, minMove, lookbackMs };
    const onProgress = values.json ? undefined : progressBar('backtest');
    const signalRun =
      strategyName === 'signals'
        ? await runSignalBacktest({ config, window, trainDays, onProgress }).catch((e: Error) => {
            throw new CommandInputError(e.message);
          })
        : undefined;
    const summary = signalRun ?? (await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: window.columns, info: window.info, rule: momentumRule(params), onProgress }));
    if (signalRun && !values.json) out(`signal thresholds and weights fitted on ${signalRun.trainDays.join(', ')} (${signalRun.trainSignals} signals), traded on ${signalRun.testDays.join(', ')}: ${signalRun.weights.map((w) => `${w.type} ≥${(w.minConfidence ?? 0).toFixed(2)} weight ${w.weight.toFixed(2)} (n=${w.count})`).join(', ') || 'none'}${signalRun.weights.some((w) => w.weight > 0) ? '' : ' — no signal type showed an edge after fees with enough outcomes, so none is traded'}`);
    const outDir = typeof values.out === 'string' ? values.out : path.join('backtest-output', new Date().toISOString().replace(/[:.]/g, '-'));
    const parameters = signalRun ? { signals: config.signals, weights: signalRun.weights, trainDays: signalRun.trainDays, testDays: signalRun.testDays } : { momentum: params, strategy: backtestConfig(config).rules };
    const files = writeBacktestReport(outDir, summary, { title: `Backtest: ${strategyName} on ${window.markets.length} recorded gold markets`, capital: config.risk.capital, markets: window.markets, parameters });
    const m = summary.metrics;
    if (values.json) json({ metrics: m, bySignalType: summary.bySignalType, byCategory: summary.byCategory, monteCarlo: summary.monteCarlo, events: summary.result.events, elapsedMs: summary.elapsedMs, files });
    else {
      out(`${window.markets.length} markets, ${summary.result.events.toLocaleString('en-US')} events in ${(summary.elapsedMs / 1000).toFixed(1)} s`);
      out(`trades ${m.trades}  win rate ${m.winRate === null ? '-' : (100 * m.winRate).toFixed(1) + '%'}  P&L ${m.totalPnl} (fees ${m.fees})  Sharpe/trade ${m.sharpePerTrade?.toFixed(3) ?? '-'}  Sortino/trade ${m.sortinoPerTrade?.toFixed(3) ?? '-'}`);
      out(`over ${m.dailyReturns.length} days, annualised: Sharpe ${m.sharpeAnnualised?.toFixed(3) ?? '-'}  Sortino ${m.sortinoAnnualised?.toFixed(3) ?? '-'}  Calmar ${m.calmarAnnualised?.toFixed(3) ?? '-'}  max DD ${m.maxDrawdown} (${(100 * m.maxDrawdownFromPeak).toFixed(2)}% from peak)`);
      out(`report ${files.report}  plots ${files.equity}, ${files.drawdown}`);
    }
    return EXIT.ok;
  },
};
