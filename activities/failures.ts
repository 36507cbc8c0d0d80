import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { KestrelError } from '../domain/errors';
import { isConnectionError } from '../db/transactions';

/** The failure type of an activity that lost its database connection (Temporal retries it). */
export const DATABASE_UNAVAILABLE = 'DatabaseUnavailable';

/**
 * Converts domain/venue errors into Temporal failures so the retry policy sees the right thing:
 * non-retryable classes fail the activity at once; retryable ones (and a lost database connection)
 * are retried by Temporal.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof KestrelError) {
    return err.retryable
      ? ApplicationFailure.retryable(err.message, err.name)
      : ApplicationFailure.nonRetryable(err.message, err.name);
  }
  // Named for what it is, so a connection dropped under a query is never taken for a bad request.
  if (isConnectionError(err)) return ApplicationFailure.retryable(`database unavailable: ${(err as Error).message}`, DATABASE_UNAVAILABLE);
  return err;
}

/** Workflow and activity ids of the running activity, for log lines (none outside an activity). */
function activityIds(): Record<string, unknown> {
  try {
    const info = Context.current().info;
    return { workflowId: info.workflowExecution?.workflowId, runId: info.workflowExecution?.runId, activity: info.activityType, attempt: info.attempt };
  } catch {
    return {};
  }
}

/** Wraps every activity of a set so thrown errors are mapped (and logged with their workflow id) once, in one place. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, logger?: Logger): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        const result = await fn(...args);
        logger?.debug(activityIds(), `activity ${name} completed`);
        return result;
      } catch (err) {
        logger?.warn({ ...activityIds(), err: (err as Error).message }, `activity ${name} failed`);
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}
