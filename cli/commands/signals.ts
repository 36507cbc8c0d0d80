import { sql } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { signalFitSettings } from '../../config/signal-model';
import type { KestrelConfig } from '../../config/schema';
import { loadRecordedWindow, recordedDays } from '../../backtest/recorded-data';
import { progressBar } from '../../backtest/report';
import { signalWalkForward, type SignalFold } from '../../backtest/signal-strategy';
import type { Database } from '../../db/client';
import { RecordedSettlements } from '../../db/settlements';
import { loadPerformanceMatrix, outcomeRows, recentSignals, resolveDueOutcomes } from '../../db/signals-repo';
import { createVersion, transitionVersion } from '../../db/versions-repo';
import { ValidationError } from '../../domain/errors';
import { fitSignalModel, SIGNAL_MODEL_OBJECTIVE, type SignalModelFitSettings } from '../../domain/signals/model';
import type { SignalWeight } from '../../domain/signals/performance';
import { SIGNAL_TYPES } from '../../domain/signals/types';
import { CommandInputError, EXIT, intOption, json, out, withDatabase, type CliCommand, type OptionValues } from './cli-support';

const dollars = (units: number) => `$${(units / 10_000).toFixed(4)}`;

/** One fold's fit as an immutable model version (training → validating; promotion is the retraining gate's call). */
async function storeFoldModel(db: Database, config: KestrelConfig, settings: SignalModelFitSettings, fold: Omit<SignalFold, 'inSample' | 'outOfSample' | 'trades'>): Promise<{ id?: number; version: string; created: boolean }> {
  const parameters = { weights: fold.weights, horizonMs: settings.horizonMs, priorCount: settings.priorCount, minCount: settings.minCount, takerFeeRate: settings.takerFeeRate, objective: SIGNAL_MODEL_OBJECTIVE };
  const metrics = { source: 'signals optimize', trainDays: fold.train, testDays: fold.test, inSample: fold.edge.inSample, outOfSample: fold.edge.outOfSample, inSampleSignals: fold.signals.inSample, outOfSampleSignals: fold.signals.outOfSample, trainOutcomes: fold.outcomes.inSample, testOutcomes: fold.outcomes.outOfSample };
  try {
    const v = await createVersion(db, 'model', config.retraining.modelName, parameters, metrics);
    await transitionVersion(db, 'model', v.id, 'training', `signals optimize: fitted on ${fold.train.join(', ')}`);
    await transitionVersion(db, 'model', v.id, 'validating', `signals optimize: scored out of sample on ${fold.test.join(', ')}`);
    return { id: v.id, version: v.version, created: true };
  } catch (err) {
    // The same fit as the latest version (an earlier fold or run): that version is this model.
    const same = err instanceof ValidationError ? / (v\d+\.\d+) already has exactly this content/.exec(err.message) : null;
    if (!same) throw err;
    const [row] = (await db.execute(sql`select id from model_versions where model_name = ${config.retraining.modelName} and version = ${same[1]!}`)) as unknown as { id: string }[];
    return { id: row ? Number(row.id) : undefined, version: same[1]!, created: false };
  }
}

const cellLine = (w: SignalWeight) => `    ${`${w.type}/${w.category}`.padEnd(34)} threshold ${(w.minConfidence ?? 0).toFixed(2)}  weight ${w.weight.toFixed(2)}  E[P&L] ${dollars(w.expectedPnl ?? 0)}/signal  n=${w.count}`;

/** `kestrel signals optimize`: walk-forward fit of thresholds and weights on the recorded gold feed, each fold stored as a model version. */
async function optimize(values: OptionValues, config: KestrelConfig): Promise<number> {
  const trainDays = intOption(values, 'train-days', 2);
  const testDays = intOption(values, 'test-days', 1);
  const days = recordedDays(config.replay.dataDir);
  if (trainDays + testDays > days.length) throw new CommandInputError(`the recording has ${days.length} days (${days.join(', ')}): it cannot hold a ${trainDays}-day training window and a ${testDays}-day test window`);
  const window = await loadRecordedWindow(config.replay.dataDir);
  return withDatabase(config.database.url, async (h) => {
    const versions: { version: string; created: boolean }[] = [];
    let settings: SignalModelFitSettings | undefined;
    const wf = await signalWalkForward({
      config,
      window,
      trainDays,
      testDays,
      onFold: values.json ? undefined : progressBar('walk-forward folds'),
      onFoldModel: async (fold) => {
        const stored = await storeFoldModel(h.db, config, settings!, fold);
        versions.push(stored);
        return stored.id;
      },
      fitSettings: (settings = signalFitSettings(config)),
    });
    const acted = (k: 'inSample' | 'outOfSample') => wf.folds.reduce((a, f) => a + f.signals[k], 0);
    const edge = (k: 'inSample' | 'outOfSample') => (acted(k) > 0 ? wf.folds.reduce((a, f) => a + f.edge[k] * f.signals[k], 0) / acted(k) : 0);
    const inSampleEdge = edge('inSample');
    const outOfSampleEdge = edge('outOfSample');
    const verdict =
      acted('outOfSample') === 0
        ? 'no signal was acted on out of sample: on this recording no signal type × category showed an edge after fees in its training days that held its minimum count'
        : outOfSampleEdge > 0
          ? `the fitted models made ${dollars(outOfSampleEdge)} per signal after fees out of sample (${acted('outOfSample')} signals)`
          : `no out-of-sample edge after fees on this recording: ${dollars(outOfSampleEdge)} per signal over ${acted('outOfSample')} signals`;
    const folds = wf.folds.map((f, i) => ({ train: f.train, test: f.test, modelVersion: versions[i]!.version, newVersion: versions[i]!.created, weights: f.weights, edge: f.edge, signals: f.signals, outcomes: f.outcomes, backtest: { inSample: { pnl: f.inSample, trades: f.trades.inSample }, outOfSample: { pnl: f.outOfSample, trades: f.trades.outOfSample } }, positionsWithoutModelVersion: f.positionsWithoutModelVersion }));
    if (values.json) {
      json({ objective: SIGNAL_MODEL_OBJECTIVE, modelName: config.retraining.modelName, settings: wf.settings, folds, inSampleEdge, outOfSampleEdge, outOfSampleSignals: acted('outOfSample'), backtest: { inSampleTotal: wf.inSampleTotal, outOfSampleTotal: wf.outOfSampleTotal, outOfSampleTrades: wf.outOfSample.trades }, verdict });
      return EXIT.ok;
    }
    out(`objective: ${SIGNAL_MODEL_OBJECTIVE}`);
    for (const [i, f] of folds.entries()) {
      out(`\nfold ${i + 1}: train ${f.train.join(', ')} → test ${f.test.join(', ')}: model ${config.retraining.modelName} ${f.modelVersion}${f.newVersion ? ' (new, validating)' : ' (same fit as this existing version)'}`);
      for (const w of f.weights) out(cellLine(w));
      out(`  edge per signal after fees: in-sample ${dollars(f.edge.inSample)} (${f.signals.inSample} of ${f.outcomes.inSample} outcomes acted on), out-of-sample ${dollars(f.edge.outOfSample)} (${f.signals.outOfSample} of ${f.outcomes.outOfSample})`);
      out(`  strategy backtest under the model: in-sample ${f.backtest.inSample.trades} trades, $${f.backtest.inSample.pnl.toFixed(2)} (per test-window length); out-of-sample ${f.backtest.outOfSample.trades} trades, $${f.backtest.outOfSample.pnl.toFixed(2)}`);
    }
    out(`\nover all folds: in-sample ${dollars(inSampleEdge)} per signal, out-of-sample ${dollars(outOfSampleEdge)} per signal (${acted('outOfSample')} signals); backtest out-of-sample ${wf.outOfSample.trades} trades, $${wf.outOfSampleTotal.toFixed(2)}`);
    out(verdict);
    return EXIT.ok;
  });
}

export const signalsCommand: CliCommand = {
  summary: 'recent signals; `signals matrix` for win rate / mean move by type × category × time of day with the fitted thresholds and weights; `signals resolve` to resolve due outcomes now; `signals optimize` to fit thresholds and weights walk-forward on the recorded gold feed',
  usage: 'kestrel signals [--market M] [--type T] [--limit N] [--json] | signals matrix [--horizon MS] [--json] | signals resolve [--json] | signals optimize [--train-days N] [--test-days M] [--json]',
  details:
    '--json prints: the list, the signal rows; matrix, {"horizonMs","cells","weights"}; resolve, {"resolved","pending"} (outcomes resolved now, and due ones still waiting for data); ' +
    'optimize, {"objective","settings","folds":[{"train","test","modelVersion","weights","edge","signals","backtest"}],"inSampleEdge","outOfSampleEdge","verdict"} (edges: mean P&L after fees per acted-on signal, price units of $0.0001 per contract). ' +
    'optimize fits per signal type × category a confidence threshold and a weight on each fold\'s training days only and stores each fold\'s fit as a model version of retraining.modelName (validating; the retraining gate promotes).',
  options: { market: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' }, horizon: { type: 'string' }, 'train-days': { type: 'string' }, 'test-days': { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const sub = positionals[0] ?? 'list';
    if (!['list', 'matrix', 'resolve', 'optimize'].includes(sub)) throw new CommandInputError(`unknown signals subcommand ${JSON.stringify(sub)}`);
    if ((values['train-days'] !== undefined || values['test-days'] !== undefined) && sub !== 'optimize') throw new CommandInputError('--train-days and --test-days apply to `kestrel signals optimize` only');
    if (sub === 'optimize') return optimize(values, loadBootstrapConfig().config);
    const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
    if (values.type !== undefined && !(SIGNAL_TYPES as readonly unknown[]).includes(values.type)) throw new CommandInputError(`--type must be one of ${SIGNAL_TYPES.join(', ')}, got ${JSON.stringify(values.type)}`);
    const { config } = loadBootstrapConfig();
    const horizon = values.horizon === undefined ? config.signals.horizonsMs[0]! : /^\d{1,15}$/.test(String(values.horizon)) ? Number(values.horizon) : NaN;
    if (!config.signals.horizonsMs.includes(horizon)) throw new CommandInputError(`--horizon must be one of the configured horizons (${config.signals.horizonsMs.join(', ')} ms), got ${JSON.stringify(values.horizon)}`);
    return withDatabase(config.database.url, async (h) => {
      if (sub === 'resolve') {
        const r = await resolveDueOutcomes(h.db, new RecordedSettlements(h.db));
        if (values.json) json({ resolved: r.resolved, pending: r.pending });
        else out(`resolved ${r.resolved} outcomes; ${r.pending} due but waiting for data`);
        return EXIT.ok;
      }
      if (sub === 'matrix') {
        const cells = await loadPerformanceMatrix(h.db);
        // The model the retraining workflow would fit on every resolved outcome (one fit, domain/signals/model.ts).
        const weights = fitSignalModel(await outcomeRows(h.db), { ...signalFitSettings(config), horizonMs: horizon });
        if (values.json) json({ horizonMs: horizon, cells, weights });
        else if (cells.length === 0) out('no resolved signal outcomes yet');
        else {
          out(`${'type'.padEnd(22)}${'category'.padEnd(14)}${'UTC'.padEnd(7)}${'horizon'.padStart(9)}${'n'.padStart(6)}${'win%'.padStart(7)}${'mean move'.padStart(11)}`);
          for (const c of cells) out(`${c.type.padEnd(22)}${c.category.padEnd(14)}${c.timeOfDay.padEnd(7)}${`${c.horizonMs / 60_000}m`.padStart(9)}${String(c.count).padStart(6)}${(c.winRate === null ? '-' : (100 * c.winRate).toFixed(1)).padStart(7)}${`$${(c.meanMove / 10_000).toFixed(4)}`.padStart(11)}`);
          out(`\nthresholds and weights at +${horizon / 60_000}m on all resolved outcomes (P&L after fees, shrunk by ${config.signals.weightPriorCount} pseudo-signals, at least ${config.signals.weightMinCount} outcomes):`);
          for (const w of weights) out(cellLine(w));
        }
        return EXIT.ok;
      }
      const rows = await recentSignals(h.db, { limit, market: typeof values.market === 'string' ? values.market : undefined, type: typeof values.type === 'string' ? values.type : undefined });
      if (values.json) json(rows);
      else if (rows.length === 0) out('no signals');
      else for (const r of rows) out(`#${r.id}  ${r.firedAt.toISOString()}  ${r.type.padEnd(20)} ${r.priority.padEnd(6)} ${r.marketTicker}  ${(r.direction ?? '-').padEnd(3)} conf ${r.confidence.toFixed(2)}  ${r.actionable ? 'ACTIONABLE' : ''}`);
      return EXIT.ok;
    });
  },
};
