import assert from 'node:assert/strict';
import { EXIT } from '../../cli/main';
import { kestrel } from '../support/cli';
import path from 'node:path';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { walkForwardSummarySchema } from '../../domain/backtest/walk-forward';
import { eq, inArray } from 'drizzle-orm';
import { openDatabase } from '../../db/client';
import { priceHistory, signalOutcomes, signals, strategyRuns } from '../../db/schema';
import { registerSignalConfig } from '../../db/signals-repo';
import { getHarness, REPO_ROOT, SHARED_DATA_DIR, uniqueName, type Harness } from '../support/harness';
import { useStack } from '../support/stack';

describe('kestrel CLI', function () {
  this.timeout(60_000);
  let harness: Harness;
  let env: Record<string, string>;
  before(async () => {
    harness = await getHarness();
    env = { DATABASE_URL: harness.databaseUrl, REDIS_URL: harness.redisUrl, TEMPORAL_ADDRESS: harness.temporalAddress };
  });

  it('rejects unknown commands and options with exit code 2', async () => {
    assert.equal((await kestrel(['frobnicate'], env)).code, EXIT.usage);
    const bad = await kestrel(['health', '--nope'], env);
    assert.equal(bad.code, EXIT.usage);
    assert.match(bad.stderr, /usage: kestrel health/);
    assert.equal((await kestrel(['up', '--markets', 'zero'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['up', '--job', 'nonsense'], env)).code, EXIT.usage);
    const keyless = await kestrel(['up', '--no-job'], { ...env, KESTREL__VENUES__EXECUTION: 'kalshi', KALSHI_API_KEY_ID: '' });
    assert.equal(keyless.code, EXIT.config);
    assert.match(keyless.stderr, /venues\.execution is kalshi \(demo\) but no Kalshi credentials are set/);
    assert.match((await kestrel(['flatten-all'], env)).stderr, /--reason is required/);
    assert.equal((await kestrel(['why'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['why', 'no-such-order'], env)).code, EXIT.failure);
    assert.equal((await kestrel(['risk', 'reset'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['positions', '--limit', '0'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['report', 'pnl', '--days', 'week'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['report', 'sharpe'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['exit'], env)).code, EXIT.usage);
    assert.match((await kestrel(['signals', '--type', 'vibes'], env)).stderr, /--type must be one of/);
    assert.equal((await kestrel(['signals', 'matrix', '--horizon', '5'], env)).code, EXIT.usage);
    assert.equal((await kestrel(['signals', 'nonsense'], env)).code, EXIT.usage);
    assert.match((await kestrel(['backtest', '--markets', '0'], env)).stderr, /--markets must be a positive integer/);
    assert.match((await kestrel(['backtest', '--min-move', '3'], env)).stderr, /--min-move must be a price move/);
    assert.match((await kestrel(['backtest', '--market', 'NOPE-1'], env)).stderr, /no recording for market NOPE-1/);
    assert.match((await kestrel(['walk-forward', '--train-days', '40'], env)).stderr, /cannot hold a 40-day training window/);
    assert.equal((await kestrel(['retrain', 'sometimes'], env)).code, EXIT.usage);
    assert.match((await kestrel(['exit', 'position/x', '--urgency', 'ASAP'], env)).stderr, /--urgency must be CRITICAL, HIGH, MEDIUM or LOW/);
    // Only plain decimal integers: not hex, not exponents.
    assert.match((await kestrel(['signals', '--limit', '0x10'], env)).stderr, /--limit must be an integer 1\.\.10000, got "0x10"/);
    assert.equal((await kestrel(['positions', '--limit', '1e3'], env)).code, EXIT.usage);
    const missing = await kestrel(['strategy', 'create', 'x', '--file', '/nonexistent/strategy.yaml'], env);
    assert.equal(missing.code, EXIT.usage);
    assert.match(missing.stderr, /cannot read the strategy config \(ENOENT\)/);
    // A key file that is no key: a configuration error (3), and nothing of the file is echoed.
    const badKey = await kestrel(['reconcile'], { ...env, KESTREL__VENUES__EXECUTION: 'kalshi', KALSHI_API_KEY_ID: 'k', KALSHI_PRIVATE_KEY_PATH: require.resolve('../../package.json') });
    assert.equal(badKey.code, EXIT.config, badKey.stderr);
    assert.match(badKey.stderr, /private key could not be parsed/);
    assert.doesNotMatch(badKey.stderr, /kestrel@|"name"/);
  });

  it('prints help for every command', async () => {
    const help = await kestrel(['--help'], env);
    assert.equal(help.code, EXIT.ok);
    for (const name of ['migrate', 'config', 'health', 'up', 'why', 'flatten-all', 'risk', 'positions', 'exit', 'report', 'signals', 'strategy', 'backtest', 'walk-forward', 'retrain']) {
      assert.match(help.stdout, new RegExp(`\\b${name}\\b`));
      assert.equal((await kestrel([name, '--help'], env)).code, EXIT.ok);
    }
  });

  it('config validate names the bad key and exits 3', async () => {
    const result = await kestrel(['config', 'validate'], { ...env, KESTREL__RISK__MAX_POSITION_FRACTION: 'ten percent' });
    assert.equal(result.code, EXIT.config);
    assert.match(result.stderr, /risk\.maxPositionFraction/);
    assert.match(result.stderr, /env:KESTREL__RISK__MAX_POSITION_FRACTION/);
  });

  it('config set validates before writing; show reports the database as source', async () => {
    const rejected = await kestrel(['config', 'set', 'risk.capital', 'abc'], env);
    assert.equal(rejected.code, EXIT.config);
    const unknown = await kestrel(['config', 'set', 'risk.captial', '1'], env);
    assert.equal(unknown.code, EXIT.usage);
    // Zero capital is valid but stops all trading: refused unless --force.
    const zero = await kestrel(['config', 'set', 'risk.capital', '0'], env);
    assert.equal(zero.code, EXIT.usage);
    assert.match(zero.stderr, /stops every new entry .* --force/);
    assert.equal((await kestrel(['config', 'set', 'risk.maxConcurrentPositions', '0'], env)).code, EXIT.usage);

    let shown = JSON.parse((await kestrel(['config', 'show', '--json'], env)).stdout) as { key: string; value: string; source: string }[];
    assert.equal(shown.find((r) => r.key === 'risk.capital')!.source, 'yaml:' + require.resolve('../../config/kestrel.yaml'));

    const set = await kestrel(['config', 'set', 'risk.capital', '25000.50', '--reason', 'test'], env);
    assert.equal(set.code, EXIT.ok, set.stderr);
    const afterSet = await kestrel(['config', 'show', '--json'], { ...env, KESTREL__RISK__CAPITAL: '1' });
    assert.equal(afterSet.code, EXIT.ok, afterSet.stderr);
    shown = JSON.parse(afterSet.stdout) as typeof shown;
    const capital = shown.find((r) => r.key === 'risk.capital')!;
    assert.deepEqual(capital, { key: 'risk.capital', value: '25000.5', source: 'db:config_overrides' });

    assert.equal((await kestrel(['config', 'unset', 'risk.capital'], env)).code, EXIT.ok);
    shown = JSON.parse((await kestrel(['config', 'show', '--json'], { ...env, KESTREL__RISK__CAPITAL: '1' })).stdout) as typeof shown;
    assert.equal(shown.find((r) => r.key === 'risk.capital')!.source, 'env:KESTREL__RISK__CAPITAL');
  });

  it('positions, report and exit read real state and reject an unknown position clearly', async () => {
    const listed = await kestrel(['positions', '--json'], env);
    assert.equal(listed.code, EXIT.ok, listed.stderr);
    assert.ok(Array.isArray(JSON.parse(listed.stdout)));
    const report = await kestrel(['report', 'pnl', '--days', '3', '--json'], env);
    assert.equal(report.code, EXIT.ok, report.stderr);
    assert.ok(Array.isArray(JSON.parse(report.stdout)));
    const unknown = await kestrel(['exit', 'position/no-such', '--urgency', 'LOW'], env);
    assert.equal(unknown.code, EXIT.failure);
    assert.match(unknown.stderr, /rejected: .*not found/i);
  });

  it('walk-forward stores its folds as walk-forward.json (what the console shows)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-wf-cli-'));
    const r = await kestrel(['walk-forward', '--markets', '6', '--train-days', '1', '--out', dir], env);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const stored = walkForwardSummarySchema.parse(JSON.parse(readFileSync(path.join(dir, 'walk-forward.json'), 'utf8')));
    assert.equal(stored.strategy, 'momentum');
    assert.deepEqual(stored.folds.map((f) => [f.train, f.test]), [[['2026-08-05'], ['2026-08-06']]]);
    assert.match(r.stdout, new RegExp(`in-sample ${stored.folds[0]!.inSample.toFixed(2)} vs out-of-sample ${stored.folds[0]!.outOfSample.toFixed(2)}`));
  });

  it('health reports each service and exits 4 when one is down', async () => {
    type Health = { services: { name: string; ok: boolean }[]; features: { feature: string; status: string; detail: string }[] | null };
    const ok = await kestrel(['health', '--json'], env);
    assert.equal(ok.code, EXIT.ok, ok.stdout + ok.stderr);
    const health = JSON.parse(ok.stdout) as Health;
    assert.deepEqual(health.services.map((r) => [r.name, r.ok]), [['postgres', true], ['redis', true], ['temporal', true]]);
    // Every feature is judged even with no process running (nothing silent, nothing late).
    const features = health.features!.map((f) => f.feature);
    for (const f of ['price-history', 'signal-engine', 'retraining', 'reconciliation']) assert.ok(features.includes(f), `${f} in ${features.join(', ')}`);
    // No stack runs here: the processes line says so instead of one line per ownerless partition.
    assert.ok(features.includes('processes') || features.some((f) => f.startsWith('partition:')), features.join(', '));
    const down = await kestrel(['health', '--json'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(down.code, EXIT.unavailable);
    assert.equal((JSON.parse(down.stdout) as Health).services.find((r) => r.name === 'temporal')!.ok, false);
  });

  describe('--json on the commands that print a result', function () {
    /** Runs the CLI with --json; stdout must be exactly one JSON value. */
    async function kestrelJson<T>(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stderr: string; value: T }> {
      const r = await kestrel([...args, '--json'], { ...env, ...extraEnv });
      return { code: r.code, stderr: r.stderr, value: JSON.parse(r.stdout) as T };
    }

    it('migrate: the database, whether it was created, and that migrations ran', async () => {
      const database = new URL(harness.databaseUrl).pathname.slice(1);
      for (const extra of [[], ['--no-create']]) {
        const r = await kestrelJson<{ database: string; created: boolean; migrated: boolean }>(['migrate', ...extra]);
        assert.equal(r.code, EXIT.ok, r.stderr);
        assert.deepEqual(r.value, { database, created: false, migrated: true });
      }
    });

    it('config validate: valid with the file it read, or invalid with every problem (exit 3, the message still on stderr)', async () => {
      const yaml = require.resolve('../../config/kestrel.yaml');
      const valid = await kestrelJson<{ valid: boolean; file: string | null }>(['config', 'validate']);
      assert.equal(valid.code, EXIT.ok, valid.stderr);
      assert.deepEqual(valid.value, { valid: true, file: yaml });

      const invalid = await kestrelJson<{ valid: boolean; file: string; error: string; problems: { key: string; message: string; source?: string }[] }>(['config', 'validate'], { KESTREL__RISK__MAX_POSITION_FRACTION: 'ten percent' });
      assert.equal(invalid.code, EXIT.config);
      assert.equal(invalid.value.valid, false);
      assert.equal(invalid.value.file, yaml);
      assert.match(invalid.value.error, /risk\.maxPositionFraction/);
      const problem = invalid.value.problems.find((p) => p.key === 'risk.maxPositionFraction');
      assert.ok(problem, JSON.stringify(invalid.value.problems));
      assert.equal(problem.source, 'env:KESTREL__RISK__MAX_POSITION_FRACTION');
      assert.match(invalid.stderr, /env:KESTREL__RISK__MAX_POSITION_FRACTION/);
    });

    it('config set | unset: the key, the value written, the override it replaced; whether one was removed', async () => {
      await kestrel(['config', 'unset', 'risk.maxConcurrentPositions'], env);
      const first = await kestrelJson<{ key: string; value: unknown; previous: unknown; reason: string | null }>(['config', 'set', 'risk.maxConcurrentPositions', '7', '--reason', 'json test']);
      assert.equal(first.code, EXIT.ok, first.stderr);
      assert.deepEqual(first.value, { key: 'risk.maxConcurrentPositions', value: 7, previous: null, reason: 'json test' });
      const second = await kestrelJson<{ key: string; value: unknown; previous: unknown; reason: string | null }>(['config', 'set', 'risk.maxConcurrentPositions', '9']);
      assert.deepEqual(second.value, { key: 'risk.maxConcurrentPositions', value: 9, previous: 7, reason: null });
      // A decimal is stored as text.
      const capital = await kestrelJson<{ value: unknown }>(['config', 'set', 'risk.capital', '12000.25']);
      assert.equal(capital.value.value, '12000.25');
      // Still refused without --force, and nothing on stdout.
      const zero = await kestrel(['config', 'set', 'risk.maxConcurrentPositions', '0', '--json'], env);
      assert.equal(zero.code, EXIT.usage);
      assert.equal(zero.stdout, '');

      for (const key of ['risk.maxConcurrentPositions', 'risk.capital']) {
        const removed = await kestrelJson<{ key: string; removed: boolean }>(['config', 'unset', key]);
        assert.equal(removed.code, EXIT.ok, removed.stderr);
        assert.deepEqual(removed.value, { key, removed: true });
      }
      const again = await kestrelJson<{ key: string; removed: boolean }>(['config', 'unset', 'risk.capital']);
      assert.deepEqual(again.value, { key: 'risk.capital', removed: false });
    });

    it('exit: a rejected exit prints the error as JSON too (exit 1)', async () => {
      const r = await kestrelJson<{ positionId: string; urgency: string; reason: string; accepted: boolean; error: string }>(['exit', 'position/no-such', '--urgency', 'low', '--reason', 'json test']);
      assert.equal(r.code, EXIT.failure);
      const { error, ...rest } = r.value;
      assert.deepEqual(rest, { positionId: 'position/no-such', urgency: 'LOW', reason: 'json test', accepted: false });
      assert.match(error, /not found/i);
      assert.match(r.stderr, /rejected: .*not found/i);
    });

    it('signals resolve: how many outcomes it resolved and how many are due but waiting for data', async () => {
      const handle = openDatabase(harness.databaseUrl, { max: 1 });
      try {
        const db = handle.db;
        const hash = await registerSignalConfig(db, { fixture: 'cli-json-test' });
        const now = Date.now();
        const withData = uniqueName('CLIJSON-PRICED');
        const withoutData = uniqueName('CLIJSON-SILENT');
        const ids: number[] = [];
        for (const market of [withData, withoutData]) {
          const [row] = await db
            .insert(signals)
            .values({ signalKey: uniqueName('sig'), type: 'volume_spike', marketTicker: market, markets: [market], category: 'cli-json', direction: 'yes', strength: 3, confidence: 0.8, priority: 'HIGH', firedAt: new Date(now - 20 * 60_000), midAtFire: '0.50000', inputs: { fixture: true }, configHash: hash, source: 'cli-json-test' })
            .returning({ id: signals.id });
          ids.push(row!.id);
          await db.insert(signalOutcomes).values({ signalId: row!.id, horizonMs: 10 * 60_000, dueAt: new Date(now - 10 * 60_000) });
        }
        // The priced market: a mid of 0.55 before the due time and data after it.
        await db.insert(priceHistory).values([
          { marketTicker: withData, ts: new Date(now - 12 * 60_000), source: 'cli-json-test', yesBid: '0.54', yesAsk: '0.56', cumulativeVolume: '10' },
          { marketTicker: withData, ts: new Date(now - 60_000), source: 'cli-json-test', yesBid: '0.60', yesAsk: '0.62', cumulativeVolume: '12' },
        ]);

        const r = await kestrelJson<{ resolved: number; pending: number }>(['signals', 'resolve']);
        assert.equal(r.code, EXIT.ok, r.stderr);
        assert.deepEqual(Object.keys(r.value).sort(), ['pending', 'resolved']);
        assert.ok(Number.isInteger(r.value.resolved) && r.value.resolved >= 1, JSON.stringify(r.value));
        assert.ok(Number.isInteger(r.value.pending) && r.value.pending >= 1, JSON.stringify(r.value));
        const outcomes = await db.select().from(signalOutcomes).where(inArray(signalOutcomes.signalId, ids));
        const byId = new Map(outcomes.map((o) => [o.signalId, o]));
        assert.deepEqual([byId.get(ids[0]!)!.resolvedBy, byId.get(ids[0]!)!.move], ['price', '0.05000']);
        assert.equal(byId.get(ids[1]!)!.resolvedAt, null);

        // Resolved outcomes are not counted again; the silent one is still waiting.
        const again = await kestrelJson<{ resolved: number; pending: number }>(['signals', 'resolve']);
        assert.ok(again.value.pending >= 1);
        assert.equal((await db.select().from(signalOutcomes).where(eq(signalOutcomes.signalId, ids[0]!)))[0]!.resolvedBy, 'price');
      } finally {
        await handle.close();
      }
    });

    it('risk reset: the reason and the state after the reset; risk --json then shows the reset event', async () => {
      const reason = uniqueName('cli json reset');
      const r = await kestrelJson<{ reset: boolean; reason: string; state: { mode: string; tripped: unknown[]; dailyPnl: string } }>(['risk', 'reset', '--reason', reason]);
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.equal(r.value.reset, true);
      assert.equal(r.value.reason, reason);
      assert.equal(r.value.state.mode, 'ACTIVE');
      assert.deepEqual(r.value.state.tripped, []);
      assert.equal(typeof r.value.state.dailyPnl, 'string');
      const shown = await kestrelJson<{ events: { kind: string; rule: string; reason: string }[] }>(['risk']);
      const event = shown.value.events.find((e) => e.reason === reason);
      assert.deepEqual(event && [event.kind, event.rule], ['reset', 'operator']);
    });

    it('retrain schedule: the schedule id, whether it was created, its interval and overlap policy', async () => {
      const scheduleId = uniqueName('cli-json-retrain');
      const scheduleEnv = { KESTREL__RETRAINING__SCHEDULE_ID: scheduleId, KESTREL__TEMPORAL__TASK_QUEUE: uniqueName('cli-json-queue'), KESTREL__RETRAINING__EVERY_MS: '7200000' };
      try {
        const created = await kestrelJson<{ scheduleId: string; created: boolean; everyMs: number; overlap: string }>(['retrain', 'schedule'], scheduleEnv);
        assert.equal(created.code, EXIT.ok, created.stderr);
        assert.deepEqual(created.value, { scheduleId, created: true, everyMs: 7_200_000, overlap: 'SKIP' });
        const updated = await kestrelJson<{ scheduleId: string; created: boolean }>(['retrain', 'schedule'], scheduleEnv);
        assert.equal(updated.value.created, false);
        const desc = await harness.env.client.schedule.getHandle(scheduleId).describe();
        assert.equal(desc.spec.intervals?.[0]?.every, 7_200_000);
      } finally {
        await harness.env.client.schedule
          .getHandle(scheduleId)
          .delete()
          .catch(() => {});
      }
    });
  });
});

describe('kestrel strategy create | list | start | stop (real Temporal worker)', function () {
  this.timeout(120_000);
  const stack = useStack();

  it('creates an immutable version from a file, starts it on paper subscribed to its signal types, lists and stops it', async () => {
    const harness = await getHarness();
    const s = stack();
    const env = { DATABASE_URL: harness.databaseUrl, REDIS_URL: harness.redisUrl, TEMPORAL_ADDRESS: harness.temporalAddress, KESTREL__TEMPORAL__TASK_QUEUE: s.config.temporal.taskQueue };
    const name = `imb-${process.pid}-${Date.now() % 100000}`;
    const file = path.join(REPO_ROOT, 'config', 'strategies', 'imbalance.yaml');

    assert.equal((await kestrel(['strategy', 'create', 'Bad Name!', '--file', file], env)).code, EXIT.usage);
    assert.match((await kestrel(['strategy', 'create', name, '--file', '/nope.yaml'], env)).stderr, /ENOENT|no such file/);
    const created = await kestrel(['strategy', 'create', name, '--file', file], env);
    assert.equal(created.code, EXIT.ok, created.stderr);
    assert.match(created.stdout, new RegExp(`created strategy ${name} v1\\.0`));

    // The workers here route to paper: a strategy for another venue is refused, not traded on the wrong exchange.
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'kalshi', '--feed', 'kalshi'], env)).stderr, /--venue kalshi, but the workers route orders to paper \(venues\.execution\); start `kestrel up` and this command with KESTREL__VENUES__EXECUTION=kalshi/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'polymarket', '--feed', 'polymarket'], env)).stderr, /--venue polymarket, but the workers route orders to paper \(venues\.execution\); start `kestrel up` and this command with KESTREL__VENUES__EXECUTION=polymarket .*POLYMARKET_PRIVATE_KEY/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'polymarket', '--feed', 'kalshi'], env)).stderr, /--venue polymarket cannot trade the markets of --feed kalshi/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'kalshi', '--feed', 'replay:gold'], env)).stderr, /cannot trade on kalshi/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'paper', '--feed', 'tape'], env)).stderr, /--feed must be live, kalshi, polymarket or replay/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'paper', '--feed', 'replay:tulips'], env)).stderr, /unknown replay dataset "tulips"; known: gold/);
    assert.equal((await kestrel(['strategy', 'start', 'no-such-strategy', '--venue', 'paper', '--feed', 'live'], env)).code, EXIT.usage);
    const started = await kestrel(['strategy', 'start', name, '--venue', 'paper', '--feed', 'live', '--json'], env);
    assert.equal(started.code, EXIT.ok, started.stderr);
    const { workflowId, status } = JSON.parse(started.stdout) as { workflowId: string; status: string };
    assert.equal(status, 'testing', 'a draft that starts trading moves to testing');
    const [run] = await s.database.db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, workflowId));
    assert.deepEqual(run!.signalTypes, ['book_imbalance', 'volume_spike']);

    const list = JSON.parse((await kestrel(['strategy', 'list', '--json'], env)).stdout) as { name: string; runs: { workflowId: string; status: string }[] }[];
    assert.deepEqual(list.find((r) => r.name === name)!.runs.map((r) => [r.workflowId, r.status]), [[workflowId, 'running']]);

    const stopped = await kestrel(['strategy', 'stop', workflowId], env);
    assert.equal(stopped.code, EXIT.ok, stopped.stderr);
    assert.match(stopped.stdout, /0 open positions/);
    assert.match((await kestrel(['strategy', 'stop', workflowId], env)).stderr, /already stopped/);
    // The workflow completes one task after the stop Update (workflows/strategy.ts says why).
    await s.temporal.workflow.getHandle(workflowId).result();
    const desc = await s.temporal.workflow.getHandle(workflowId).describe();
    assert.equal(desc.status.name, 'COMPLETED');

    // The same version on the recorded gold feed, in lockstep through its own workers (no trained weights here: no entries).
    const replayed = await kestrel(['strategy', 'start', name, '--venue', 'paper', '--feed', 'replay:gold', '--markets', '1', '--json'], { ...env, KESTREL__REPLAY__DATA_DIR: path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws') });
    assert.equal(replayed.code, EXIT.ok, replayed.stderr);
    const replayRun = JSON.parse(replayed.stdout) as { workflowId: string; detected: number; positions: unknown[] };
    assert.ok(replayRun.detected > 0, 'the signal engine ran on the recorded books');
    const [replayRow] = await s.database.db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, replayRun.workflowId));
    assert.deepEqual([replayRow!.feed, replayRow!.status], ['replay:gold', 'completed']);
  });
});
