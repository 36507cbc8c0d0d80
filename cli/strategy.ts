export { readStrategyConfig, strategyConfigSchema, type StrategyConfig, type StrategyVersionConfig } from '../config/strategy';
import type { Client } from '@temporalio/client';
import { desc, eq } from 'drizzle-orm';
import type { KestrelConfig } from '../config/schema';
import type { Database } from '../db/client';
import { strategyRuns, strategyVersions } from '../db/schema';
import { activeVersion, createVersion, currentStatus, transitionVersion } from '../db/versions-repo';
import { MODEL_EDGE_SIGNAL } from '../domain/sports/model-edge-signal';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';
import { isBucketArbConfig, strategyConfigSchema, type StrategyVersionConfig } from '../config/strategy';
import { withConfiguredTakerFee } from '../config/fees';
import { describeIssues } from '../domain/validation';
import type { StrategyInput } from '../workflows/strategy';
import { stopStrategyUpdate, strategyWorkflow } from '../workflows/strategy';

export const VENUES = ['paper', 'kalshi', 'polymarket'] as const;

export async function createStrategy(db: Database, name: string, config: StrategyVersionConfig) {
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

/** Recorded datasets a strategy can be replayed on (`--feed replay:<name>`). */
export const REPLAY_DATASETS = { gold: 'Kalshi gold 15-minute WebSocket capture (replay.dataDir)' } as const;

export type Feed = { kind: 'live'; name: 'live' | 'kalshi' | 'polymarket' } | { kind: 'replay'; dataset: keyof typeof REPLAY_DATASETS };

/**
 * `--venue` names where the strategy's orders go; the workers route every order to the one venue
 * of their `venues.execution`, so a venue other than theirs is refused here rather than traded on
 * the wrong exchange. `--feed live` (or `kalshi`, the same: the workers' live Kalshi feed) subscribes
 * to the running workers; `replay:<dataset>` runs in lockstep on the paper exchange.
 */
export function parseVenueAndFeed(venue: string, feed: string, execution: KestrelConfig['venues']['execution']): Feed {
  if (!(VENUES as readonly string[]).includes(venue)) throw new Error(`--venue must be one of ${VENUES.join(', ')}, got ${JSON.stringify(venue)}`);
  const m = /^replay:([\w.-]+)$/.exec(feed);
  if (feed !== 'live' && feed !== 'kalshi' && feed !== 'polymarket' && !m) throw new Error(`--feed must be live, kalshi, polymarket or replay:<dataset>, got ${JSON.stringify(feed)}`);
  // A venue trades its own markets only: Kalshi tickers are not Polymarket tokens.
  if ((venue === 'kalshi' && feed === 'polymarket') || (venue === 'polymarket' && feed === 'kalshi')) throw new Error(`--venue ${venue} cannot trade the markets of --feed ${feed} (use --venue paper or --feed ${venue})`);
  if (m) {
    if (!(m[1]! in REPLAY_DATASETS)) throw new Error(`unknown replay dataset ${JSON.stringify(m[1])}; known: ${Object.keys(REPLAY_DATASETS).join(', ')}`);
    if (venue !== 'paper') throw new Error(`--feed ${feed} replays a recording on the paper exchange in lockstep; a recording cannot trade on ${venue} (use --venue paper)`);
    return { kind: 'replay', dataset: m[1] as keyof typeof REPLAY_DATASETS };
  }
  if (venue !== execution) {
    const env = `KESTREL__VENUES__EXECUTION=${venue}`;
    const environments = venue === 'kalshi' ? ' (and venues.kalshi.environment demo, production or emulator)' : venue === 'polymarket' ? ' (and venues.polymarket.environment production, amoy or emulator, and POLYMARKET_PRIVATE_KEY)' : '';
    throw new Error(`--venue ${venue}, but the workers route orders to ${execution} (venues.execution); start \`kestrel up\` and this command with ${env}${environments}`);
  }
  return { kind: 'live', name: feed === 'kalshi' || feed === 'polymarket' ? feed : 'live' };
}

/** The version to run (latest unless named); a draft that starts trading moves to testing. */
export async function versionToRun(db: Database, name: string, version?: string) {
  const rows = await db.select().from(strategyVersions).where(eq(strategyVersions.strategyName, name)).orderBy(desc(strategyVersions.id));
  const row = version ? rows.find((r) => r.version === version) : rows[0];
  if (!row) throw new Error(version ? `strategy ${name} has no version ${version}` : `no strategy named ${name} (create it with \`kestrel strategy create\`)`);
  const status = (await currentStatus(db, 'strategy', row.id)) ?? 'draft';
  if (status === 'deprecated') throw new Error(`strategy ${name} ${row.version} is deprecated`);
  if (isBucketArbConfig(row.config)) throw new Error(`strategy ${name} ${row.version} is a bucket-arb strategy: it does not subscribe to signals; backtest it with \`kestrel backtest --strategy bucket-arb --snapshots DIR --file F\``);
  // Versions recorded by runs of their own (the momentum paper session's `momentum-gold`) are not startable configs.
  const parsed = strategyConfigSchema.safeParse(row.config);
  if (!parsed.success) throw new Error(`strategy ${name} ${row.version} cannot be started: ${describeIssues(parsed.error.issues)}`);
  if (status === 'draft') await transitionVersion(db, 'strategy', row.id, 'testing', 'started from the CLI');
  return { id: row.id, version: row.version, status: status === 'draft' ? 'testing' : status, config: parsed.data };
}

/** Starts a strategy version on the live feed of the running workers: a strategy workflow subscribed to its signal types, trading on the workers' venue. */
export async function startStrategy(db: Database, temporal: Client, config: KestrelConfig, opts: { name: string; version?: string; nowMs: number; feed?: 'live' | 'kalshi' | 'polymarket' }) {
  const v = await versionToRun(db, opts.name, opts.version);
  const workflowId = `strategy/${opts.name}-${v.version}-${opts.nowMs}`;
  // A model-edge strategy's positions record the sports model version that prices its entries.
  const model = (v.config.signalTypes as readonly string[]).includes(MODEL_EDGE_SIGNAL) ? await activeVersion(db, 'model', config.sports.model) : undefined;
  const input: StrategyInput = { strategyId: `${opts.name}-${v.version}`, version: v.version, strategyVersionId: v.id, modelVersionId: model?.id, rules: withConfiguredTakerFee(v.config.rules, config), position: v.config.position };
  await temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId });
  await db.insert(strategyRuns).values({ workflowId, strategyVersionId: v.id, venue: config.venues.execution, feed: opts.feed ?? 'live', signalTypes: v.config.signalTypes, categories: v.config.categories, status: 'running' });
  return { workflowId, version: v.version, status: v.status };
}

export async function stopStrategy(db: Database, temporal: Client, workflowId: string) {
  const [run] = await db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, workflowId));
  if (!run) throw new Error(`no strategy run ${JSON.stringify(workflowId)} (see \`kestrel strategy list\`)`);
  if (run.status !== 'running') throw new Error(`strategy run ${workflowId} is already ${run.status}`);
  // Unsubscribe first so no more signals are routed to it, then stop it (open positions keep running).
  await db.update(strategyRuns).set({ status: 'stopped', stoppedAt: new Date() }).where(eq(strategyRuns.workflowId, workflowId));
  const snapshot = await temporal.workflow.getHandle<typeof strategyWorkflow>(workflowId).executeUpdate(stopStrategyUpdate);
  return { workflowId, openPositions: snapshot.positions.filter((p) => OPEN_STATUSES.has(p.status)).length };
}
