import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { eq, inArray, sql } from 'drizzle-orm';
import { signalAttribution } from '../../db/attribution';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { modelVersions, positions, signals, strategyVersions } from '../../db/schema';
import { recordEntrySignal, registerSignalConfig } from '../../db/signals-repo';
import { TradingRepository } from '../../db/trading-repo';
import { createVersion, transitionVersion } from '../../db/versions-repo';
import { createStrategy, readStrategyConfig, versionToRun } from '../../cli/strategy';
import { createLogger } from '../../observability/logger';
import { replayStrategy } from '../../runs/strategy-replay';
import { SIGNAL_MODEL } from '../../workers/signals/pipeline';
import type { Alert } from '../../domain/alerts';
import { Dec } from '../../domain/decimal';
import { MOMENTUM_MODEL } from '../../domain/strategies/momentum';
import { MOMENTUM_STRATEGY } from '../../runs/momentum-provenance';
import { runMarketClockPaperSession, runPaperSession } from '../../runs/paper-session';
import { resetRiskState } from '../../db/risk-repo';
import { createRedis } from '../../workers/redis';
import { checkSignalDegradation } from '../../workers/signal-reports';
import { kestrel } from '../support/cli';
import { getHarness, REPO_ROOT } from '../support/harness';
import { useStack } from '../support/stack';
import { waitFor } from '../support/wait';

// A recorded window the momentum rule trades (entries, exits and a settlement).
const MARKET = 'KXGOLD15M-26AUG060800-00';
const suffix = () => randomBytes(4).toString('hex');

/** Closed positions of one signal type in a category of their own (so other suites' rows never mix in), each with its `signals` row. */
async function closedPositions(db: DatabaseHandle['db'], opts: { type: string; category: string; modelVersionId: number; pnls: readonly string[]; closedFromMs: number }) {
  const repo = new TradingRepository(db);
  const configHash = await registerSignalConfig(db, { test: opts.type });
  const ids: string[] = [];
  for (const [i, pnl] of opts.pnls.entries()) {
    const market = `${opts.category.toUpperCase()}-M${i}`;
    const firedAtMs = opts.closedFromMs + i * 60_000 - 30_000;
    const signalId = await recordEntrySignal(db, { key: `${opts.type}:${market}:${firedAtMs}`, type: opts.type, market, markets: [market], category: opts.category, direction: 'yes', strength: 1, confidence: 1, priority: 'HIGH', firedAtMs, inputs: {} }, { configHash, source: 'test', horizonsMs: [] });
    const positionId = `position/test-${opts.type}/${market}/1`;
    await repo.recordPosition({ positionId, strategyId: `test-${opts.type}`, market, outcome: 'yes', status: i % 2 ? 'settled' : 'closed', entryPrice: '0.5000', size: '10', remainingSize: '0', realizedPnl: pnl, fees: '0.010000', state: {}, openedAtMs: firedAtMs, closedAtMs: opts.closedFromMs + i * 60_000, provenance: { modelVersionId: opts.modelVersionId, signalId: `signal:${signalId}` } }, 'sim', Date.now());
    ids.push(positionId);
  }
  return ids;
}

describe('learning loop: provenance of every position, attribution per signal × model version, degradation alerts, the signal report job', function () {
  this.timeout(300_000);

  it('a market-clock paper session records strategy version, model version and a signals row for every position; `why --json` shows the model version and its weight', async () => {
    const harness = await getHarness();
    const config = harness.config({ 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const session = await runMarketClockPaperSession({ config, feed: 'replay', markets: [MARKET], log: () => {}, stack: { workflowBundle: harness.workflowBundle } });
    assert.ok(session.positions.length > 0, 'the window trades');
    const handle = openDatabase(harness.databaseUrl, { max: 2 });
    try {
      const db = handle.db;
      const rows = await db.select().from(positions).where(inArray(positions.positionId, session.positions.map((p) => p.positionId)));
      assert.equal(rows.length, session.positions.length);
      const [strategy] = await db.select().from(strategyVersions).where(inArray(strategyVersions.id, [...new Set(rows.map((r) => r.strategyVersionId ?? -1))]));
      const [model] = await db.select().from(modelVersions).where(inArray(modelVersions.id, [...new Set(rows.map((r) => r.modelVersionId ?? -1))]));
      assert.equal(strategy?.strategyName, MOMENTUM_STRATEGY);
      assert.equal(model?.modelName, MOMENTUM_MODEL);
      const signalIds = rows.map((r) => {
        assert.equal(r.strategyVersionId, strategy!.id, r.positionId);
        assert.equal(r.modelVersionId, model!.id, r.positionId);
        const m = /^signal:(\d+)$/.exec(r.signalId ?? '');
        assert.ok(m, `${r.positionId} refers to a signals row: ${r.signalId}`);
        return Number(m[1]);
      });
      const signalRows = await db.select().from(signals).where(inArray(signals.id, signalIds));
      assert.equal(signalRows.length, new Set(signalIds).size, 'every entry signal is a signals row');
      for (const r of rows) {
        const s = signalRows.find((x) => `signal:${x.id}` === r.signalId)!;
        assert.equal(s.type, 'momentum');
        assert.equal(s.category, 'kxgold15m');
        assert.equal(s.marketTicker, r.marketTicker);
        assert.ok(s.actionable);
      }

      const env = { DATABASE_URL: harness.databaseUrl, REDIS_URL: harness.redisUrl, TEMPORAL_ADDRESS: harness.temporalAddress };
      const entered = rows.find((r) => new Dec(r.size).gt(0))!;
      const why = await kestrel(['why', `${entered.positionId}/entry/attempt-1`, '--json'], env);
      assert.equal(why.code, 0, why.stderr);
      const explained = JSON.parse(why.stdout) as { strategy: { name: string; version: string }; model: { id: number; name: string; version: string; weight: { type: string; category: string; weight: number } | null }; signal: { type: string; category: string } };
      assert.equal(explained.strategy.name, MOMENTUM_STRATEGY);
      assert.equal(explained.model.id, model!.id);
      assert.equal(explained.model.name, MOMENTUM_MODEL);
      assert.deepEqual({ type: explained.model.weight?.type, category: explained.model.weight?.category, weight: explained.model.weight?.weight }, { type: 'momentum', category: '*', weight: 1 });
      assert.deepEqual(explained.signal && { type: explained.signal.type, category: explained.signal.category }, { type: 'momentum', category: 'kxgold15m' });
      const text = await kestrel(['why', `${entered.positionId}/entry/attempt-1`], env);
      assert.match(text.stdout, new RegExp(`model {5}${MOMENTUM_MODEL} ${model!.version}`));
      assert.match(text.stdout, /weight {4}1 for momentum\/\*/);

      // The attribution report counts this session's closed trades under momentum × kxgold15m × momentum-rule.
      const report = await kestrel(['report', 'signals', '--days', '3650', '--json'], env);
      assert.equal(report.code, 0, report.stderr);
      const momentumRow = (JSON.parse(report.stdout) as { rows: { type: string; category: string; modelVersionId: number; trades: number }[] }).rows.find((r) => r.type === 'momentum' && r.category === 'kxgold15m' && r.modelVersionId === model!.id);
      const traded = rows.filter((r) => (r.status === 'closed' || r.status === 'settled') && new Dec(r.size).gt(0)).length;
      assert.ok(momentumRow && momentumRow.trades >= traded, JSON.stringify(momentumRow));
      assert.equal((await kestrel(['report', 'signals', '--days', 'many'], env)).code, 2);
      assert.match((await kestrel(['report', 'signals', '--as-of', 'yesterday'], env)).stderr, /--as-of must be an ISO-8601 time/);
      assert.match((await kestrel(['report', 'pnl', '--as-of', '2026-01-01'], env)).stderr, /--as-of applies to `kestrel report signals` only/);
    } finally {
      await handle.close();
    }
  });

  it('replay:gold records the strategy version, the active signal-weights model version and every entry signal as a signals row', async () => {
    const harness = await getHarness();
    const config = harness.config({ 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const handle = openDatabase(harness.databaseUrl, { max: 2 });
    const tag = suffix();
    // A test model (not a trained one) that trusts every actionable signal type in kxgold15m with a +$0.05 move.
    const weights = config.signals.actionableTypes.map((type) => ({ type, category: 'kxgold15m', winRate: 0.7, expectedMove: 500, weight: 0.4, count: 100 }));
    const model = await createVersion(handle.db, 'model', SIGNAL_MODEL, { weights, test: tag });
    try {
      for (const to of ['training', 'validating', 'active']) await transitionVersion(handle.db, 'model', model.id, to, 'provenance test');
      const name = `replay-provenance-${tag}`;
      await createStrategy(handle.db, name, readStrategyConfig(path.join(REPO_ROOT, 'config/strategies/imbalance.yaml')));
      const version = await versionToRun(handle.db, name);
      const run = await replayStrategy({ config, logger: createLogger({ level: 'warn' }), name, version, markets: 3, nowMs: Date.now(), log: () => {} });
      assert.ok(run.positions.length > 0, `engine signals became positions (${run.detected} detected)`);
      const rows = await handle.db.select().from(positions).where(inArray(positions.positionId, run.positions.map((p) => p.positionId)));
      assert.equal(rows.length, run.positions.length);
      for (const r of rows) {
        assert.equal(r.strategyVersionId, version.id, r.positionId);
        assert.equal(r.modelVersionId, model.id, r.positionId);
        const m = /^signal:(\d+)$/.exec(r.signalId ?? '');
        assert.ok(m, `${r.positionId} refers to a signals row: ${r.signalId}`);
        const [s] = await handle.db.select().from(signals).where(inArray(signals.id, [Number(m[1])]));
        assert.ok(s && ['book_imbalance', 'volume_spike'].includes(s.type) && s.category === 'kxgold15m' && s.marketTicker === r.marketTicker, JSON.stringify(s));
        assert.equal((s.inputs as { modelVersionId?: number }).modelVersionId, model.id);
      }
    } finally {
      // Later suites find no active test model.
      await transitionVersion(handle.db, 'model', model.id, 'deprecated', 'provenance test done').catch(() => {});
      await handle.close();
    }
  });

  it('attribution: P&L, win rate and count per signal type × category × model version from closed positions in the window', async () => {
    const harness = await getHarness();
    const handle = openDatabase(harness.databaseUrl, { max: 2 });
    try {
      const db = handle.db;
      const tag = suffix();
      const v1 = await createVersion(db, 'model', `attribution-${tag}`, { weights: [{ type: 'volume_spike', category: '*', weight: 0.3 }] });
      const v2 = await createVersion(db, 'model', `attribution-${tag}`, { weights: [{ type: 'volume_spike', category: '*', weight: 0.5 }] });
      const t0 = Date.UTC(2026, 0, 5, 12);
      await closedPositions(db, { type: 'volume_spike', category: `cat${tag}a`, modelVersionId: v1.id, pnls: ['0.500000', '-0.200000', '0.100000'], closedFromMs: t0 });
      await closedPositions(db, { type: 'volume_spike', category: `cat${tag}b`, modelVersionId: v2.id, pnls: ['-0.300000'], closedFromMs: t0 });
      // Closed after the window: not counted.
      await closedPositions(db, { type: 'volume_spike', category: `cat${tag}c`, modelVersionId: v2.id, pnls: ['9.000000'], closedFromMs: t0 + 86_400_000 });
      const rows = (await signalAttribution(db, { fromMs: t0, toMs: t0 + 3_600_000 })).filter((r) => r.category?.startsWith(`cat${tag}`));
      assert.deepEqual(rows, [
        { type: 'volume_spike', category: `cat${tag}a`, modelVersionId: v1.id, model: `attribution-${tag}`, modelVersion: 'v1.0', trades: 3, wins: 2, losses: 1, winRate: 2 / 3, pnl: '0.400000', fees: '0.030000', pnlPerTrade: '0.133333' },
        { type: 'volume_spike', category: `cat${tag}b`, modelVersionId: v2.id, model: `attribution-${tag}`, modelVersion: 'v1.1', trades: 1, wins: 0, losses: 1, winRate: 0, pnl: '-0.300000', fees: '0.010000', pnlPerTrade: '-0.300000' },
      ]);
      await assert.rejects(signalAttribution(db, { fromMs: t0, toMs: t0 }), /non-empty range/);
    } finally {
      await handle.close();
    }
  });

  it('degradation: alerts once when a signal type falls below its baseline, again only after it recovered', async () => {
    const harness = await getHarness();
    const handle = openDatabase(harness.databaseUrl, { max: 2 });
    const redis = createRedis(harness.redisUrl, 'producer');
    try {
      const db = handle.db;
      const tag = suffix();
      const type = `degrading-${tag}`;
      const model = await createVersion(db, 'model', `degradation-${tag}`, { weights: [] });
      const t0 = Date.UTC(2026, 1, 1);
      // 10 baseline trades winning 60%, then 5 recent trades winning 20%.
      await closedPositions(db, { type, category: `deg${tag}a`, modelVersionId: model.id, pnls: ['0.2', '0.2', '-0.1', '0.2', '-0.1', '0.2', '-0.1', '0.2', '-0.1', '0.2'], closedFromMs: t0 });
      await closedPositions(db, { type, category: `deg${tag}b`, modelVersionId: model.id, pnls: ['-0.1', '0.2', '-0.1', '-0.1', '-0.1'], closedFromMs: t0 + 3_600_000 });
      const sent: Omit<Alert, 'atMs'>[] = [];
      const deps = { db, redis, stateKey: `test-degradation-${tag}`, settings: { pct: 20, recentTrades: 5, baselineTrades: 10 }, alert: (a: Omit<Alert, 'atMs'>) => void sent.push(a) };
      const first = (await checkSignalDegradation(deps)).find((d) => d.type === type);
      assert.ok(first?.judged && first.recent.winRate === 0.2 && first.baseline.winRate === 0.6, JSON.stringify(first));
      assert.deepEqual(first.degraded, ['win_rate', 'pnl_per_trade']);
      const mine = () => sent.filter((a) => a.key === type);
      assert.equal(mine().length, 1);
      assert.equal(mine()[0]!.kind, 'signal_degradation');
      assert.match(mine()[0]!.detail, /win rate 20\.0% over the last 5 trades vs 60\.0% over the 10 before/);
      await checkSignalDegradation(deps);
      assert.equal(mine().length, 1, 'still degraded: not alerted again');
      // Five winners: the recent window recovers (and the state is cleared), then a new fall alerts again.
      await closedPositions(db, { type, category: `deg${tag}c`, modelVersionId: model.id, pnls: ['0.2', '0.2', '0.2', '0.2', '0.2'], closedFromMs: t0 + 7_200_000 });
      assert.deepEqual((await checkSignalDegradation(deps)).find((d) => d.type === type)!.judged && mine().length, 1);
      assert.equal(await redis.hget(deps.stateKey, type), null);
      await closedPositions(db, { type, category: `deg${tag}d`, modelVersionId: model.id, pnls: ['-0.1', '-0.1', '-0.1', '-0.1', '-0.1'], closedFromMs: t0 + 10_800_000 });
      await checkSignalDegradation(deps);
      assert.equal(mine().length, 2);
      await redis.del(deps.stateKey);
    } finally {
      await redis.quit();
      await handle.close();
    }
  });

  describe('the wall-clock paper session (BullMQ pipeline, momentum watcher)', () => {
    const stack = useStack({}, (s) => resetRiskState(s.database.db, 'provenance test', Date.now()));

    it('records the momentum strategy version, the momentum-rule model version and a signals row for every position', async () => {
      const summary = await runPaperSession(stack(), { marketLimit: 2, speed: 60, log: () => {} }).finally(() => resetRiskState(stack().database.db, 'provenance test done', Date.now()));
      assert.ok(summary.positions.length > 0, 'the momentum rule entered');
      const db = stack().database.db;
      const rows = await db
        .select({ positionId: positions.positionId, strategy: strategyVersions.strategyName, model: modelVersions.modelName, signalType: signals.type, signalMarket: signals.marketTicker, market: positions.marketTicker })
        .from(positions)
        .leftJoin(strategyVersions, eq(strategyVersions.id, positions.strategyVersionId))
        .leftJoin(modelVersions, eq(modelVersions.id, positions.modelVersionId))
        .leftJoin(signals, sql`${positions.signalId} = 'signal:' || ${signals.id}`)
        .where(inArray(positions.positionId, summary.positions.map((p) => p.positionId)));
      assert.equal(rows.length, summary.positions.length);
      for (const r of rows) assert.deepEqual([r.strategy, r.model, r.signalType, r.signalMarket], [MOMENTUM_STRATEGY, MOMENTUM_MODEL, 'momentum', r.market], r.positionId);
    });
  });

  describe('the signal report job (BullMQ job scheduler registered by the stack)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-reports-'));
    const bodies: { text: string; kestrel: Alert }[] = [];
    let server: Server;
    let url = '';
    before(async () => {
      server = createServer((req, res) => {
        let data = '';
        req.on('data', (c: Buffer) => (data += c.toString()));
        req.on('end', () => {
          bodies.push(JSON.parse(data));
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));
    const EVERY_MS = 6000;
    const stack = useStack({ 'reports.signalReportEveryMs': EVERY_MS, 'reports.dir': dir, 'alerts.signalDegradationEveryMs': 0, get 'alerts.webhookUrl'() { return url; } });

    it('writes the report of the interval as Markdown and sends it through the alert channels', async () => {
      const s = stack();
      const queue = new Queue('kestrel-signal-reports', { connection: s.redis, prefix: s.config.redis.keyPrefix });
      try {
        const scheduler = await queue.getJobScheduler('signal-report');
        assert.ok(scheduler?.next, 'the scheduler exists, its first run one interval after it was created');
        assert.equal(Number(scheduler.every), EVERY_MS);
        assert.ok(readdirSync(dir).length === 0 && scheduler.next > Date.now(), 'nothing written at start');
        // A position closing inside the first report's interval.
        const tag = suffix();
        const model = await createVersion(s.database.db, 'model', `report-${tag}`, { weights: [] });
        await closedPositions(s.database.db, { type: 'book_imbalance', category: `rep${tag}`, modelVersionId: model.id, pnls: ['0.420000'], closedFromMs: scheduler.next - 2000 });
        const file = await waitFor(() => readdirSync(dir).find((f) => f.endsWith('.md')), Boolean, 'the report file', 30_000);
        const markdown = readFileSync(path.join(dir, file!), 'utf8');
        assert.match(markdown, /^# Kestrel signal report/);
        assert.match(markdown, new RegExp(`\\| book_imbalance \\| rep${tag} \\| report-${tag} v1\\.0 \\| 1 \\| 1 \\| 0 \\| 100\\.0% \\| 0\\.4200 \\| 0\\.4200 \\| 0\\.0100 \\|`));
        const sent = await waitFor(() => bodies.find((b) => b.kestrel.kind === 'signal_report'), Boolean, 'the report alert', 10_000);
        assert.equal(sent!.kestrel.severity, 'info');
        assert.ok(sent!.text.includes(`rep${tag}`) && sent!.text.includes(path.join(dir, file!)), sent!.text);
      } finally {
        await queue.close();
      }
    });
  });
});
