import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure, withFailureMapping } from '../../activities/failures';
import { InvalidOrder, NetworkError, RateLimitExceeded, ValidationError } from '../../domain/errors';

describe('activity failure mapping', () => {
  it('marks validation and order-rejection errors non-retryable', () => {
    for (const err of [new ValidationError('bad'), new InvalidOrder('price off grid')]) {
      const failure = toActivityFailure(err) as ApplicationFailure;
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.type, err.name);
    }
  });
  it('keeps network and rate-limit errors retryable', () => {
    for (const err of [new NetworkError('reset'), new RateLimitExceeded('429', 1000)]) {
      const failure = toActivityFailure(err) as ApplicationFailure;
      assert.equal(failure.nonRetryable, false);
    }
  });
  it('passes unknown errors through untouched (Temporal retries them)', () => {
    const err = new Error('boom');
    assert.equal(toActivityFailure(err), err);
  });
  it('wraps every activity of a set', async () => {
    const acts = withFailureMapping({ a: async () => { throw new ValidationError('nope'); } });
    await assert.rejects(acts.a(), (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable && e.type === 'ValidationError');
  });
});
