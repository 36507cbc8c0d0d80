import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { DATABASE_UNAVAILABLE, toActivityFailure } from '../../activities/failures';
import { classifyProcessError } from '../../cli/process-guard';
import type { Database } from '../../db/client';
import { isPostgresDriverFault } from '../../db/client';
import { inTransaction, isConnectionError } from '../../db/transactions';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

/** The TypeError postgres.js 3.4.9 throws from its write scheduler after the socket closed. */
function driverFault(): TypeError {
  const err = new TypeError("Cannot read properties of null (reading 'write')");
  err.stack = `${err.message}\n    at Immediate.nextWrite (/app/node_modules/postgres/cjs/src/connection.js:255:22)\n    at process.processImmediate (node:internal/timers:483:21)`;
  return err;
}

/** A Database whose transactions fail with the given errors, in turn, then succeed. */
function failingDb(errors: unknown[]): { db: Database; calls: () => number } {
  let calls = 0;
  const db = {
    transaction: async (fn: (tx: unknown) => Promise<unknown>) => {
      calls++;
      const err = errors.shift();
      if (err) throw err;
      return fn({});
    },
  } as unknown as Database;
  return { db, calls: () => calls };
}

describe('database and process faults', () => {
  it('recognises a dropped connection by driver code, SQLSTATE or a wrapped cause', () => {
    for (const err of [coded('CONNECTION_CLOSED'), coded('ECONNRESET'), coded('CONNECT_TIMEOUT'), coded('57P01'), coded('08006'), coded('40001'), new Error('query failed', { cause: coded('CONNECTION_DESTROYED') })]) {
      assert.equal(isConnectionError(err), true, String((err as { code?: string }).code ?? err.message));
    }
    for (const err of [coded('23505'), coded('42P01'), new Error('boom'), 'string']) assert.equal(isConnectionError(err), false);
  });

  it('tells postgres.js write-after-close apart from other TypeErrors', () => {
    assert.equal(isPostgresDriverFault(driverFault()), true);
    assert.equal(isPostgresDriverFault(new TypeError("Cannot read properties of null (reading 'write')")), false);
    assert.equal(classifyProcessError(driverFault()), 'postgres-driver');
    assert.equal(classifyProcessError(coded('ECONNRESET', 'read ECONNRESET')), 'connection');
    assert.equal(classifyProcessError(new Error('Connection is closed.')), 'connection');
    assert.equal(classifyProcessError(new RangeError('invalid array length')), 'fatal');
  });

  it('retries a transaction whose connection dropped, up to the bound', async () => {
    const flaky = failingDb([coded('CONNECTION_CLOSED'), coded('57P01')]);
    assert.equal(await inTransaction(flaky.db, async () => 'done', { initialDelayMs: 1 }), 'done');
    assert.equal(flaky.calls(), 3);

    const down = failingDb([coded('ECONNREFUSED'), coded('ECONNREFUSED'), coded('ECONNREFUSED')]);
    await assert.rejects(inTransaction(down.db, async () => 'never', { attempts: 3, initialDelayMs: 1 }), /ECONNREFUSED/);
    assert.equal(down.calls(), 3);
  });

  it('does not retry a transaction that failed for its own reasons', async () => {
    const conflict = failingDb([coded('23505', 'duplicate key')]);
    await assert.rejects(inTransaction(conflict.db, async () => 'never', { initialDelayMs: 1 }), /duplicate key/);
    assert.equal(conflict.calls(), 1);
  });

  it('fails an activity that lost its database retryably, under its own type', () => {
    const failure = toActivityFailure(new Error('query failed', { cause: coded('CONNECTION_CLOSED', 'write CONNECTION_CLOSED 127.0.0.1:5432') })) as ApplicationFailure;
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.type, DATABASE_UNAVAILABLE);
  });
});
