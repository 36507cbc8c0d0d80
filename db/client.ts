import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;
export interface DatabaseHandle {
  sql: postgres.Sql;
  db: Database;
  /** Times the pool was replaced after a driver fault (see recycleOpenPools). */
  readonly recycles: number;
  close(): Promise<void>;
}

/** Every pool this process has open, so a driver fault caught at process level can replace them. */
const openPools = new Set<{ recycle(): void }>();

/** A burst of faults replaces a pool once, not once per fault. */
const MIN_RECYCLE_INTERVAL_MS = 1000;

/**
 * A pooled connection. `numeric` columns come back as strings, which is what Decimal wants.
 *
 * `sql` and `db` stay the same objects for the life of the handle, but the pool behind them can be
 * replaced: postgres.js 3.4.9 can poison a connection for good when its backend is killed mid-query
 * (porsager/postgres#1208, #1133: a write scheduled after the socket closed throws from
 * `setImmediate`, and the slot never flushes again), so a pool that saw that fault is swapped for
 * a fresh one and the old one is ended, which fails its stuck queries so their callers retry.
 */
export function openDatabase(url: string, opts: { max?: number; applicationName?: string; connectTimeoutSeconds?: number } = {}): DatabaseHandle {
  const createPool = () => {
    const pool = postgres(url, {
      max: opts.max ?? 10,
      onnotice: () => {},
      // A poisoned connection shows as a connect that never completes: fail it within seconds, not 30.
      connect_timeout: opts.connectTimeoutSeconds ?? 5,
      connection: { application_name: opts.applicationName ?? 'kestrel' },
    });
    // Drizzle sets its date parsers on the client it wraps; a replacement pool needs the same.
    drizzle(pool, { schema });
    return pool;
  };
  let pool = createPool();
  let recycles = 0;
  let recycledAtMs = 0;
  let closed = false;
  const sql = new Proxy(pool, {
    apply: (_target, _this, args: Parameters<postgres.Sql>) => pool(...args),
    get: (_target, prop) => Reflect.get(pool, prop),
  }) as postgres.Sql;
  const db = drizzle(sql, { schema });
  const entry = {
    recycle() {
      if (closed || Date.now() - recycledAtMs < MIN_RECYCLE_INTERVAL_MS) return;
      recycledAtMs = Date.now();
      const old = pool;
      pool = createPool();
      recycles++;
      void old.end({ timeout: 0 }).catch(() => {});
    },
  };
  openPools.add(entry);
  return {
    sql,
    db,
    get recycles() {
      return recycles;
    },
    close: () => {
      closed = true;
      openPools.delete(entry);
      return pool.end({ timeout: 5 });
    },
  };
}

/**
 * postgres.js's fault when a connection's socket is gone under a buffered write: a TypeError thrown
 * from `nextWrite` in the driver's connection module, out of any caller's reach.
 */
export function isPostgresDriverFault(err: unknown): boolean {
  if (!(err instanceof TypeError)) return false;
  const stack = err.stack ?? '';
  return /reading 'write'/.test(err.message) && /nextWrite/.test(stack) && /postgres[\\/](cjs[\\/])?src[\\/]connection\.js/.test(stack);
}

/** Replaces every open pool (see openDatabase), at most once a second each; returns how many are open. */
export function recycleOpenPools(): number {
  for (const entry of openPools) entry.recycle();
  return openPools.size;
}
