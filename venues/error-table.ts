import { BadRequest, ExchangeNotAvailable, RateLimitExceeded, VenueError } from '../domain/errors';

export type VenueErrorClass = new (message: string) => VenueError;

/**
 * A venue's errors as a table (ccxt's `exceptions`): `exact` keyed by the venue's error code,
 * `broad` by a phrase of the message (lower case), `status` by HTTP status when neither matched.
 * The class decides retryability (activities/failures.ts).
 */
export interface VenueErrorTable {
  exact: Record<string, VenueErrorClass>;
  broad: Record<string, VenueErrorClass>;
  status: Record<number, VenueErrorClass>;
}

const own = <T extends object>(table: T, key: PropertyKey): T[keyof T] | undefined => (Object.prototype.hasOwnProperty.call(table, key) ? table[key as keyof T] : undefined);

/**
 * The typed error for a venue failure: exact code, then message phrase, then status. A 404 on a
 * path that is not about an order is an unknown market or token (a bad request), not a missing order.
 */
export function errorFromTable(
  table: VenueErrorTable,
  failure: { status: number; code: string; text: string; context: string; message: string; retryAfterMs?: number; otherClientError: VenueErrorClass },
): VenueError {
  let cls: VenueErrorClass | undefined = own(table.exact, failure.code);
  if (!cls) {
    const text = failure.text.toLowerCase();
    const phrase = Object.keys(table.broad).find((p) => text.includes(p));
    cls = phrase === undefined ? undefined : own(table.broad, phrase);
  }
  if (!cls && failure.status === 404 && !/order/i.test(failure.context)) cls = BadRequest;
  cls ??= own(table.status, failure.status) ?? (failure.status >= 500 ? ExchangeNotAvailable : failure.status >= 400 ? failure.otherClientError : VenueError);
  if (cls === RateLimitExceeded) return new RateLimitExceeded(failure.message, failure.retryAfterMs);
  return new cls(failure.message);
}
