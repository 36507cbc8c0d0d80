import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities';
import { SIGNAL_MODEL_OBJECTIVE, type SignalModelFitSettings } from '../domain/signals/model';
import { promotionDecision } from '../domain/signals/performance';
import { ACTIVITY_PRESETS } from './activity-options';

const db: RetrainActivities = wf.proxyActivities<Activities>(ACTIVITY_PRESETS.boundedJob);

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
  /**
   * How thresholds and weights are fitted (runtime/retraining-schedule.ts fills it from config);
   * inputs written before thresholds were fitted lack it, and their fit fails with a clear error.
   */
  fit?: SignalModelFitSettings;
}

export interface RetrainResult {
  status: 'promoted' | 'rejected' | 'unchanged' | 'insufficient_data';
  reason: string;
  runId: number;
  modelVersion?: string;
  /** The version signal strategies trade under after this run (none: no active model, they do not enter). */
  activeVersion?: string;
}

/**
 * Scheduled retraining (Temporal Schedule, overlap SKIP): refit signal thresholds and weights on the
 * latest training window, score them on the following test window (walk-forward), make an immutable
 * model version, and promote it only if its out-of-sample edge is positive, within the bound of its
 * in-sample edge, and beats the active version on the same test window. Every run is recorded,
 * whatever it decided.
 */
export async function retrainSignalWeightsWorkflow(input: RetrainInput): Promise<RetrainResult> {
  if (input.asOfMs !== undefined && !Number.isFinite(input.asOfMs)) throw wf.ApplicationFailure.nonRetryable(`asOfMs must be a time in ms, got ${String(input.asOfMs)}`, 'InvalidRetrainInput');
  // Recorded data: the exchange time given; live: workflow time.
  return retrainSteps(input, db, { workflowId: wf.workflowInfo().workflowId, nowMs: Date.now(), patched: (id) => wf.patched(id) });
}

/** The activities a retraining run calls (the workflow proxies them; a bench on recorded data may call them directly). */
export type RetrainActivities = Pick<Activities, 'fitSignalWeights' | 'activeModel' | 'scoreModelOnWindow' | 'createModelCandidate' | 'decideModel' | 'recordRetrainingRun'>;

/**
 * One retraining run's steps, the workflow's body: deterministic given the activities' answers.
 * `patched` is the workflow's `wf.patched` (a direct caller has no old histories: always true).
 */
export async function retrainSteps(input: RetrainInput, db: RetrainActivities, ctx: { workflowId: string; nowMs: number; patched: (id: string) => boolean }): Promise<RetrainResult> {
  const asOf = input.asOfMs ?? ctx.nowMs;
  const testFromMs = asOf - input.testWindowMs;
  const trainFromMs = testFromMs - input.trainWindowMs;
  const window = { trainFromMs, testFromMs, testToMs: asOf };
  const base = { workflowId: ctx.workflowId, modelName: input.modelName, ...window };
  // Same activities in the same order whether or not asOfMs is given: no patch needed for running histories.
  const fitInput = { ...window, horizonMs: input.horizonMs, priorCount: input.priorCount, ...(input.fit ? { fit: input.fit } : {}), ...(input.asOfMs !== undefined ? { knownByMs: input.asOfMs } : {}) };
  const fit = await db.fitSignalWeights(fitInput);
  const counts = { trainOutcomes: fit.trainOutcomes, testOutcomes: fit.testOutcomes };
  if (fit.trainOutcomes < input.minOutcomes || fit.testOutcomes < input.minOutcomes) {
    const reason = `not enough data: ${fit.trainOutcomes} training and ${fit.testOutcomes} test outcomes resolved at +${input.horizonMs / 60_000} min (need ${input.minOutcomes} each, retraining.minOutcomes)`;
    return { status: 'insufficient_data', reason, runId: await db.recordRetrainingRun({ ...base, ...counts, status: 'insufficient_data', reason }) };
  }
  const active = await db.activeModel(input.modelName);
  // The active version is judged on the candidate's own test window, not on its stored score from
  // an older window (histories started before this compared with that stored score).
  let activeOnWindow: { version: string; outOfSample: number } | undefined;
  if (active) {
    if (ctx.patched('retrain-judges-active-on-same-window')) {
      const scored = await db.scoreModelOnWindow({ ...fitInput, versionId: active.id });
      activeOnWindow = { version: active.version, outOfSample: scored.outOfSample };
    } else activeOnWindow = { version: active.version, outOfSample: active.outOfSample };
  }
  const scores = { inSample: fit.inSample, outOfSample: fit.outOfSample, activeVersionId: active?.id, activeOutOfSample: activeOnWindow?.outOfSample };
  const candidate = await db.createModelCandidate({
    modelName: input.modelName,
    parameters: { weights: fit.weights, horizonMs: input.horizonMs, priorCount: input.priorCount, ...(input.fit ? { minCount: input.fit.minCount, takerFeeRate: input.fit.takerFeeRate, objective: SIGNAL_MODEL_OBJECTIVE } : {}) },
    metrics: { inSample: fit.inSample, outOfSample: fit.outOfSample, inSampleSignals: fit.inSampleSignals, outOfSampleSignals: fit.outOfSampleSignals, ...counts, ...window },
  });
  if (!candidate) {
    const reason = 'the refit thresholds and weights equal the latest version: nothing new to judge';
    return { status: 'unchanged', reason, runId: await db.recordRetrainingRun({ ...base, ...counts, ...scores, status: 'unchanged', reason }), ...(active ? { activeVersion: active.version } : {}) };
  }
  const decision = promotionDecision(fit, activeOnWindow, { maxShortfall: input.maxShortfall });
  await db.decideModel({ id: candidate.id, promote: decision.promote, reason: decision.reason });
  const status = decision.promote ? 'promoted' : 'rejected';
  const runId = await db.recordRetrainingRun({ ...base, ...counts, ...scores, status, reason: decision.reason, modelVersionId: candidate.id });
  const activeAfter = decision.promote ? candidate.version : active?.version;
  return { status, reason: decision.reason, runId, modelVersion: candidate.version, ...(activeAfter ? { activeVersion: activeAfter } : {}) };
}
