import { z } from 'zod';
import {
  AuthenticationError,
  BadRequest,
  DuplicateOrder,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  MarketClosed,
  OrderNotFound,
  PermissionDenied,
  RateLimitExceeded,
  VenueError,
} from '../../domain/errors';
import { errorFromTable, type VenueErrorClass } from '../error-table';

/**
 * Kalshi's errors as a table (ccxt's `exceptions: { exact, broad }`): `exact` is keyed by the error
 * `code` Kalshi returns, `broad` by a phrase of the message, `status` by HTTP status when neither
 * matched. The class decides retryability (activities/failures.ts); the emulator answers with the
 * same codes, so one table serves both sides.
 */
export const KALSHI_ERRORS = {
  exact: {
    invalid_parameters: BadRequest,
    missing_parameters: BadRequest,
    bad_request: BadRequest,
    request_too_large: BadRequest,
    invalid_order: InvalidOrder,
    invalid_price: InvalidOrder,
    invalid_count: InvalidOrder,
    post_only_cross: InvalidOrder,
    reduce_only_violation: InvalidOrder,
    order_already_exists: DuplicateOrder,
    duplicate_client_order_id: DuplicateOrder,
    insufficient_balance: InsufficientFunds,
    market_closed: MarketClosed,
    market_not_open: MarketClosed,
    trading_paused: ExchangeNotAvailable,
    exchange_closed: ExchangeNotAvailable,
    not_found: OrderNotFound,
    order_not_found: OrderNotFound,
    market_not_found: BadRequest,
    unauthorized: AuthenticationError,
    invalid_signature: AuthenticationError,
    forbidden: PermissionDenied,
    too_many_requests: RateLimitExceeded,
    internal_server_error: ExchangeNotAvailable,
    service_unavailable: ExchangeNotAvailable,
  } satisfies Record<string, VenueErrorClass>,
  broad: {
    'insufficient balance': InsufficientFunds,
    'market is closed': MarketClosed,
    'already exists': DuplicateOrder,
    'not found': OrderNotFound,
  } satisfies Record<string, VenueErrorClass>,
  status: {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: OrderNotFound,
    409: DuplicateOrder,
    413: BadRequest,
    422: InvalidOrder,
    429: RateLimitExceeded,
    500: ExchangeNotAvailable,
    502: ExchangeNotAvailable,
    503: ExchangeNotAvailable,
    504: ExchangeNotAvailable,
  } satisfies Record<number, VenueErrorClass>,
} as const;

export type KalshiErrorCode = keyof typeof KALSHI_ERRORS.exact;

// The spec's ErrorResponse is `{code, message, details, service}`; the live API wraps it as `{error: {...}}`.
const errorFields = z.object({ code: z.string().optional(), message: z.string().optional(), details: z.string().optional() }).passthrough();
const errorBodySchema = z.union([z.object({ error: errorFields }).passthrough().transform((b) => b.error), errorFields]);

/** Maps a Kalshi HTTP failure to the typed error hierarchy: exact code, then message phrase, then status. */
export function kalshiErrorFor(status: number, body: unknown, context: string, retryAfterMs?: number): VenueError {
  const parsed = errorBodySchema.safeParse(body);
  const fields = parsed.success ? parsed.data : {};
  const detail = parsed.success ? [fields.code, fields.message, fields.details].filter(Boolean).join(': ') : typeof body === 'string' ? body.slice(0, 300) : '';
  const message = `${context}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  return errorFromTable(KALSHI_ERRORS, { status, code: fields.code ?? '', text: `${fields.message ?? ''} ${fields.details ?? ''}`, context, message, retryAfterMs, otherClientError: VenueError });
}

/** Kalshi's error body for a code, as the spec's ErrorResponse (the emulator answers with it). */
export function kalshiErrorBody(code: KalshiErrorCode, message: string, details?: string): { error: { code: string; message: string; details?: string; service: string } } {
  return { error: { code, message, ...(details ? { details } : {}), service: 'exchange' } };
}
