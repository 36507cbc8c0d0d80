import assert from 'node:assert/strict';
import { EXIT } from '../../cli/main';
import { kestrel } from '../support/cli';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { strategyRuns } from '../../db/schema';
import { getHarness, REPO_ROOT, SHARED_DATA_DIR, type Harness } from '../support/harness';
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

  it('health reports each service and exits 4 when one is down', async () => {
    const ok = await kestrel(['health', '--json'], env);
    assert.equal(ok.code, EXIT.ok, ok.stdout + ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { name: string; ok: boolean }[]).map((r) => [r.name, r.ok]), [['postgres', true], ['redis', true], ['temporal', true]]);
    const down = await kestrel(['health', '--json'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(down.code, EXIT.unavailable);
    assert.equal((JSON.parse(down.stdout) as { name: string; ok: boolean }[]).find((r) => r.name === 'temporal')!.ok, false);
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
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'polymarket', '--feed', 'live'], env)).stderr, /no Polymarket execution client/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'kalshi', '--feed', 'replay:gold'], env)).stderr, /cannot trade on kalshi/);
    assert.match((await kestrel(['strategy', 'start', name, '--venue', 'paper', '--feed', 'tape'], env)).stderr, /--feed must be live, kalshi or replay/);
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
