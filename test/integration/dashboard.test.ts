import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq, like } from 'drizzle-orm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { backtestConfig, runBacktest } from '../../backtest/gold-backtest';
import { loadRecordedWindow } from '../../backtest/recorded-data';
import { writeBacktestReport } from '../../backtest/report';
import { startStackConsole } from '../../cli/console';
import { createStrategy, readStrategyConfig } from '../../cli/strategy';
import { consoleActions, exitAttempts, positions, strategyRuns } from '../../db/schema';
import { DEFAULT_MOMENTUM, momentumRule } from '../../domain/strategies/momentum';
import type { ConsoleServer } from '../../observability/console/server';
import { startMetricsServer } from '../../observability/metrics';
import { topOfBookFields, topOfBookKey } from '../../workers/market-data/book-worker';
import { positionQuery, positionWorkflow, requestExitUpdate, type PositionInput } from '../../workflows/position';
import { REPO_ROOT, uniqueName } from '../support/harness';
import { useStack } from '../support/stack';
import { level, waitFor } from '../support/wait';

const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = path.join(REPO_ROOT, 'docs', 'screenshots');
const TOKEN = 'console-test-token-7f3a9c1e5b';
const UI = 'http://127.0.0.1:8233/namespaces/default';

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

/** Saves a full-page screenshot for the README and checks it is a rendered page, not a blank one. */
async function screenshot(page: Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  assert.equal(pngSize(png).width, 1280);
  assert.ok(png.length > 30_000, `${name}: a rendered page, not a blank one (${png.length} bytes)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  writeFileSync(path.join(SCREENSHOTS, name), png);
}

describe('web console in headless Chromium (real stack)', function () {
  this.timeout(240_000);
  const stack = useStack();
  let browser: Browser | undefined;
  let webConsole: ConsoleServer | undefined;
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  const backtestDir = mkdtempSync(path.join(tmpdir(), 'kestrel-console-backtest-'));
  const m = uniqueName('CONSOLE');

  before(async function () {
    // scripts/ensure-chromium.sh installs Debian's chromium when it can; say so plainly when it could not.
    if (!existsSync(CHROMIUM)) this.skip();
    const s = stack();
    s.books.state(m).book.applySnapshot([level('0.45', 100)], [level('0.50', 100)], Date.now());
    s.books.state(m).receivedAtMs = Date.now();
    await s.redis.hset(topOfBookKey(s.config.redis.keyPrefix, m), topOfBookFields(s.books.state(m).book));
    // A real backtest report on two recorded markets, for the charts page.
    const window = await loadRecordedWindow(s.config.replay.dataDir, { limit: 2 });
    const summary = await runBacktest({ config: backtestConfig(s.config), capital: s.config.risk.capital, events: window.columns, info: window.info, rule: momentumRule(DEFAULT_MOMENTUM) });
    writeBacktestReport(path.join(backtestDir, 'run-1'), summary, { title: 'Backtest: momentum on 2 recorded gold markets', capital: s.config.risk.capital, markets: window.markets, parameters: { momentum: DEFAULT_MOMENTUM } });
    webConsole = await startStackConsole(s, { temporalUi: UI, env: { KESTREL_CONSOLE_TOKEN: TOKEN }, backtestDir });
    server = await startMetricsServer({ port: 0, metrics: s.metrics, health: s.health, console: webConsole });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(backtestDir, { recursive: true, force: true });
  });

  const startPosition = (id: string) => {
    const s = stack();
    const input: PositionInput = { strategyId: 'console-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.51', size: '4', timeoutMs: 500 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } };
    return s.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: s.config.temporal.taskQueue, workflowId: id });
  };
  const openPosition = async (id: string) => {
    // The risk check refuses entries on market data older than risk.staleDataMs: the book is fresh now.
    const s = stack();
    s.books.state(m).receivedAtMs = Date.now();
    await s.redis.hset(topOfBookKey(s.config.redis.keyPrefix, m), { ...topOfBookFields(s.books.state(m).book), at: String(Date.now()) });
    const handle = await startPosition(id);
    await waitFor(() => handle.query(positionQuery), (p) => p.status === 'open', `${id} open`);
    return handle;
  };

  it('refuses what is not authenticated; /metrics and /health stay open to scrapers', async () => {
    const s = stack();
    const url = server!.url;
    const id = `position/console/${m}/unauth`;
    const handle = await openPosition(id);
    const exit = (headers: Record<string, string>) => fetch(`${url}/api/actions/exit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ positionId: id, urgency: 'HIGH' }), redirect: 'manual' });
    assert.equal((await exit({})).status, 401, 'no token, no cookie');
    assert.equal((await exit({ authorization: 'Bearer not-the-token-at-all' })).status, 401, 'a wrong bearer token');
    assert.equal((await exit({ cookie: 'kestrel_console=forged' })).status, 401, 'a forged session cookie');
    // Pages and data need the token too; the login page does not.
    const home = await fetch(`${url}/`, { redirect: 'manual' });
    assert.deepEqual([home.status, home.headers.get('location')], [303, '/login']);
    assert.equal((await fetch(`${url}/api/overview`)).status, 401);
    assert.equal((await fetch(`${url}/login`)).status, 200);
    // A logged-in session without its CSRF token (what a forged cross-site form would send) is refused.
    const login = await fetch(`${url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ operator: 'mallory', token: TOKEN }), redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.match(login.headers.get('set-cookie')!, /HttpOnly; SameSite=Strict/);
    const noCsrf = await exit({ cookie });
    assert.equal(noCsrf.status, 403);
    assert.match(((await noCsrf.json()) as { message: string }).message, /CSRF/);
    assert.equal((await exit({ cookie, 'x-csrf-token': 'guessed', origin: 'http://evil.example' })).status, 403);
    // Nothing reached the workflow, nothing was recorded as done.
    assert.equal((await handle.query(positionQuery)).status, 'open');
    assert.equal((await s.database.db.select().from(consoleActions).where(eq(consoleActions.target, id))).length, 0);
    // Scrapers: no token needed (counts and checks only).
    assert.equal((await fetch(`${url}/metrics`)).status, 200);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    await handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await handle.result();
  });

  it('logs in, follows positions live, exits one with "exit HIGH" (Update in Temporal, attempts in Postgres), flattens with confirmation; screenshots every page', async () => {
    const s = stack();
    const db = s.database.db;
    // One position closed (a realized loss for the P&L chart), one to exit from its page.
    const closedId = `position/console/${m}/closed`;
    const closed = await openPosition(closedId);
    await closed.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL' }] });
    await closed.result();
    const targetId = `position/console/${m}/target`;
    const target = await openPosition(targetId);

    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const apiRequests: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push(new URL(r.url()).pathname);
    });
    await page.goto(`${server!.url}/`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.fill('input[name="operator"]', 'alice');
    await page.fill('input[name="token"]', TOKEN);
    await Promise.all([page.waitForURL(`${server!.url}/`), page.click('button[type="submit"]')]);
    await page.waitForSelector('body[data-loaded="true"]');
    assert.equal(await page.textContent('#operator'), 'alice');
    await page.waitForSelector('#stream-status.live');
    assert.equal(await page.locator('#open-body tr', { hasText: targetId }).count(), 1);

    // Pushed, not polled: a position opened now appears without a reload, over the one event stream.
    const laterId = `position/console/${m}/later`;
    const later = await openPosition(laterId);
    await page.locator('#open-body tr', { hasText: laterId }).waitFor({ timeout: 10_000 });
    assert.deepEqual([...new Set(apiRequests)], ['/api/stream'], 'the page only follows its event stream');
    await screenshot(page, 'console-positions.png');

    // The position page: exit HIGH.
    await Promise.all([page.waitForURL(/\/position\?id=/), page.click(`#open-body a.position-link:text-is("${targetId}")`)]);
    await page.waitForSelector('#stream-status.live');
    assert.equal(await page.getAttribute('#position-summary a', 'href'), `${UI}/workflows/${encodeURIComponent(targetId)}`);
    await page.click('button:text-is("exit HIGH")');
    await page.waitForSelector('#action-result.ok', { timeout: 15_000 });
    assert.match((await page.textContent('#action-result')) ?? '', /HIGH exit accepted by/);
    // The Update landed in Temporal (accepted and completed in the workflow's history) ...
    await target.result();
    const history = await target.fetchHistory();
    const update = history.events!.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes)?.workflowExecutionUpdateAcceptedEventAttributes;
    assert.equal(update?.acceptedRequest?.input?.name, 'requestExit');
    assert.ok(history.events!.some((e) => e.workflowExecutionUpdateCompletedEventAttributes), 'the Update completed');
    // ... and its exit attempts are in Postgres, recorded under the console operator.
    const attempts = await waitFor(() => db.select().from(exitAttempts).where(and(eq(exitAttempts.positionId, targetId), eq(exitAttempts.urgency, 'HIGH'))), (r) => r.length > 0, 'HIGH exit attempts');
    assert.match(attempts[0]!.reason, /manual|alice/);
    const [recorded] = await db.select().from(consoleActions).where(eq(consoleActions.target, targetId));
    assert.deepEqual([recorded?.actor, recorded?.action, recorded?.outcome], ['alice', 'exit', 'ok']);
    assert.equal((recorded?.params as { urgency: string }).urgency, 'HIGH');
    // The page follows: the attempts and the closed status are pushed to it.
    await page.locator('#attempts-body tr', { hasText: 'HIGH' }).first().waitFor({ timeout: 10_000 });
    await page.locator('#position-status', { hasText: /closed|settled/ }).waitFor({ timeout: 10_000 });
    assert.ok((await page.locator('#exits-body pre').count()) >= 1, 'the exit decision with its triggered conditions');
    assert.ok((await page.locator('#orders-body tr').count()) >= 2, 'entry and exit orders');
    assert.ok((await page.locator('#fills-body tr').count()) >= 2, 'their fills');
    assert.ok((await page.locator('#timeline-body tr').count()) >= 5, 'a timeline from entry to close');
    await screenshot(page, 'console-position.png');
    // A second exit is refused by the Update's validator: its message is shown, and recorded.
    await page.evaluate(`act('exit', ${JSON.stringify({ positionId: targetId, urgency: 'HIGH' })}, 'exit HIGH')`);
    await page.waitForSelector('#action-result.rejected');
    assert.match((await page.textContent('#action-result')) ?? '', /rejected — .*already (closed|settled|completed)/i);

    // Flatten all: refused until confirmed (bad input runs nothing and is not an action), then every open position gets a CRITICAL exit.
    await page.goto(`${server!.url}/`);
    await page.waitForSelector('#stream-status.live');
    const flatten = page.locator('form[data-action="flatten-all"]');
    await flatten.locator('input[name="reason"]').fill('console test');
    await flatten.locator('input[name="confirm"]').fill('yes');
    await flatten.locator('button').click();
    await page.waitForSelector('#action-result.rejected');
    assert.match((await page.textContent('#action-result')) ?? '', /FLATTEN/);
    assert.equal((await later.query(positionQuery)).status, 'open');
    await flatten.locator('input[name="confirm"]').fill('FLATTEN');
    await flatten.locator('button').click();
    await page.waitForSelector('#action-result.ok');
    await later.result();
    const flattened = await db.select().from(positions).where(eq(positions.positionId, laterId));
    assert.ok(['closed', 'settled'].includes(flattened[0]!.status));
    // Risk reset with a reason.
    const reset = page.locator('form[data-action="risk-reset"]');
    await reset.locator('input[name="reason"]').fill('console test reset');
    await reset.locator('button').click();
    await page.waitForSelector('#action-result.ok');
    await page.locator('#actions-body tr', { hasText: 'risk-reset' }).first().waitFor();
    const log = await db.select().from(consoleActions).where(like(consoleActions.actor, 'alice'));
    assert.deepEqual(new Set(log.map((a) => `${a.action}:${a.outcome}`)), new Set(['exit:ok', 'exit:rejected', 'flatten-all:ok', 'risk-reset:ok']));

    // P&L per strategy on a time axis, signal performance, the latest backtest.
    await page.goto(`${server!.url}/charts`);
    await page.waitForSelector('body[data-loaded="true"]');
    assert.ok((await page.locator('#pnl-by-strategy .x-tick').count()) >= 2, 'time ticks on the P&L chart');
    assert.ok((await page.locator('#pnl-by-strategy path.series[data-series="console-test"]').count()) === 1);
    assert.match((await page.textContent('#backtest-summary')) ?? '', /win rate/);
    await waitFor(() => page.locator('#backtest-equity').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), (w) => w > 0, 'the equity plot loaded');
    await screenshot(page, 'console-charts.png');

    await page.goto(`${server!.url}/ops`);
    await page.waitForSelector('#stream-status.live');
    assert.ok((await page.locator('#partitions tbody tr').count()) >= 1, 'partition owners');
    assert.match((await page.textContent('#stack-health')) ?? '', /postgres/);
    assert.match((await page.textContent('#feeds')) ?? '', new RegExp(m));
    await screenshot(page, 'console-health.png');

    await page.goto(`${server!.url}/actions`);
    await page.locator('#action-log tbody tr', { hasText: 'flatten-all' }).first().waitFor();
    await screenshot(page, 'console-actions.png');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('starts and stops a strategy, cancels resting orders, for an API client with the bearer token; refusals (the Update validator too) carry the reason', async () => {
    const s = stack();
    const name = `console-${m.toLowerCase()}`;
    await createStrategy(s.database.db, name, readStrategyConfig(path.join(REPO_ROOT, 'config/strategies/imbalance.yaml')));
    const post = async (action: string, body: unknown) => {
      const r = await fetch(`${server!.url}/api/actions/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
      return { status: r.status, ...((await r.json()) as { outcome: string; message: string; result?: { workflowId?: string } }) };
    };
    const started = await post('strategy-start', { name });
    assert.equal(started.outcome, 'ok', started.message);
    const workflowId = started.result!.workflowId!;
    const runs = await s.database.db.select().from(strategyRuns).where(eq(strategyRuns.workflowId, workflowId));
    assert.deepEqual(runs.map((r) => r.status), ['running']);
    const stopped = await post('strategy-stop', { workflowId });
    assert.equal(stopped.outcome, 'ok', stopped.message);
    const again = await post('strategy-stop', { workflowId });
    assert.deepEqual([again.status, again.outcome], [409, 'rejected']);
    assert.match(again.message, /already stopped/);
    const unknown = await post('strategy-start', { name: 'no-such-strategy' });
    assert.deepEqual([unknown.status, unknown.outcome], [409, 'rejected']);
    assert.match(unknown.message, /no strategy named no-such-strategy/);
    const cancelled = await post('cancel-all', { reason: 'console test', confirm: 'CANCEL' });
    assert.equal(cancelled.outcome, 'ok', cancelled.message);
    assert.match(cancelled.message, /^cancelled \d+ resting order\(s\)$/);
    // The requestExit validator's refusal, word for word: a position whose entry still rests has nothing to exit.
    const resting = await s.temporal.workflow.start(positionWorkflow, { args: [{ strategyId: 'console-test', market: m, outcome: 'yes', closeTimeMs: Date.now() + 3_600_000, entry: { limitPrice: '0.40', size: '4', timeoutMs: 3000 }, cadence: { normalMs: 100, urgentMs: 50, pollMs: 25, settleTimeoutMs: 1000 } }], taskQueue: s.config.temporal.taskQueue, workflowId: `position/console/${m}/resting` });
    await waitFor(() => resting.query(positionQuery), (p) => p.status === 'entering', 'entry resting');
    const early = await post('exit', { positionId: resting.workflowId, urgency: 'HIGH' });
    assert.deepEqual([early.status, early.outcome], [409, 'rejected']);
    assert.match(early.message, /has no contracts yet \(entry order still working\)/);
    await resting.result();
    const log = await s.database.db.select().from(consoleActions).where(eq(consoleActions.actor, 'api'));
    assert.deepEqual(log.map((a) => `${a.action}:${a.outcome}`).sort(), ['cancel-all:ok', 'exit:rejected', 'strategy-start:ok', 'strategy-start:rejected', 'strategy-stop:ok', 'strategy-stop:rejected']);
  });

  it('paints the positions page with 500 open positions (measured and printed, not asserted)', async () => {
    const s = stack();
    const db = s.database.db;
    const strategyId = `first-paint-${m}`;
    // Position rows only (no workflows behind them): what the page reads, to time its first paint.
    await db.insert(positions).values(Array.from({ length: 500 }, (_, i) => ({ positionId: `position/first-paint/${m}/${i}`, strategyId, venue: 'paper', marketTicker: m, outcome: i % 2 ? 'yes' : 'no', status: 'open', entryPrice: '0.5000', size: '4', remainingSize: '4', state: {}, openedAt: new Date() })));
    try {
      const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
      const login = await fetch(`${server!.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ operator: 'bench', token: TOKEN }), redirect: 'manual' });
      const [name, value] = login.headers.get('set-cookie')!.split(';')[0]!.split('=');
      await context.addCookies([{ name: name!, value: value!, url: server!.url }]);
      const page = await context.newPage();
      const paints: number[] = [];
      for (let i = 0; i < 3; i++) {
        await page.goto(`${server!.url}/`);
        await page.waitForSelector('body[data-loaded="true"]');
        paints.push(Number(await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")));
      }
      assert.ok((await page.locator('#open-body tr').count()) >= 500);
      paints.sort((a, b) => a - b);
      console.log(`      console first contentful paint with ${await page.locator('#open-body tr').count()} open positions: ${paints.map((p) => p.toFixed(0)).join(', ')} ms (median ${paints[1]!.toFixed(0)} ms)`);
      await context.close();
    } finally {
      await db.delete(positions).where(eq(positions.strategyId, strategyId));
    }
  });
});

describe('web console without a token', function () {
  this.timeout(60_000);
  const stack = useStack();

  it('is read-only and says so: pages open, every action refused', async () => {
    const s = stack();
    const webConsole = await startStackConsole(s, { temporalUi: UI, env: {} });
    const server = await startMetricsServer({ port: 0, metrics: s.metrics, health: s.health, console: webConsole });
    try {
      assert.equal(webConsole.readOnly, true);
      const home = await fetch(`${server.url}/`);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /id="read-only">Read-only console/);
      const r = await fetch(`${server.url}/api/actions/risk-reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'x' }) });
      assert.equal(r.status, 403);
      assert.match(((await r.json()) as { message: string }).message, /read-only/);
      assert.equal((await s.database.db.select().from(consoleActions)).filter((a) => a.action === 'risk-reset' && a.actor !== 'alice').length, 0);
    } finally {
      await server.close();
    }
  });
});
