/**
 * Error hierarchy after ccxt's: callers branch on the class, and the activity layer maps each class
 * to retryable or non-retryable Temporal failures (see activities/failures.ts).
 */
export class KestrelError extends Error {
  /** Whether repeating the same request later can succeed. */
  readonly retryable: boolean = false;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that will never become valid by retrying (bad payload, bad config, bad command). */
export class ValidationError extends KestrelError {}

export class VenueError extends KestrelError {}
/** Transport failure: timeouts, resets, 5xx. */
export class NetworkError extends VenueError {
  override readonly retryable = true;
}
export class ExchangeNotAvailable extends NetworkError {}
export class RateLimitExceeded extends NetworkError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
export class AuthenticationError extends VenueError {}
export class PermissionDenied extends VenueError {}
export class BadRequest extends VenueError {}
export class InvalidOrder extends BadRequest {}
export class InsufficientFunds extends VenueError {}
export class OrderNotFound extends VenueError {}
export class DuplicateOrder extends VenueError {}
export class MarketClosed extends VenueError {}
