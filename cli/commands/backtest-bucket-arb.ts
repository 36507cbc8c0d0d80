import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { basketWire, runBucketArbBacktest, writeBucketArbReport } from '../../backtest/bucket-arb';
import { isBucketArbConfig, readStrategyConfig } from '../../config/strategy';
import { parseBucketArbParams } from '../../domain/strategies/bucket-arb';
import { asCommand, CommandInputError, EXIT, intOption, json, out, requiredString } from './cli-support';

export const BUCKET_ARB_BACKTEST_USAGE = 'kestrel backtest --strategy bucket-arb --snapshots DIR [--file STRATEGY.yaml] [--min-edge DOLLARS] [--folds N] [--train-folds N] [--out DIR] [--json]';

/** Options `kestrel backtest` accepts in addition to its own, for `--strategy bucket-arb` (`--min-edge` is shared with model-edge). */
export const BUCKET_ARB_BACKTEST_OPTIONS = {
  snapshots: { type: 'string' },
  file: { type: 'string' },
  folds: { type: 'string' },
  'train-folds': { type: 'string' },
} as const;

/**
 * `kestrel backtest --strategy bucket-arb`: bucket sums, baskets after fees, how long they stood and
 * a walk-forward over the legacy Kalshi REST snapshots; prints the figures and writes report.md + report.json.
 */
export function runBucketArbBacktestCommand(values: Record<string, string | boolean | undefined>): Promise<number> {
  return asCommand('backtest', BUCKET_ARB_BACKTEST_USAGE, async () => {
    const dir = requiredString(values, 'snapshots');
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CommandInputError(`--snapshots ${dir} is not a directory`);
    let rawParams: Record<string, unknown> = {};
    if (values.file !== undefined) {
      if (typeof values.file !== 'string') throw new CommandInputError('--file needs a strategy version file');
      let version: unknown;
      try {
        version = readStrategyConfig(values.file);
      } catch (e) {
        throw new CommandInputError((e as Error).message);
      }
      if (!isBucketArbConfig(version)) throw new CommandInputError(`--file ${values.file} is not a bucket-arb strategy version (kind: bucket-arb)`);
      rawParams = { ...version.params };
    }
    if (values['min-edge'] !== undefined) {
      if (typeof values['min-edge'] !== 'string') throw new CommandInputError('--min-edge needs a value in dollars');
      rawParams.minEdge = values['min-edge'];
    }
    let params;
    try {
      params = parseBucketArbParams(rawParams);
    } catch (e) {
      throw new CommandInputError((e as Error).message);
    }
    const folds = intOption(values, 'folds', 6, { min: 2, max: 48 });
    const trainSlices = intOption(values, 'train-folds', 2, { min: 1, max: 47 });
    if (trainSlices >= folds) throw new CommandInputError(`--train-folds (${trainSlices}) must be less than --folds (${folds}): each fold needs a later slice to test on`);
    let run;
    try {
      run = await runBucketArbBacktest({ snapshotsDir: dir, params, folds, trainSlices });
    } catch (e) {
      throw new CommandInputError((e as Error).message);
    }
    const outDir = typeof values.out === 'string' ? values.out : path.join('backtest-output', `bucket-arb-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    const files = writeBucketArbReport(outDir, { analysis: run.analysis, walkForward: run.walkForward, params, snapshotsDir: dir, feeSensitivity: run.feeSensitivity });
    const a = run.analysis;
    // Events whose buckets may be exclusive (flagged, or range buckets by strikes or name) are listed; the rest are counted (all are in the report).
    const candidates = a.perEvent.filter((x) => x.mutuallyExclusive === true || x.partition !== null);
    if (values.json) {
      // A summary (the whole analysis is report.json): stdout into a pipe is cut short when the process exits, so it stays small.
      const walk = run.walkForward && { ...run.walkForward, folds: run.walkForward.folds.map(({ candidates: _scores, ...fold }) => fold) };
      json({ examined: a.examined, candidateEvents: candidates, runs: a.runs.map((r) => ({ ...r, first: basketWire(r.first) })), pnl: a.pnl, withTickerPartitions: a.withTickerPartitions, walkForward: walk, files });
      return EXIT.ok;
    }
    const sum = (k: 'beforeFees' | 'afterFees', b: 'yes' | 'no') => a.perEvent.reduce((s, e) => s + e[k][b], 0);
    const snapshots = a.perEvent.reduce((s, e) => s + e.snapshots, 0);
    out(`${a.examined.eventsSeen} events (${a.examined.eventsListed} in event_data.json), ${a.examined.multiBucket} multi-bucket: ${a.examined.multiBucketFlaggedExclusive} flagged mutually exclusive, ${a.examined.multiBucketPartitionByStrikes} with strikes covering every value, ${a.examined.multiBucketPartitionByTickers} range-bucket partitions by ticker names only (exclusivity not recorded)`);
    out(`${snapshots} event snapshots: Σ YES asks < $1 on ${sum('beforeFees', 'yes')}, Σ YES bids > $1 on ${sum('beforeFees', 'no')} (before fees); baskets taken after fees: ${sum('afterFees', 'yes')} YES, ${sum('afterFees', 'no')} NO`);
    out(`events flagged exclusive or range-bucket partitions (Σ over all buckets; "shown" = over the buckets quoted when some are not):`);
    for (const e of candidates) {
      const shown = (x: typeof e.askSumShown) => (x.snapshots === 0 ? '' : ` shown ${x.min}..${x.max} on ${x.buckets} buckets (n=${x.snapshots})`);
      out(`  ${e.source.padEnd(14)} ${e.eventTicker.padEnd(18)} ${String(e.buckets).padStart(2)} buckets  Σasks ${e.askSum.min ?? '-'}..${e.askSum.max ?? '-'} (n=${e.askSum.complete})${shown(e.askSumShown)}  Σbids ${e.bidSum.min ?? '-'}..${e.bidSum.max ?? '-'} (n=${e.bidSum.complete})${shown(e.bidSumShown)}`);
    }
    out(`${a.perEvent.length - candidates.length} other (event, source) pairs are not flagged exclusive and not range buckets: their sums are in the report`);
    out(`opportunity runs ${a.runs.length}, guaranteed P&L at shown depth $${a.pnl.guaranteedProfit} (fees $${a.pnl.fees}), settled ${a.pnl.settledProfit === null ? '- (no results for the quoted periods)' : `$${a.pnl.settledProfit}`}`);
    out(`what-if accepting ticker-name partitions: ${a.withTickerPartitions.yes} YES / ${a.withTickerPartitions.no} NO snapshots, ${a.withTickerPartitions.runs} runs, $${a.withTickerPartitions.guaranteedProfit}`);
    if (run.walkForward) out(`walk-forward over ${run.walkForward.slices.length} time slices (${run.walkForward.folds.length} folds): in-sample $${run.walkForward.inSampleTotal.toFixed(4)}, out-of-sample $${run.walkForward.outOfSampleTotal.toFixed(4)}; minEdge chosen ${run.walkForward.folds.map((f) => f.chosenMinEdge).join(', ')}`);
    out(`report ${files.report}  data ${files.json}`);
    return EXIT.ok;
  });
}
