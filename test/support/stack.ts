import { startStack, type Stack } from '../../runtime/stack';
import { getHarness } from './harness';

/**
 * Starts a full stack (Temporal worker, BullMQ workers, paper exchange) for a mocha suite on the shared
 * test services, and stops it after the suite; returns an accessor valid inside tests.
 */
export function useStack(overrides: Record<string, unknown> = {}, setup?: (stack: Stack) => Promise<void>): () => Stack {
  let stack: Stack | undefined;
  before(async () => {
    const harness = await getHarness();
    stack = await startStack(harness.config(overrides), { workflowBundle: harness.workflowBundle });
    await setup?.(stack);
  });
  after(() => stack?.shutdown());
  return () => {
    if (!stack) throw new Error('stack not started (useStack must be called inside describe)');
    return stack;
  };
}
