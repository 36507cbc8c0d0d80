import { desc, eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { retrainingRuns } from '../db/schema';
import { outcomeRows } from '../db/signals-repo';
import { activeVersion, createVersion, transitionVersion } from '../db/versions-repo';
import { ValidationError } from '../domain/errors';
import { deriveWeights, performanceMatrix, scoreWeights, type SignalWeight } from '../domain/signals/performance';

export interface WeightsFit {
  weights: SignalWeight[];
  inSample: number;
  outOfSample: number;
  trainOutcomes: number;
  testOutcomes: number;
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
  return {
    /**
     * Fits weights on the training window's resolved outcomes and scores them there and on the test
     * window. Windows select signals by their fired (exchange) time; `knownByMs` (a run as of a time
     * on recorded data) also drops outcomes due after it, which only data past it could have resolved.
     */
    async fitSignalWeights(input: { trainFromMs: number; testFromMs: number; testToMs: number; horizonMs: number; priorCount: number; knownByMs?: number }): Promise<WeightsFit> {
      const train = await outcomeRows(deps.db, { fromMs: input.trainFromMs, toMs: input.testFromMs, knownByMs: input.knownByMs });
      const test = await outcomeRows(deps.db, { fromMs: input.testFromMs, toMs: input.testToMs, knownByMs: input.knownByMs });
      const weights = deriveWeights(performanceMatrix(train), input.horizonMs, input.priorCount);
      const count = (rows: typeof train) => rows.filter((r) => r.horizonMs === input.horizonMs).length;
      return { weights, inSample: scoreWeights(weights, train, input.horizonMs).score, outOfSample: scoreWeights(weights, test, input.horizonMs).score, trainOutcomes: count(train), testOutcomes: count(test) };
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
