import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { promotionDecision } from '../domain/signals/performance';
import { ACTIVITY_PRESETS } from './activity-options';

const db = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.boundedJob);

export interface RetrainInput {
  modelName: string;
  /** Training window, then the test window that ends at `asOfMs`. */
  trainWindowMs: number;
  testWindowMs: number;
  horizonMs: number;
  priorCount: number;
  /** Out-of-sample may fall at most this fraction below in-sample. */
  maxShortfall: number;
  /** Fewer resolved outcomes than this in either window: no model is made. */
  minOutcomes: number;
  /**
   * End of the test window in the data's time: an exchange time to retrain on recorded data as it
   * stood then (only outcomes due by then count). Absent (the schedule, live): workflow time now.
   */
  asOfMs?: number;
}

export interface RetrainResult {
  status: 'promoted' | 'rejected' | 'unchanged' | 'insufficient_data';
  reason: string;
  runId: number;
  modelVersion?: string;
}

/**
 * Scheduled retraining (Temporal Schedule, overlap SKIP): refit signal weights on the latest
 * training window, score them on the following test window (walk-forward), make an immutable model
 * version, and promote it only if its out-of-sample edge is within the bound of its in-sample edge
 * and beats the active version. Every run is recorded, whatever it decided.
 */
export async function retrainSignalWeightsWorkflow(input: RetrainInput): Promise<RetrainResult> {
  if (input.asOfMs !== undefined && !Number.isFinite(input.asOfMs)) throw wf.ApplicationFailure.nonRetryable(`asOfMs must be a time in ms, got ${String(input.asOfMs)}`, 'InvalidRetrainInput');
  const asOf = input.asOfMs ?? Date.now(); // recorded data: the exchange time given; live: workflow time
  const testFromMs = asOf - input.testWindowMs;
  const trainFromMs = testFromMs - input.trainWindowMs;
  const window = { trainFromMs, testFromMs, testToMs: asOf };
  const base = { workflowId: wf.workflowInfo().workflowId, modelName: input.modelName, ...window };
  // Same activities in the same order whether or not asOfMs is given: no patch needed for running histories.
  const fit = await db.fitSignalWeights({ ...window, horizonMs: input.horizonMs, priorCount: input.priorCount, ...(input.asOfMs !== undefined ? { knownByMs: input.asOfMs } : {}) });
  const counts = { trainOutcomes: fit.trainOutcomes, testOutcomes: fit.testOutcomes };
  if (fit.trainOutcomes < input.minOutcomes || fit.testOutcomes < input.minOutcomes) {
    const reason = `${fit.trainOutcomes} training and ${fit.testOutcomes} test outcomes (need ${input.minOutcomes} each)`;
    return { status: 'insufficient_data', reason, runId: await db.recordRetrainingRun({ ...base, ...counts, status: 'insufficient_data', reason }) };
  }
  const active = await db.activeModel(input.modelName);
  const scores = { inSample: fit.inSample, outOfSample: fit.outOfSample, activeVersionId: active?.id, activeOutOfSample: active?.outOfSample };
  const candidate = await db.createModelCandidate({
    modelName: input.modelName,
    parameters: { weights: fit.weights, horizonMs: input.horizonMs, priorCount: input.priorCount },
    metrics: { inSample: fit.inSample, outOfSample: fit.outOfSample, ...counts, ...window },
  });
  if (!candidate) {
    const reason = 'the refit weights equal the latest version';
    return { status: 'unchanged', reason, runId: await db.recordRetrainingRun({ ...base, ...counts, ...scores, status: 'unchanged', reason }) };
  }
  const decision = promotionDecision(fit, active ?? undefined, { maxShortfall: input.maxShortfall });
  await db.decideModel({ id: candidate.id, promote: decision.promote, reason: decision.reason });
  const status = decision.promote ? 'promoted' : 'rejected';
  const runId = await db.recordRetrainingRun({ ...base, ...counts, ...scores, status, reason: decision.reason, modelVersionId: candidate.id });
  return { status, reason: decision.reason, runId, modelVersion: candidate.version };
}
