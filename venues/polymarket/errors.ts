import {
  AuthenticationError,
  BadRequest,
  DuplicateOrder,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidOrder,
  OrderNotFound,
  PermissionDenied,
  RateLimitExceeded,
  type VenueError,
} from '../../domain/errors';
import { errorFromTable, type VenueErrorClass } from '../error-table';

/**
 * Polymarket CLOB errors as a table, like venues/kalshi/errors.ts: `exact` by the order error code
 * a POST /order answers with (`errorMsg`), `broad` by a phrase of the message (the CLOB answers
 * `{"error": "<message>"}`), `status` by HTTP status when neither matched. The class decides
 * retryability (activities/failures.ts).
 *
 * Retryable on purpose: 425 (the matching engine is restarting: every order endpoint answers 425
 * until it is back), the two minutes of post-only mode after each restart (a non-post-only order is
 * refused then), cancel-only and paused trading, and a delayed or failed execution.
 */
export const POLYMARKET_ERRORS = {
  exact: {
    INVALID_ORDER_MIN_TICK_SIZE: InvalidOrder,
    INVALID_ORDER_MIN_SIZE: InvalidOrder,
    INVALID_ORDER_EXPIRATION: InvalidOrder,
    INVALID_ORDER_ERROR: InvalidOrder,
    INVALID_POST_ONLY_ORDER_TYPE: InvalidOrder,
    /** A post-only order that would have crossed the book. */
    INVALID_POST_ONLY_ORDER: InvalidOrder,
    INVALID_ORDER_DUPLICATED: DuplicateOrder,
    INVALID_ORDER_NOT_ENOUGH_BALANCE: InsufficientFunds,
    EXECUTION_ERROR: ExchangeNotAvailable,
    DELAYING_ORDER_ERROR: ExchangeNotAvailable,
    MARKET_NOT_READY: ExchangeNotAvailable,
  } satisfies Record<string, VenueErrorClass>,
  broad: {
    'post-only mode': ExchangeNotAvailable,
    'post only mode': ExchangeNotAvailable,
    'cancel-only': ExchangeNotAvailable,
    'trading is currently disabled': ExchangeNotAvailable,
    'engine restarting': ExchangeNotAvailable,
    'not enough balance': InsufficientFunds,
    'insufficient balance': InsufficientFunds,
    'invalid signature': AuthenticationError,
    'invalid api key': AuthenticationError,
    'invalid l1 request headers': AuthenticationError,
    duplicated: DuplicateOrder,
    'no orderbook exists': BadRequest,
    'order not found': OrderNotFound,
  } satisfies Record<string, VenueErrorClass>,
  status: {
    400: BadRequest,
    401: AuthenticationError,
    403: PermissionDenied,
    404: OrderNotFound,
    425: ExchangeNotAvailable,
    429: RateLimitExceeded,
    500: ExchangeNotAvailable,
    502: ExchangeNotAvailable,
    503: ExchangeNotAvailable,
    504: ExchangeNotAvailable,
  } satisfies Record<number, VenueErrorClass>,
} as const;

export type PolymarketErrorCode = keyof typeof POLYMARKET_ERRORS.exact;

/** The venue's message from a body: `{error}`, `{errorMsg}` (a refused order), or text. */
function messageOf(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300);
  if (typeof body !== 'object' || body === null) return '';
  const { error, errorMsg } = body as { error?: unknown; errorMsg?: unknown };
  const text = typeof errorMsg === 'string' && errorMsg ? errorMsg : typeof error === 'string' ? error : error === undefined ? '' : JSON.stringify(error);
  return text.slice(0, 300);
}

/**
 * Maps a Polymarket failure to the typed error hierarchy: exact code, then message phrase, then
 * status. `status` 200 with `success: false` is a refused order (its `errorMsg` decides).
 */
export function polymarketErrorFor(status: number, body: unknown, context: string, retryAfterMs?: number): VenueError {
  const detail = messageOf(body);
  const message = `${context}: HTTP ${status}${detail ? ` ${detail}` : ''}`;
  return errorFromTable(POLYMARKET_ERRORS, { status, code: detail.trim(), text: detail, context, message, retryAfterMs, otherClientError: BadRequest });
}
