import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { dropDatabase, ensureDatabase, runMigrations } from '../db/admin';
import { openDatabase } from '../db/client';
import { positions } from '../db/schema';
import { BookStore } from '../domain/market-data/book-store';
import { createConsole } from '../observability/console/server';
import { createMetrics, startMetricsServer } from '../observability/metrics';

const CHROMIUM = process.env.KESTREL_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The web console's first contentful paint of the positions page with `positions` open positions
 * (rows in a scratch database; no workflows behind them), in headless Debian Chromium: the median
 * of `runs` loads, plus the server's render time and the page's size.
 */
export async function benchConsole(opts: { positions?: number; runs?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (bash scripts/ensure-chromium.sh installs Debian's)`);
  const n = opts.positions ?? 500;
  const runs = opts.runs ?? 7;
  const adminUrl = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/kestrel_console_${process.pid}_${randomBytes(3).toString('hex')}`;
  const maintenanceDb = new URL(adminUrl).pathname.slice(1);
  await ensureDatabase(dbUrl.toString(), maintenanceDb);
  const database = openDatabase(dbUrl.toString(), { max: 4, applicationName: 'kestrel-console-bench' });
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  try {
    await runMigrations(dbUrl.toString());
    await database.db.insert(positions).values(Array.from({ length: n }, (_, i) => ({ positionId: `position/bench/KXBENCH-${i % 40}/${i}`, strategyId: `bench-${i % 5}`, venue: 'paper', marketTicker: `KXBENCH-${i % 40}`, outcome: i % 2 ? 'yes' : 'no', status: 'open', entryPrice: '0.5000', size: '4', remainingSize: '4', state: {}, openedAt: new Date() })));
    // Read-only (no token): the same page an operator sees, without the login step.
    const webConsole = await createConsole({ db: database.db, listen: (channel, onNotify) => database.sql.listen(channel, onNotify), temporalUi: 'http://127.0.0.1:8233/namespaces/default', token: { token: undefined, source: 'none' } });
    server = await startMetricsServer({ port: 0, metrics: createMetrics({ db: database.db, books: new BookStore({ historyCapacity: 10, sampleMs: 1000 }), queues: () => [] }), health: async () => ({ ok: true, checks: {} }), console: webConsole });
    const renders: number[] = [];
    let htmlBytes = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      htmlBytes = (await (await fetch(`${server.url}/`)).text()).length;
      renders.push(performance.now() - t0);
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const paints: number[] = [];
    for (let i = 0; i < runs; i++) {
      await page.goto(`${server.url}/`);
      await page.waitForSelector('body[data-loaded="true"]');
      paints.push(Number(await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN")));
      opts.log(`load ${i + 1}/${runs}: first contentful paint ${paints.at(-1)!.toFixed(0)} ms`);
    }
    const rowsShown = await page.locator('#open-body tr').count();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return { bench: 'console', positions: n, rowsShown, runs, consoleFirstPaintMs: Math.round(median(paints)), firstPaintsMs: paints.map(Math.round), serverRenderMs: Math.round(median(renders)), htmlBytes };
  } finally {
    await browser?.close();
    await server?.close();
    await database.close();
    await dropDatabase(dbUrl.toString(), maintenanceDb).catch((e: Error) => opts.log(`dropping the scratch database failed: ${e.message}`));
  }
}
