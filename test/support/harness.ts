import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { resolveConfig } from '../../config/load';
import type { KestrelConfig } from '../../config/schema';
import { dropDatabase, ensureDatabase, runMigrations } from '../../db/admin';
import { WORKFLOWS_PATH } from '../../runtime/temporal-worker';
import { KESTREL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

/**
 * Shared integration-test services, created on first use and torn down by the root hooks:
 * a real Temporal dev server (the binary built from source), a fresh migrated Postgres database,
 * and one workflow bundle reused by every test worker.
 */
export interface Harness {
  env: TestWorkflowEnvironment;
  temporalAddress: string;
  databaseUrl: string;
  redisUrl: string;
  workflowBundle: WorkflowBundleWithSourceMap;
  /** Config for one test: unique queue names, task queue and Redis prefix, short durations. */
  config(overrides?: Record<string, unknown>): KestrelConfig;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DATA_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data');
export const TEST_ADMIN_DB_URL = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** History length at which the test server suggests continue-as-new. */
export const SUGGEST_CONTINUE_AS_NEW_AT = 300;

let harness: Promise<Harness> | undefined;
let teardowns: (() => Promise<void>)[] = [];

export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function temporalBinary(): string {
  return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-temporal.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

async function createHarness(): Promise<Harness> {
  const dbName = `kestrel_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new URL(TEST_ADMIN_DB_URL);
  const databaseUrl = new URL(TEST_ADMIN_DB_URL);
  databaseUrl.pathname = `/${dbName}`;
  await ensureDatabase(databaseUrl.toString(), admin.pathname.slice(1));
  teardowns.push(() => dropDatabase(databaseUrl.toString(), admin.pathname.slice(1)));
  await runMigrations(databaseUrl.toString());

  // Worker state chatter hides test output; warnings and errors still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalBinary() }, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' },
      searchAttributes: KESTREL_SEARCH_ATTRIBUTES,
      // Suggest continue-as-new early so long-running workflows exercise it in tests.
      extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AT}`],
    },
  });
  teardowns.push(() => env.teardown());
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  const temporalAddress = env.address;
  const redisUrl = process.env.KESTREL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  return {
    env,
    temporalAddress,
    databaseUrl: databaseUrl.toString(),
    redisUrl,
    workflowBundle,
    config(overrides = {}) {
      const base: Record<string, unknown> = {
        environment: 'test',
        'database.url': databaseUrl.toString(),
        'database.poolMax': 4,
        'redis.url': redisUrl,
        'redis.keyPrefix': uniqueName('kestrel-test'),
        'temporal.address': temporalAddress,
        'temporal.taskQueue': uniqueName('tq'),
        'temporal.shutdownGraceMs': 2000,
        'ingest.queueName': uniqueName('ingest'),
        'signals.queueName': uniqueName('signals'),
        'ingest.jobAttempts': 2,
        'paper.latencyMs': 0,
        'logging.level': 'warn',
        // Other suites leave positions in the shared database; the watch has its own test.
        'alerts.staleWatchMs': 0,
        // Likewise for the rebalance watch (tested on its own in position-workflow.test.ts).
        'venues.rebalanceEveryMs': 0,
        // Tests share one database: breakers would carry losses from one test into the next.
        // The risk tests set their own limits.
        'risk.maxConsecutiveLosses': 1_000_000,
        'risk.dailyLossLimitFraction': '1',
        'risk.noEntryBeforeCloseMs': 0,
        'replay.dataDir': path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws'),
      };
      // Tests state their config as overrides through the same resolver production uses.
      return resolveConfig({ inline: { ...base, ...overrides } }).config;
    },
  };
}

const quietBundlerLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
  log: () => {},
};

export function getHarness(): Promise<Harness> {
  harness ??= createHarness();
  return harness;
}

export async function teardownHarness(): Promise<void> {
  const steps = teardowns.reverse();
  teardowns = [];
  harness = undefined;
  for (const step of steps) await step().catch((err: unknown) => console.error('teardown failed:', err));
}
