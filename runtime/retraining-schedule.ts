import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { KestrelConfig } from '../config/schema';
import type { RetrainInput } from '../workflows/retraining';

export function retrainInput(config: KestrelConfig, priorCount = config.signals.weightPriorCount): RetrainInput {
  const r = config.retraining;
  return { modelName: r.modelName, trainWindowMs: r.trainWindowMs, testWindowMs: r.testWindowMs, horizonMs: r.horizonMs, priorCount, maxShortfall: r.maxShortfall, minOutcomes: r.minOutcomes };
}

/**
 * Creates the retraining schedule, or brings an existing one up to date (interval, input). Runs
 * never overlap: a run still going when the next is due makes that one skip.
 */
export async function ensureRetrainingSchedule(client: Client, config: KestrelConfig): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = config.retraining.scheduleId;
  const action = { type: 'startWorkflow' as const, workflowType: 'retrainSignalWeightsWorkflow', args: [retrainInput(config)], taskQueue: config.temporal.taskQueue, workflowId: `retrain/${config.retraining.modelName}` };
  const spec = { intervals: [{ every: config.retraining.everyMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: config.retraining.everyMs };
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.describe();
    await handle.update((previous) => ({ ...previous, spec, action, policies }));
    return { scheduleId, created: false };
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create({ scheduleId, spec, action, policies });
    return { scheduleId, created: true };
  }
}
