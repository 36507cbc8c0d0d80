import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { dashboardData } from '../../observability/dashboard';
import { topOfBookFields, topOfBookKey } from '../../workers/market-data/book-worker';
import { readTopOfBook } from '../../workers/market-data/top-of-book';
import { startMetricsServer } from '../../observability/metrics';
import type { PositionInput } from '../../workflows/position';
import { REPO_ROOT, uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';
import { positionQuery, positionWorkflow, requestExitUpdate } from '../../workflows/position';

const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

describe('dashboard page in headless Chromium (real stack)', function () {
  this.timeout(90_000);
  const stack = useStack();
  let browser: Browser | undefined;
  before(function () {
    // scripts/test.sh installs Debian's chromium when it can; say so plainly when it could not.
    if (!existsSync(CHROMIUM)) this.skip();
  });
  after(() => browser?.close());

  it('shows open and closed positions with Temporal UI links, the P&L chart, signals and the breaker state', async () => {
    const s = stack();
    const m = uniqueName('DASH');
    s.books.state(m).book.applySnapshot([level('0.45', 100)], [level('0.50', 100)], Date.now());
    s.books.state(m).receivedAtMs = Date.now();
    const start = (id: string) => {
      const input: PositionInput = { strategyId: 'dashboard-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.51', size: '4', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } };
      return s.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: s.config.temporal.taskQueue, workflowId: id });
    };
    const closedId = `position/dash/${m}/1`;
    const closed = await start(closedId);
    await waitFor(() => closed.query(positionQuery), (p) => p.status === 'open', 'open');
    await closed.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await closed.result();
    const openId = `position/dash/${m}/2`;
    const open = await start(openId);
    await waitFor(() => open.query(positionQuery), (p) => p.status === 'open', 'second open');

    const ui = 'http://127.0.0.1:8233/namespaces/default';
    await s.redis.hset(topOfBookKey(s.config.redis.keyPrefix, m), topOfBookFields(s.books.state(m).book));
    const marks = (markets: readonly string[]) => readTopOfBook(s.redis, s.config.redis.keyPrefix, markets);
    const server = await startMetricsServer({ port: 0, metrics: s.metrics, health: s.health, dashboard: () => dashboardData(s.database.db, ui, Date.now(), marks) });
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/`);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 10_000 });
      assert.equal(await page.textContent('#mode'), 'ACTIVE');
      const openRow = page.locator('#open tbody tr', { hasText: openId });
      assert.equal(await openRow.count(), 1);
      assert.equal(await openRow.locator('a').getAttribute('href'), `${ui}/workflows/${encodeURIComponent(openId)}`);
      const closedRow = page.locator('#closed tbody tr', { hasText: closedId });
      assert.match((await closedRow.textContent()) ?? '', /-0\.\d{4}/, 'bought at 0.50, sold at 0.45: a loss');
      const points = (await page.getAttribute('#pnl-line', 'points')) ?? '';
      // Other tests share the database: the curve runs from 0 through every closed position in it.
      const data = await dashboardData(s.database.db, ui, Date.now());
      assert.ok(data.pnlCurve.length >= 1);
      assert.equal(points.split(' ').length, data.pnlCurve.length + 1, 'the P&L curve runs from 0 through each closed position');
      const shot = await page.screenshot({ fullPage: false });
      assert.deepEqual(pngSize(shot), { width: 900, height: 900 });
      assert.ok(shot.length > 20_000, `a rendered page, not a blank one (${shot.length} bytes)`);
      const dir = path.join(REPO_ROOT, 'test-output');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'dashboard.png'), shot);
      // Open positions are marked at the published top of book (what the book workers write to Redis).
      const openView = (await dashboardData(s.database.db, ui, Date.now(), marks)).open.find((p) => p.positionId === openId)!;
      // Bought 4 at 0.50 (the ask), YES bid 0.45: unrealized 4 × (0.45 − 0.50).
      assert.deepEqual([openView.mark, openView.unrealizedPnl], ['0.4500', '-0.2000']);
      assert.match((await openRow.textContent()) ?? '', /0\.4500-0\.2000$/);
      for (const table of ['runs', 'retraining', 'signals']) assert.equal(await page.locator(`#${table} thead th`).count() > 0, true, `${table} table`);
      assert.deepEqual(errors, []);
      await open.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
      await open.result();
    } finally {
      await server.close();
    }
  });
});
