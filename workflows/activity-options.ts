import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Named activity-option presets. Every preset states its timeouts and retry policy explicitly;
 * non-retryable error types are the ones activities/failures.ts marks non-retryable anyway, listed
 * again so a mis-mapped error still cannot loop.
 */
const NON_RETRYABLE = ['ValidationError', 'AuthenticationError', 'PermissionDenied', 'BadRequest', 'InvalidOrder', 'InsufficientFunds', 'MarketClosed'];

export const ACTIVITY_PRESETS = {
  /** Postgres writes: short, idempotent, retried with backoff for a few minutes. */
  databaseWrite: {
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '5 minutes',
    retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
  /** Venue reads (books, markets): quick, retried. */
  venueRead: {
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: '2 minutes',
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '15 seconds', nonRetryableErrorTypes: NON_RETRYABLE },
  },
  /** Order submission: idempotent by client order id, so a retry never double-submits. */
  venueOrder: {
    startToCloseTimeout: '10 seconds',
    scheduleToCloseTimeout: '1 minute',
    retry: { initialInterval: '250 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
  },
} as const satisfies Record<string, ActivityOptions>;
