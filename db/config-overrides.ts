import { eq } from 'drizzle-orm';
import type { Database } from './client';
import { configOverrides } from './schema';

export async function readConfigOverrides(db: Database): Promise<Record<string, unknown>> {
  const rows = await db.select({ key: configOverrides.key, valueJson: configOverrides.valueJson }).from(configOverrides);
  return Object.fromEntries(rows.map((r) => [r.key, JSON.parse(r.valueJson) as unknown]));
}

export async function setConfigOverride(db: Database, key: string, value: unknown, reason?: string): Promise<void> {
  const valueJson = JSON.stringify(value);
  await db
    .insert(configOverrides)
    .values({ key, valueJson, reason: reason ?? null })
    .onConflictDoUpdate({ target: configOverrides.key, set: { valueJson, reason: reason ?? null, updatedAt: new Date() } });
}

export async function deleteConfigOverride(db: Database, key: string): Promise<boolean> {
  const deleted = await db.delete(configOverrides).where(eq(configOverrides.key, key)).returning({ key: configOverrides.key });
  return deleted.length > 0;
}
