import type { Database } from './client';
import { recycleOpenPools } from './client';

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** postgres.js and Node codes for a connection that dropped or never came up. */
const CONNECTION_CODES = new Set(['CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED', 'CONNECT_TIMEOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs after which running the transaction again is safe: connection exceptions (class 08),
 * the server terminating the backend (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
 * connect now), and the two that roll the transaction back by design (40001, 40P01).
 */
const RETRYABLE_SQLSTATES = /^(08...|57P0[123]|40001|40P01)$/;

/** The error and its causes (drizzle wraps driver errors in a DrizzleQueryError). */
function* causes(err: unknown): Generator<unknown> {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/** A database error that says nothing about the transaction itself: the connection went away. */
export function isConnectionError(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || RETRYABLE_SQLSTATES.test(code))) return true;
  }
  return false;
}

export interface TransactionRetry {
  /** Tries in all (default 5). */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `fn` in a transaction, again (up to `attempts` tries in all, with backoff) when the
 * connection fails under it: a killed backend rolls the transaction back, so the next try starts
 * clean. Any other error, or the last connection error, is thrown. A connect that timed out also
 * replaces the pools, since postgres.js can leave a dead slot that never connects again.
 */
export async function inTransaction<T>(db: Database, fn: (tx: Transaction) => Promise<T>, retry: TransactionRetry = {}): Promise<T> {
  const attempts = retry.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      if (attempt >= attempts || !isConnectionError(err)) throw err;
      if ([...causes(err)].some((e) => (e as { code?: unknown }).code === 'CONNECT_TIMEOUT')) recycleOpenPools();
      retry.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, Math.min(retry.maxDelayMs ?? 2000, (retry.initialDelayMs ?? 50) * 2 ** (attempt - 1))));
    }
  }
}
