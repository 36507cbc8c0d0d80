import { ApplicationFailure } from '@temporalio/common';
import { KestrelError } from '../domain/errors';

/**
 * Converts domain/venue errors into Temporal failures so the retry policy sees the right thing:
 * non-retryable classes fail the activity at once; retryable ones are retried by Temporal.
 */
export function toActivityFailure(err: unknown): unknown {
  if (err instanceof KestrelError) {
    return err.retryable
      ? ApplicationFailure.retryable(err.message, err.name)
      : ApplicationFailure.nonRetryable(err.message, err.name);
  }
  return err;
}

/** Wraps every activity of a set so thrown errors are mapped once, in one place. */
export function withFailureMapping<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}
