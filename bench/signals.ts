import { CorrelationMatrix } from '../domain/signals/correlation-matrix';
import { correlationMatrixStateSchema } from '../domain/signals/engine-state';
import { pearsonTwoPass } from '../domain/signals/rolling-correlation';
import { seededRandom as rng } from '../domain/random';
import { decodeCheckpoint, encodeCheckpoint } from '../workers/signals/checkpoint-codec';

/**
 * Correlation cost for `markets` markets × `points` samples (one window of `points`): a full
 * refresh of every pair, the incremental per-sample update of every pair, and the two-pass
 * reference over the same data, timed in the same run.
 */
export async function benchSignals(opts: { markets?: number; points?: number; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const markets = opts.markets ?? 500;
  const points = opts.points ?? 1000;
  const rand = rng(2026);
  const names = Array.from({ length: markets }, (_, i) => `M${i}`);
  // Random walks with a shared factor for a tenth of the markets, so correlations are not all ~0.
  const series = names.map(() => new Float64Array(points + 200));
  for (let t = 0; t < points + 200; t++) {
    const common = rand() - 0.5;
    for (let i = 0; i < markets; i++) series[i]![t] = (i % 10 === 0 ? common : 0) + rand() - 0.5;
  }
  const pairs = (markets * (markets - 1)) / 2;
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const matrix = new CorrelationMatrix(names, [points]);
  const column = new Float64Array(markets);
  const fill = (t: number) => {
    for (let i = 0; i < markets; i++) column[i] = series[i]![t]!;
    matrix.push(column);
  };
  opts.log(`filling ${markets} markets × ${points} points (${pairs} pairs)`);
  for (let t = 0; t < points; t++) fill(t);
  global.gc?.();
  const memoryBytes = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;

  let start = process.hrtime.bigint();
  matrix.refresh();
  const refreshMs = Number(process.hrtime.bigint() - start) / 1e6;
  opts.log(`full refresh: ${refreshMs.toFixed(0)} ms`);

  const window = (i: number, from: number) => series[i]!.subarray(from, from + points);
  start = process.hrtime.bigint();
  let checksum = 0;
  for (let i = 0; i < markets; i++) for (let j = i + 1; j < markets; j++) checksum += pearsonTwoPass(window(i, 0), window(j, 0)) ?? 0;
  const twoPassMs = Number(process.hrtime.bigint() - start) / 1e6;
  opts.log(`two-pass reference over all pairs: ${twoPassMs.toFixed(0)} ms`);

  // Agreement on a sample of pairs (the unit tests check every pair to 1e-9 on smaller data).
  let worst = 0;
  for (let k = 0; k < 200; k++) {
    const i = Math.floor(rand() * markets);
    const j = (i + 1 + Math.floor(rand() * (markets - 1))) % markets;
    worst = Math.max(worst, Math.abs(matrix.correlation(names[i]!, names[j]!, 0)! - pearsonTwoPass(window(i, 0), window(j, 0))!));
  }

  const steps = 100;
  start = process.hrtime.bigint();
  for (let t = points; t < points + steps; t++) fill(t);
  const incrementalMs = Number(process.hrtime.bigint() - start) / 1e6 / steps;
  opts.log(`incremental: ${incrementalMs.toFixed(2)} ms per sample step (all ${pairs} pairs)`);
  let driftWorst = 0;
  for (let k = 0; k < 200; k++) {
    const i = Math.floor(rand() * markets);
    const j = (i + 1 + Math.floor(rand() * (markets - 1))) % markets;
    driftWorst = Math.max(driftWorst, Math.abs(matrix.correlation(names[i]!, names[j]!, 0)! - pearsonTwoPass(window(i, steps), window(j, steps))!));
  }

  // What a signal-engine checkpoint costs for this matrix: state → binary checkpoint (JSON + raw doubles) → validated state, exactly.
  start = process.hrtime.bigint();
  const checkpoint = encodeCheckpoint(matrix.toState());
  const checkpointWriteMs = Number(process.hrtime.bigint() - start) / 1e6;
  start = process.hrtime.bigint();
  const restored = CorrelationMatrix.fromState(correlationMatrixStateSchema.parse(decodeCheckpoint(checkpoint)));
  const checkpointReadMs = Number(process.hrtime.bigint() - start) / 1e6;
  const restoredExactly = names.slice(0, 20).every((a, i) => names.slice(i + 1, 21).every((b) => restored.correlation(a, b, 0) === matrix.correlation(a, b, 0))) && encodeCheckpoint(restored.toState()).equals(checkpoint);
  opts.log(`checkpoint: ${(checkpoint.length / 1e6).toFixed(1)} MB (JSON + raw doubles), ${checkpointWriteMs.toFixed(0)} ms to write, ${checkpointReadMs.toFixed(0)} ms to read back${restoredExactly ? ' (bit-identical)' : ' (NOT identical)'}`);

  return {
    bench: 'signals',
    markets,
    points,
    pairs,
    fullRefreshMs: Math.round(refreshMs),
    twoPassAllPairsMs: Math.round(twoPassMs),
    refreshOverTwoPass: Number((refreshMs / twoPassMs).toFixed(3)),
    incrementalStepMs: Number(incrementalMs.toFixed(3)),
    incrementalNsPerPair: Number(((incrementalMs * 1e6) / pairs).toFixed(1)),
    incrementalOverTwoPassRecompute: Number((incrementalMs / twoPassMs).toFixed(5)),
    maxDeviationFromTwoPass: worst,
    maxDeviationAfterSteps: driftWorst,
    matrixBytes: matrix.byteLength,
    memoryBytes,
    checkpointBytes: checkpoint.length,
    checkpointWriteMs: Math.round(checkpointWriteMs),
    checkpointReadMs: Math.round(checkpointReadMs),
    checkpointRestoredExactly: restoredExactly,
    checksum: Number(checksum.toFixed(6)),
  };
}
