import assert from 'node:assert/strict';
import { BadRequest, DuplicateOrder, ExchangeNotAvailable, InsufficientFunds, MarketClosed, OrderNotFound, RateLimitExceeded, VenueError } from '../../domain/errors';
import { kalshiErrorBody, kalshiErrorFor } from '../../venues/kalshi/errors';

describe('Kalshi error table (exact code → message phrase → HTTP status)', () => {
  it('maps by exact code first, in the live `{error: …}` shape and the spec’s flat ErrorResponse', () => {
    assert.ok(kalshiErrorFor(400, { error: { code: 'insufficient_balance', message: 'x' } }, 'POST /portfolio/events/orders') instanceof InsufficientFunds);
    assert.ok(kalshiErrorFor(400, { code: 'market_closed', message: 'x' }, 'POST /portfolio/events/orders') instanceof MarketClosed);
    assert.ok(kalshiErrorFor(409, kalshiErrorBody('order_already_exists', 'dup'), 'POST /portfolio/events/orders') instanceof DuplicateOrder);
  });

  it('falls back to a phrase of the message, then to the status', () => {
    assert.ok(kalshiErrorFor(400, { error: { code: 'something_new', message: 'Insufficient balance for order' } }, 'POST x') instanceof InsufficientFunds);
    assert.ok(kalshiErrorFor(502, 'bad gateway', 'GET x') instanceof ExchangeNotAvailable);
    assert.ok(kalshiErrorFor(418, {}, 'GET x') instanceof VenueError);
    const limited = kalshiErrorFor(429, {}, 'GET x', 1500);
    assert.ok(limited instanceof RateLimitExceeded && limited.retryAfterMs === 1500 && limited.retryable);
  });

  it('a 404 is a missing order only on order paths; prototype names are not codes', () => {
    assert.ok(kalshiErrorFor(404, {}, 'GET /portfolio/orders/{order_id}') instanceof OrderNotFound);
    assert.ok(kalshiErrorFor(404, {}, 'GET /markets/{ticker}') instanceof BadRequest);
    for (const code of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) assert.ok(kalshiErrorFor(400, { error: { code } }, 'GET x') instanceof BadRequest, code);
  });
});
