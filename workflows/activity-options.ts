import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Named activity-option presets. Every preset states its timeouts and retry policy explicitly;
 * non-retryable error types are the ones activities/failures.ts marks non-retryable anyway, listed
 * again so a mis-mapped error still cannot loop. Retryable failures (a database or venue outage,
 * a paused exchange) are retried until they pass, with no overall deadline: every activity is
 * idempotent, and a position workflow that gave up would be a position the engine forgot. A long
 * outage shows as the activity's attempt count (and last failure) in the Temporal UI.
 */
const NON_RETRYABLE = ['ValidationError', 'AuthenticationError', 'PermissionDenied', 'BadRequest', 'InvalidOrder', 'InsufficientFunds', 'MarketClosed'];

export const ACTIVITY_PRESETS = {
  /** Postgres writes: short, idempotent, retried with backoff until the database is back. */
  databaseWrite: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
  /** Scheduled jobs that may fail for good (a retraining run): retried for a few minutes, then the run fails and says why. */
  boundedJob: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '5 minutes',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
  /** Venue reads (books, markets, order states): quick, retried until the venue answers. */
  venueRead: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
  /** Order submission: idempotent by client order id, so a retry never double-submits. */
  venueOrder: {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '250 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
} as const satisfies Record<string, ActivityOptions>;
