import path from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

/** Applies the committed drizzle-kit migrations over one connection (migrations must not interleave). */
export async function runMigrations(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

const SAFE_DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates the database named in `url` when missing, connecting through `maintenanceDb`. */
export async function ensureDatabase(url: string, maintenanceDb = 'postgres'): Promise<boolean> {
  const name = databaseName(url);
  if (!SAFE_DB_NAME.test(name)) throw new Error(`refusing to create database with unusual name ${JSON.stringify(name)}`);
  const admin = postgres(withDatabase(url, maintenanceDb), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${name}`;
    if (rows.length > 0) return false;
    await admin.unsafe(`create database "${name}"`);
    return true;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export async function dropDatabase(url: string, maintenanceDb = 'postgres'): Promise<void> {
  const name = databaseName(url);
  if (!SAFE_DB_NAME.test(name)) throw new Error(`refusing to drop database with unusual name ${JSON.stringify(name)}`);
  const admin = postgres(withDatabase(url, maintenanceDb), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}
