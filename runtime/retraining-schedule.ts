import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { KestrelConfig } from '../config/schema';
import { signalFitSettings } from '../config/signal-model';
import type { RetrainInput } from '../workflows/retraining';

/**
 * The retraining input from config. `asOfMs` (an exchange time) retrains on recorded data as it stood
 * then; without it (the schedule) the windows end at workflow time now.
 */
export function retrainInput(config: KestrelConfig, opts: { priorCount?: number; asOfMs?: number } = {}): RetrainInput {
  const r = config.retraining;
  const priorCount = opts.priorCount ?? config.signals.weightPriorCount;
  const input: RetrainInput = { modelName: r.modelName, trainWindowMs: r.trainWindowMs, testWindowMs: r.testWindowMs, horizonMs: r.horizonMs, priorCount, maxShortfall: r.maxShortfall, minOutcomes: r.minOutcomes, fit: { ...signalFitSettings(config), priorCount } };
  return opts.asOfMs === undefined ? input : { ...input, asOfMs: opts.asOfMs };
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
