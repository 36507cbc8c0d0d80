import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadBootstrapConfig } from '../../config/load';
import { walkForwardSummarySchema, type WalkForwardSummary } from '../../domain/backtest/walk-forward';
import { loadRecordedWindow, recordedDays } from '../../backtest/recorded-data';
import { progressBar } from '../../backtest/report';
import { signalWalkForward } from '../../backtest/signal-strategy';
import { goldWalkForward, momentumGrid } from '../../backtest/walk-forward-gold';
import { CommandInputError, EXIT, intOption, json, out, type CliCommand } from './cli-support';

export const walkForwardCommand: CliCommand = {
  summary: 'walk-forward optimisation of the momentum strategy over recorded gold days: in-sample vs out-of-sample',
  usage: 'kestrel walk-forward [--strategy momentum|signals] [--train-days N] [--test-days M] [--markets N] [--out DIR] [--json]   (writes DIR/walk-forward.json, default backtest-output/walk-forward-<time>)',
  options: { strategy: { type: 'string' }, 'train-days': { type: 'string' }, 'test-days': { type: 'string' }, markets: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const { config } = loadBootstrapConfig();
    const trainDays = intOption(values, 'train-days', 2);
    const testDays = intOption(values, 'test-days', 1);
    const limit = intOption(values, 'markets', undefined);
    const days = recordedDays(config.replay.dataDir, limit);
    if (trainDays + testDays > days.length) throw new CommandInputError(`the recording has ${days.length} days (${days.join(', ')}): it cannot hold a ${trainDays}-day training window and a ${testDays}-day test window`);
    const strategyName = values.strategy ?? 'momentum';
    if (strategyName !== 'momentum' && strategyName !== 'signals') throw new CommandInputError(`--strategy must be momentum or signals, got ${JSON.stringify(strategyName)}`);
    const window = await loadRecordedWindow(config.replay.dataDir, { limit });
    const bar = values.json ? undefined : progressBar('walk-forward folds');
    // The folds are kept beside the backtest reports, where the console shows the newest.
    const store = (summary: Omit<WalkForwardSummary, 'writtenAt' | 'strategy'>) => {
      const dir = typeof values.out === 'string' ? values.out : path.join('backtest-output', `walk-forward-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'walk-forward.json');
      writeFileSync(file, `${JSON.stringify(walkForwardSummarySchema.parse({ strategy: strategyName, writtenAt: new Date().toISOString(), ...summary }), null, 2)}\n`);
      if (!values.json) out(`folds written to ${file}`);
    };
    if (strategyName === 'signals') {
      const wf = await signalWalkForward({ config, window, trainDays, testDays, onFold: bar });
      store({
        folds: wf.folds.map((f) => ({ train: f.train, test: f.test, chosen: f.weights.map((w) => `${w.type} ${w.weight.toFixed(2)}`).join(', ') || 'none', inSample: f.inSample, outOfSample: f.outOfSample })),
        inSampleTotal: wf.inSampleTotal,
        outOfSampleTotal: wf.outOfSampleTotal,
        efficiency: wf.efficiency ?? null,
      });
      if (values.json) json(wf);
      else {
        for (const f of wf.folds) out(`train ${f.train.join(',')} → test ${f.test.join(',')}: weights ${f.weights.map((w) => `${w.type} ${w.weight.toFixed(2)}`).join(', ') || 'none'}; in-sample ${f.inSample.toFixed(2)} (${f.trades.inSample} trades) vs out-of-sample ${f.outOfSample.toFixed(2)} (${f.trades.outOfSample} trades)`);
        out(`total in-sample ${wf.inSampleTotal.toFixed(2)}, out-of-sample ${wf.outOfSampleTotal.toFixed(2)}, efficiency ${wf.efficiency?.toFixed(2) ?? '-'}`);
      }
      return EXIT.ok;
    }
    const wf = await goldWalkForward({ config, window, trainDays, testDays, grid: momentumGrid(), onFold: bar }).catch((e: Error) => {
      throw new CommandInputError(e.message);
    });
    store({
      folds: wf.folds.map((f) => ({ train: f.train, test: f.test, chosen: `minMove $${(f.chosen.minMove / 10_000).toFixed(2)}, lookback ${f.chosen.lookbackMs / 1000} s`, inSample: f.inSample, outOfSample: f.outOfSample })),
      inSampleTotal: wf.inSampleTotal,
      outOfSampleTotal: wf.outOfSampleTotal,
      efficiency: wf.efficiency ?? null,
    });
    if (values.json) json(wf);
    else {
      for (const f of wf.folds) out(`train ${f.train.join(',')} → test ${f.test.join(',')}: chose minMove $${(f.chosen.minMove / 10_000).toFixed(2)} lookback ${f.chosen.lookbackMs / 1000}s; in-sample ${f.inSample.toFixed(2)} vs out-of-sample ${f.outOfSample.toFixed(2)} (per test-day length)`);
      out(`total in-sample ${wf.inSampleTotal.toFixed(2)}, out-of-sample ${wf.outOfSampleTotal.toFixed(2)}, efficiency ${wf.efficiency?.toFixed(2) ?? '-'} over ${wf.backtests} backtests`);
    }
    return EXIT.ok;
  },
};
