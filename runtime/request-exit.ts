import type { Client } from '@temporalio/client';
import { requestExitUpdate, type ManualExitRequest } from '../workflows/position';

/** What the position workflow answered: accepted with its result, or refused with the validator's reason. */
export type ExitRequestOutcome =
  | { accepted: true; result: { accepted: true; positionId: string; urgency: ManualExitRequest['urgency'] } }
  | { accepted: false; error: string };

/**
 * Asks a position workflow for a manual exit through its requestExit Update. A validator rejection
 * (already closed, still entering, an exit already pending) or an unknown position comes back as
 * `accepted: false` with the reason; nothing changes then (rejected Updates never reach history).
 */
export async function requestPositionExit(client: Client, positionId: string, request: ManualExitRequest): Promise<ExitRequestOutcome> {
  try {
    const result = await client.workflow.getHandle(positionId).executeUpdate(requestExitUpdate, { args: [request] });
    return { accepted: true, result };
  } catch (e) {
    // The SDK wraps the validator's error: its message is the reason.
    return { accepted: false, error: (e as { cause?: Error }).cause?.message ?? (e as Error).message };
  }
}
