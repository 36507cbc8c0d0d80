import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { fills, orders, positionExits, positions } from '../../db/schema';
import type { Alert } from '../../domain/alerts';
import { resolveConfig } from '../../config/load';
import { startSignalReports, writeDailyReport } from '../../workers/signal-reports';
import { tradingActivity } from '../../db/activity-report';
import { Dec } from '../../domain/decimal';
import { eq } from 'drizzle-orm';
import { createRedis } from '../../workers/redis';
import { getHarness, uniqueName } from '../support/harness';
import { waitFor } from '../support/wait';

describe('daily P&L and activity report', function () {
  this.timeout(30_000);
  let database: DatabaseHandle;
  before(async () => {
    database = openDatabase((await getHarness()).databaseUrl, { max: 2 });
  });
  after(() => database?.close());

  it('sums the day per strategy and venue, with orders, fills, exits and what is still open, as a file and an alert', async () => {
    // A day of its own (far from other tests' data): two closed positions on two venues, one still open.
    const day = Date.parse('2033-03-04T00:00:00Z');
    const at = (h: number) => new Date(day - 86_400_000 + h * 3_600_000);
    const strategyId = uniqueName('daily');
    const id = (n: string) => `position/${strategyId}/${n}`;
    // Other suites' positions still open count as open at this window's end too: the figures below are over them.
    const before = await tradingActivity(database.db, { fromMs: day - 86_400_000, toMs: day });
    await database.db.insert(positions).values([
      { positionId: id('a'), strategyId, venue: 'kalshi', marketTicker: 'KX-A', outcome: 'yes', status: 'closed', entryPrice: '0.4000', size: '10', remainingSize: '0', realizedPnl: '1.250000', fees: '0.140000', state: {}, openedAt: at(1), closedAt: at(2) },
      { positionId: id('b'), strategyId, venue: 'polymarket', marketTicker: 'PM-B', outcome: 'no', status: 'settled', entryPrice: '0.6000', size: '5', remainingSize: '0', realizedPnl: '-0.500000', fees: '0.050000', state: {}, openedAt: at(3), closedAt: at(20) },
      { positionId: id('c'), strategyId, venue: 'kalshi', marketTicker: 'KX-C', outcome: 'yes', status: 'open', entryPrice: '0.2500', size: '8', remainingSize: '8', state: {}, openedAt: at(22) },
    ]);
    const order = (n: string, status: string, h: number) => ({ clientOrderId: `${strategyId}-${n}`, positionId: id('a'), venue: 'kalshi', marketTicker: 'KX-A', purpose: 'entry', outcome: 'yes', action: 'buy', limitPrice: '0.4000', size: '10', timeInForce: 'gtc', status, submittedAt: at(h) });
    await database.db.insert(orders).values([order('o1', 'filled', 1), order('o2', 'filled', 2), order('o3', 'cancelled', 2)]);
    await database.db.insert(fills).values([
      { clientOrderId: `${strategyId}-o1`, seq: 1, price: '0.4000', size: '10', liquidity: 'taker', fee: '0.070000', filledAt: at(1) },
      { clientOrderId: `${strategyId}-o2`, seq: 1, price: '0.5300', size: '10', liquidity: 'taker', fee: '0.070000', filledAt: at(2) },
    ]);
    await database.db.insert(positionExits).values({ positionId: id('a'), exitNo: 1, reason: 'take_profit', urgency: 'MEDIUM', requestedSize: '10', filledSize: '10', averagePrice: '0.530000', fees: '0.070000', realizedPnl: '1.250000', attempts: 1, triggered: [], finishedAt: at(2) });

    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-daily-'));
    const alerts: Omit<Alert, 'atMs'>[] = [];
    const { file, activity } = await writeDailyReport({ db: database.db, clock: { nowMs: () => day }, dir, alert: (a) => alerts.push(a) });
    const mine = activity.closed.filter((r) => r.strategy === strategyId);
    assert.deepEqual(mine.map((r) => [r.venue, r.trades, r.wins, r.losses]), [['kalshi', 1, 1, 0], ['polymarket', 1, 0, 1]]);
    const markdown = readFileSync(file, 'utf8');
    assert.match(markdown, /^# Kestrel daily report/);
    assert.match(markdown, new RegExp(`\\| ${strategyId} \\| kalshi \\| 1 \\| 1 \\| 0 \\| 1\\.2500 \\| 0\\.1400 \\|`));
    assert.match(markdown, new RegExp(`\\| ${strategyId} \\| polymarket \\| 1 \\| 0 \\| 1 \\| -0\\.5000 \\| 0\\.0500 \\|`));
    assert.match(markdown, /\*\*P&L 0\.7500\*\* over 2 closed position\(s\), 1 won \(50\.0%\), fees 0\.1900\. Opened 3;/);
    assert.equal(activity.open.positions, before.open.positions + 1);
    assert.ok(new Dec(activity.open.exposure).eq(new Dec(before.open.exposure).plus(2)), `${before.open.exposure} + 2 = ${activity.open.exposure}`);
    assert.match(markdown, /3 order\(s\) submitted \(cancelled 1, filled 2\); 2 fill\(s\), 20 contracts, fees 0\.1400/);
    assert.match(markdown, /\| take_profit \| 1 \| 1\.2500 \|/);
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity, a.title]), [['daily_report', 'info', 'daily report: P&L 0.75 over 2 closed position(s)']]);
    // The open one would count against later suites' position limits in the shared database.
    await database.db.delete(positions).where(eq(positions.strategyId, strategyId));
  });

  it('runs on its cron schedule (BullMQ job scheduler) and refuses a pattern that is not one', async () => {
    const harness = await getHarness();
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-daily-cron-'));
    // Every second (the 6-field form): the job must come round by itself.
    const config = harness.config({ 'reports.dailyReportCron': '* * * * * *', 'reports.dir': dir });
    const connection = createRedis(config.redis.url, 'producer');
    const workerConnection = createRedis(config.redis.url, 'worker');
    const alerts: Omit<Alert, 'atMs'>[] = [];
    const reports = await startSignalReports({ connection, workerConnection, prefix: config.redis.keyPrefix, db: database.db, clock: { nowMs: () => Date.now() }, alert: (a) => alerts.push(a), config, log: () => {} });
    try {
      await waitFor(() => readdirSync(dir).some((f) => f.startsWith('daily-report-')), Boolean, 'a daily report file', 15_000);
      assert.ok(alerts.some((a) => a.kind === 'daily_report'));
    } finally {
      await reports.close();
      const keys = await connection.keys(`${config.redis.keyPrefix}:*`);
      if (keys.length) await connection.del(...keys);
      connection.disconnect();
      workerConnection.disconnect();
    }
    assert.throws(() => resolveConfig({ inline: { 'reports.dailyReportCron': 'every day' } }), /dailyReportCron.*cron pattern/s);
  });
});
