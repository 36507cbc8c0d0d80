import { createHash } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { ValidationError } from '../domain/errors';
import { checkTransition, MODEL_TRANSITIONS, nextVersion, STRATEGY_TRANSITIONS } from '../domain/versions';
import type { Database } from './client';
import { inTransaction } from './transactions';
import { modelVersions, modelVersionStatus, strategyVersions, strategyVersionStatus } from './schema';

const hashOf = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** The two kinds of versioned things share one set of operations over their own tables. */
const KINDS = {
  strategy: { versions: strategyVersions, status: strategyVersionStatus, nameCol: strategyVersions.strategyName, fk: strategyVersionStatus.strategyVersionId, transitions: STRATEGY_TRANSITIONS },
  model: { versions: modelVersions, status: modelVersionStatus, nameCol: modelVersions.modelName, fk: modelVersionStatus.modelVersionId, transitions: MODEL_TRANSITIONS },
} as const;
export type VersionKind = keyof typeof KINDS;

export interface VersionRow {
  id: number;
  name: string;
  version: string;
  status: string;
  content: unknown;
}

export async function currentStatus(db: Database, kind: VersionKind, id: number): Promise<string | undefined> {
  const k = KINDS[kind];
  const [row] = await db.select({ status: k.status.status }).from(k.status).where(eq(k.fk, id)).orderBy(desc(k.status.id)).limit(1);
  return row?.status;
}

/** Creates the next version (v1.0, v1.1, …) in status draft; identical content to the latest is refused. */
export async function createVersion(db: Database, kind: VersionKind, name: string, content: Record<string, unknown>, metrics: Record<string, unknown> = {}): Promise<VersionRow> {
  const k = KINDS[kind];
  return inTransaction(db, async (tx) => {
    // One creator at a time per name, so two versions never get the same number.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${kind}:${name}`}))`);
    const [latest] = await tx.select().from(k.versions).where(eq(k.nameCol, name)).orderBy(desc(k.versions.id)).limit(1);
    const hash = hashOf(content);
    const latestHash = latest && ('configHash' in latest ? latest.configHash : latest.parametersHash);
    if (latestHash === hash) throw new ValidationError(`${kind} ${name} ${latest!.version} already has exactly this content`);
    const version = nextVersion(latest?.version);
    const [row] =
      kind === 'strategy'
        ? await tx.insert(strategyVersions).values({ strategyName: name, version, config: content, configHash: hash }).returning({ id: strategyVersions.id })
        : await tx.insert(modelVersions).values({ modelName: name, version, parameters: content, metrics, parametersHash: hash }).returning({ id: modelVersions.id });
    await tx.insert(k.status).values({ [kind === 'strategy' ? 'strategyVersionId' : 'modelVersionId']: row!.id, status: 'draft', reason: 'created' } as never);
    return { id: row!.id, name, version, status: 'draft', content };
  });
}

/**
 * The version of `name` with exactly this content, created (draft) if there is none: for runs that
 * trade a configuration of their own (the paper session, replays) and must still name an immutable version.
 */
export async function ensureVersion(db: Database, kind: VersionKind, name: string, content: Record<string, unknown>): Promise<VersionRow> {
  const k = KINDS[kind];
  const hashCol = kind === 'strategy' ? strategyVersions.configHash : modelVersions.parametersHash;
  const find = async () => {
    const [row] = await db.select().from(k.versions).where(and(eq(k.nameCol, name), eq(hashCol, hashOf(content)))).orderBy(desc(k.versions.id)).limit(1);
    return row && { id: row.id, name, version: row.version, status: (await currentStatus(db, kind, row.id)) ?? 'draft', content: 'config' in row ? row.config : row.parameters };
  };
  const found = await find();
  if (found) return found;
  try {
    return await createVersion(db, kind, name, content);
  } catch (err) {
    // Another run created it meanwhile (identical to the latest).
    const raced = err instanceof ValidationError ? await find() : undefined;
    if (raced) return raced;
    throw err;
  }
}

/** Moves a version along its lifecycle; activating one deprecates the previously active version. */
export async function transitionVersion(db: Database, kind: VersionKind, id: number, to: string, reason: string): Promise<void> {
  const k = KINDS[kind];
  const fkField = kind === 'strategy' ? 'strategyVersionId' : 'modelVersionId';
  await inTransaction(db, async (tx) => {
    const [version] = await tx.select().from(k.versions).where(eq(k.versions.id, id));
    if (!version) throw new ValidationError(`no ${kind} version with id ${id}`);
    const name = 'strategyName' in version ? version.strategyName : version.modelName;
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${kind}:${name}`}))`);
    const from = (await currentStatus(tx as unknown as Database, kind, id)) ?? 'draft';
    const problem = checkTransition(k.transitions, from, to);
    if (problem) throw new ValidationError(`${kind} ${name} ${version.version}: ${problem}`);
    if (to === 'active') {
      const previous = await activeVersion(tx as unknown as Database, kind, name);
      if (previous) await tx.insert(k.status).values({ [fkField]: previous.id, status: 'deprecated', reason: `superseded by ${version.version}` } as never);
    }
    await tx.insert(k.status).values({ [fkField]: id, status: to, reason } as never);
  });
}

export async function activeVersion(db: Database, kind: VersionKind, name: string): Promise<VersionRow | undefined> {
  const k = KINDS[kind];
  const rows = await db.select().from(k.versions).where(eq(k.nameCol, name)).orderBy(desc(k.versions.id));
  for (const row of rows) {
    if ((await currentStatus(db, kind, row.id)) === 'active') {
      return { id: row.id, name, version: row.version, status: 'active', content: 'config' in row ? row.config : row.parameters };
    }
  }
  return undefined;
}
