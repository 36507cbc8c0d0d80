import type { Client } from '@temporalio/client';
import { circuitBreakerSignal } from '../workflows/position';

/**
 * Emergency exit: every position workflow that may hold contracts gets the circuit-breaker signal,
 * which makes its next evaluation a CRITICAL exit. Found through the KestrelPositionStatus search
 * attribute, so it reaches positions on any worker.
 */
export async function flattenAll(client: Client, reason: string): Promise<string[]> {
  const signaled: string[] = [];
  const query = `WorkflowType = 'positionWorkflow' AND ExecutionStatus = 'Running' AND KestrelPositionStatus IN ('open', 'exiting', 'entering')`;
  for await (const wf of client.workflow.list({ query })) {
    await client.workflow.getHandle(wf.workflowId).signal(circuitBreakerSignal, reason);
    signaled.push(wf.workflowId);
  }
  return signaled;
}
