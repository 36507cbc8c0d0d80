import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema';

export type Database = PostgresJsDatabase<typeof schema>;
export interface DatabaseHandle {
  sql: postgres.Sql;
  db: Database;
  close(): Promise<void>;
}

/** A pooled connection. `numeric` columns come back as strings, which is what Decimal wants. */
export function openDatabase(url: string, opts: { max?: number; applicationName?: string } = {}): DatabaseHandle {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: { application_name: opts.applicationName ?? 'kestrel' },
  });
  const db = drizzle(sql, { schema });
  return { sql, db, close: () => sql.end({ timeout: 5 }) };
}
