import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { desc, eq } from 'drizzle-orm';
import YAML from 'yaml';
import { z } from 'zod';
import type { KestrelConfig } from '../config/schema';
import type { Database } from '../db/client';
import { strategyRuns, strategyVersions } from '../db/schema';
import { createVersion, currentStatus, transitionVersion } from '../db/versions-repo';
import { decimalString } from '../domain/decimal';
import { SIGNAL_TYPES } from '../domain/signals/types';
import type { StrategyInput } from '../workflows/strategy';

/** What a strategy version holds: the strategy workflow's rules, position timing and what it subscribes to. */
export const strategyConfigSchema = z
  .object({
    rules: z.object({
      minEdge: decimalString,
      maxConcurrent: z.number().int().min(1),
      size: decimalString,
      entrySlippageTicks: z.number().int().min(0),
      tick: decimalString,
      takerFeeRate: decimalString,
      entryTimeoutMs: z.number().int().positive(),
      sizing: z.union([z.object({ kind: z.literal('fixed') }), z.object({ kind: z.literal('kelly'), kellyFraction: decimalString, capital: decimalString })]).optional(),
    }),
    position: z.object({
      cadence: z.object({ normalMs: z.number().int().positive(), urgentMs: z.number().int().positive(), pollMs: z.number().int().positive(), settleTimeoutMs: z.number().int().positive() }),
      exitConfig: z.record(z.string(), z.unknown()).optional(),
      planConfig: z.record(z.string(), z.unknown()).optional(),
    }),
    signalTypes: z.array(z.enum(SIGNAL_TYPES)).min(1),
    categories: z.array(z.string().min(1)).prefault([]),
  })
  .strict();
export type StrategyConfig = z.infer<typeof strategyConfigSchema>;

export const VENUES = ['paper', 'kalshi', 'polymarket'] as const;

export function readStrategyConfig(file: string): StrategyConfig {
  const text = readFileSync(file, 'utf8');
  const raw: unknown = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  const parsed = strategyConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: invalid strategy config:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return parsed.data;
}

export async function createStrategy(db: Database, name: string, config: StrategyConfig) {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) throw new Error(`strategy names are lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
  return createVersion(db, 'strategy', name, config as unknown as Record<string, unknown>);
}

export async function listStrategies(db: Database) {
  const versions = await db.select().from(strategyVersions).orderBy(strategyVersions.strategyName, desc(strategyVersions.id));
  const runs = await db.select().from(strategyRuns).orderBy(desc(strategyRuns.startedAt));
  return Promise.all(
    versions.map(async (v) => ({
      id: v.id,
      name: v.strategyName,
      version: v.version,
      status: (await currentStatus(db, 'strategy', v.id)) ?? 'draft',
      createdAt: v.createdAt,
      runs: runs.filter((r) => r.strategyVersionId === v.id).map((r) => ({ workflowId: r.workflowId, venue: r.venue, feed: r.feed, status: r.status, startedAt: r.startedAt })),
    })),
  );
}

/**
 * Starts a strategy version as a strategy workflow subscribed to its signal types. Only the paper
 * venue trades in this build, and signals come from whatever the running workers ingest (`live`).
 */
export async function startStrategy(db: Database, temporal: Client, config: KestrelConfig, opts: { name: string; version?: string; venue: string; feed: string; nowMs: number }) {
  if (!(VENUES as readonly string[]).includes(opts.venue)) throw new Error(`--venue must be one of ${VENUES.join(', ')}, got ${JSON.stringify(opts.venue)}`);
  if (opts.venue !== 'paper') throw new Error(`venue ${opts.venue}: live order routing is not enabled in this build (the workers trade on the paper exchange); start with --venue paper`);
  if (opts.feed !== 'live') {
    if (/^replay:[\w.-]+$/.test(opts.feed)) throw new Error(`feed ${opts.feed}: recorded feeds are replayed by \`kestrel up --job paper\` (it maps the recording's clock onto the workflows'); strategies started here take the live feed of the running workers`);
    throw new Error(`--feed must be live or replay:<dataset>, got ${JSON.stringify(opts.feed)}`);
  }
  const rows = await db.select().from(strategyVersions).where(eq(strategyVersions.strategyName, opts.name)).orderBy(desc(strategyVersions.id));
  const row = opts.version ? rows.find((r) => r.version === opts.version) : rows[0];
  if (!row) throw new Error(opts.version ? `strategy ${opts.name} has no version ${opts.version}` : `no strategy named ${opts.name} (create it with \`kestrel strategy create\`)`);
  const status = (await currentStatus(db, 'strategy', row.id)) ?? 'draft';
  if (status === 'deprecated') throw new Error(`strategy ${opts.name} ${row.version} is deprecated`);
  // Starting a draft puts it in testing: every version that trades is on record as having left draft.
  if (status === 'draft') await transitionVersion(db, 'strategy', row.id, 'testing', 'started from the CLI');
  const sc = strategyConfigSchema.parse(row.config);
  const workflowId = `strategy/${opts.name}-${row.version}-${opts.nowMs}`;
  const input: StrategyInput = { strategyId: `${opts.name}-${row.version}`, version: row.version, strategyVersionId: row.id, rules: sc.rules, position: sc.position };
  await temporal.workflow.start('strategyWorkflow', { args: [input], taskQueue: config.temporal.taskQueue, workflowId });
  await db.insert(strategyRuns).values({ workflowId, strategyVersionId: row.id, venue: opts.venue, feed: opts.feed, signalTypes: sc.signalTypes, categories: sc.categories, status: 'running' });
  return { workflowId, version: row.version, status: status === 'draft' ? 'testing' : status };
}

export async function stopStrategy(db: Database, temporal: Client, workflowId: string) {
  const [run] = await db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, workflowId));
  if (!run) throw new Error(`no strategy run ${JSON.stringify(workflowId)} (see \`kestrel strategy list\`)`);
  if (run.status !== 'running') throw new Error(`strategy run ${workflowId} is already ${run.status}`);
  // Unsubscribe first so no more signals are routed to it, then stop it (open positions keep running).
  await db.update(strategyRuns).set({ status: 'stopped', stoppedAt: new Date() }).where(eq(strategyRuns.workflowId, workflowId));
  const snapshot = (await temporal.workflow.getHandle(workflowId).executeUpdate('stop')) as { positions: { status: string }[] };
  return { workflowId, openPositions: snapshot.positions.filter((p) => ['entering', 'open', 'exiting'].includes(p.status)).length };
}
