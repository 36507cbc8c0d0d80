import { desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { modelVersions, retrainingRuns } from '../db/schema';
import { outcomeRows } from '../db/signals-repo';
import { activeVersion, createVersion, transitionVersion } from '../db/versions-repo';
import { ValidationError } from '../domain/errors';
import { fitAndScore, parseSignalModel, scoreSignalModel, signalModelFitSettingsSchema, type SignalModelFitSettings } from '../domain/signals/model';
import type { SignalWeight } from '../domain/signals/performance';

/** The fit settings of a retraining input, checked (the horizon and prior count of the input win). */
function fitSettingsOf(input: FitWindowInput): SignalModelFitSettings {
  if (!input.fit) throw new ValidationError('the retraining input has no model fit settings (it predates threshold fitting): run `kestrel retrain schedule` or `kestrel up` to refresh the schedule');
  const parsed = signalModelFitSettingsSchema.safeParse({ ...input.fit, horizonMs: input.horizonMs, priorCount: input.priorCount });
  if (!parsed.success) throw new ValidationError(`invalid model fit settings: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export interface WeightsFit {
  /** Weights and thresholds per signal type × category (domain/signals/model.ts). */
  weights: SignalWeight[];
  /** Mean P&L after fees per acted-on signal (price units per contract) on the training and test windows. */
  inSample: number;
  outOfSample: number;
  /** How many signals the fit acted on in each window. */
  inSampleSignals: number;
  outOfSampleSignals: number;
  /** Resolved outcomes at the horizon in each window. */
  trainOutcomes: number;
  testOutcomes: number;
}

export interface FitWindowInput {
  trainFromMs: number;
  testFromMs: number;
  testToMs: number;
  horizonMs: number;
  priorCount: number;
  knownByMs?: number;
  /** How the model is fitted; inputs from before thresholds were fitted lack it. */
  fit?: SignalModelFitSettings;
}

export interface RetrainingRunRecord {
  workflowId: string;
  modelName: string;
  status: 'promoted' | 'rejected' | 'unchanged' | 'insufficient_data';
  modelVersionId?: number;
  activeVersionId?: number;
  inSample?: number;
  outOfSample?: number;
  activeOutOfSample?: number;
  trainOutcomes: number;
  testOutcomes: number;
  reason: string;
  trainFromMs: number;
  testFromMs: number;
  testToMs: number;
}

export function createRetrainingActivities(deps: { db: Database }) {
  const windowRows = async (input: FitWindowInput) => ({
    train: await outcomeRows(deps.db, { fromMs: input.trainFromMs, toMs: input.testFromMs, knownByMs: input.knownByMs }),
    test: await outcomeRows(deps.db, { fromMs: input.testFromMs, toMs: input.testToMs, knownByMs: input.knownByMs }),
  });
  return {
    /**
     * Fits thresholds and weights on the training window's resolved outcomes (the one fit of
     * domain/signals/model.ts) and scores them there and on the test window. Windows select signals
     * by their fired (exchange) time; `knownByMs` (a run as of a time on recorded data) also drops
     * outcomes due after it, which only data past it could have resolved.
     */
    async fitSignalWeights(input: FitWindowInput): Promise<WeightsFit> {
      const settings = fitSettingsOf(input);
      const { train, test } = await windowRows(input);
      const { weights, inSample, outOfSample } = fitAndScore(train, test, settings);
      const count = (rows: typeof train) => rows.filter((r) => r.horizonMs === input.horizonMs).length;
      return { weights, inSample: inSample.edge, outOfSample: outOfSample.edge, inSampleSignals: inSample.acted, outOfSampleSignals: outOfSample.acted, trainOutcomes: count(train), testOutcomes: count(test) };
    },

    /** A stored model version's parameters scored on a test window: the active version judged on the candidate's window. */
    async scoreModelOnWindow(input: FitWindowInput & { versionId: number }): Promise<{ outOfSample: number; acted: number }> {
      const settings = fitSettingsOf(input);
      const [row] = await deps.db.select({ parameters: modelVersions.parameters, version: modelVersions.version }).from(modelVersions).where(eq(modelVersions.id, input.versionId));
      if (!row) throw new ValidationError(`no model version with id ${input.versionId}`);
      const weights = parseSignalModel(row.parameters, `model version ${row.version}`);
      const { test } = await windowRows(input);
      const score = scoreSignalModel(weights, test, settings);
      return { outOfSample: score.edge, acted: score.acted };
    },

    async activeModel(modelName: string): Promise<{ id: number; version: string; outOfSample: number } | null> {
      const active = await activeVersion(deps.db, 'model', modelName);
      if (!active) return null;
      const [row] = await deps.db.select().from(retrainingRuns).where(eq(retrainingRuns.modelVersionId, active.id)).orderBy(desc(retrainingRuns.id)).limit(1);
      return { id: active.id, version: active.version, outOfSample: row?.outOfSample ?? 0 };
    },

    /** A new immutable model version in `validating`; `null` when the latest version already has these parameters. */
    async createModelCandidate(input: { modelName: string; parameters: Record<string, unknown>; metrics: Record<string, unknown> }): Promise<{ id: number; version: string } | null> {
      try {
        const v = await createVersion(deps.db, 'model', input.modelName, input.parameters, input.metrics);
        await transitionVersion(deps.db, 'model', v.id, 'training', 'retraining: fitted');
        await transitionVersion(deps.db, 'model', v.id, 'validating', 'retraining: scored out of sample');
        return { id: v.id, version: v.version };
      } catch (err) {
        if (err instanceof ValidationError && /already has exactly this content/.test(err.message)) return null;
        throw err;
      }
    },

    async decideModel(input: { id: number; promote: boolean; reason: string }): Promise<void> {
      await transitionVersion(deps.db, 'model', input.id, input.promote ? 'active' : 'deprecated', input.reason);
    },

    async recordRetrainingRun(r: RetrainingRunRecord): Promise<number> {
      const [row] = await deps.db
        .insert(retrainingRuns)
        .values({ workflowId: r.workflowId, modelName: r.modelName, status: r.status, modelVersionId: r.modelVersionId ?? null, activeVersionId: r.activeVersionId ?? null, inSample: r.inSample ?? null, outOfSample: r.outOfSample ?? null, activeOutOfSample: r.activeOutOfSample ?? null, trainOutcomes: r.trainOutcomes, testOutcomes: r.testOutcomes, reason: r.reason, trainFrom: new Date(r.trainFromMs), testFrom: new Date(r.testFromMs), testTo: new Date(r.testToMs) })
        .returning({ id: retrainingRuns.id });
      return row!.id;
    },
  };
}
