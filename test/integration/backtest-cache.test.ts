import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backtestConfig, runBacktest } from '../../backtest/gold-backtest';
import { momentumRule } from '../../domain/strategies/momentum';
import { loadRecordedWindow } from '../../backtest/recorded-data';
import { resolveConfig } from '../../config/load';
import type { UnitEvent } from '../../domain/market-data/events';
import { SHARED_DATA_DIR } from '../support/harness';

const GOLD = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
const MARKETS = ['KXGOLD15M-26AUG060800-00', 'KXGOLD15M-26AUG061300-00'];
const { config } = resolveConfig({});

const cacheFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.events'));

describe('binary event cache of recorded windows', function () {
  this.timeout(120_000);
  let cacheDir: string;
  beforeEach(() => {
    cacheDir = mkdtempSync(path.join(tmpdir(), 'kestrel-event-cache-'));
  });
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('a cached window makes the same orders and P&L as one parsed from the recording', async () => {
    const parsed = await loadRecordedWindow(GOLD, { markets: MARKETS, cacheDir: null });
    const cold = await loadRecordedWindow(GOLD, { markets: MARKETS, cacheDir });
    const cached = await loadRecordedWindow(GOLD, { markets: MARKETS, cacheDir });
    assert.equal(parsed.loadedFrom, 'recording');
    assert.equal(cold.loadedFrom, 'recording');
    assert.equal(cached.loadedFrom, 'cache');
    assert.equal(cacheFiles(cacheDir).length, 1);
    assert.deepEqual(cached.columns.toArray(), parsed.events);
    assert.equal(cached.malformed, parsed.malformed);

    const run = (events: Iterable<UnitEvent> & { length: number }, info: typeof parsed.info) =>
      runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events, info, rule: momentumRule(), monteCarloRuns: 100 });
    const fromObjects = await run(parsed.events, parsed.info);
    const fromCache = await run(cached.columns, cached.info);
    assert.ok(fromObjects.result.orders.length > 0, 'the window trades, so the comparison means something');
    assert.deepEqual(fromCache.result.orders, fromObjects.result.orders);
    assert.deepEqual(fromCache.result.positions, fromObjects.result.positions);
    assert.deepEqual(fromCache.metrics, fromObjects.metrics);
  });

  it('cuts the time window from the cached events as the parse does', async () => {
    const all = await loadRecordedWindow(GOLD, { markets: MARKETS, cacheDir });
    const n = all.columns.length;
    const fromMs = all.columns.tsAt(Math.floor(n / 3));
    const toMs = all.columns.tsAt(Math.floor((2 * n) / 3));
    const cut = await loadRecordedWindow(GOLD, { markets: MARKETS, cacheDir, fromMs, toMs });
    assert.equal(cut.loadedFrom, 'cache');
    assert.deepEqual(cut.events, all.events.filter((e) => e.ts >= fromMs && e.ts <= toMs));
  });

  for (const [name, damage] of [
    ['a flipped byte', (b: Buffer) => (b[Math.floor(b.length / 2)]! ^= 0x40, b)],
    ['a truncated file', (b: Buffer) => b.subarray(0, b.length - 1000)],
    ['garbage', () => Buffer.from('not a cache')],
  ] as const) {
    it(`detects ${name} and parses the recording again`, async () => {
      const first = await loadRecordedWindow(GOLD, { markets: [MARKETS[0]!], cacheDir });
      const file = path.join(cacheDir, cacheFiles(cacheDir)[0]!);
      writeFileSync(file, damage(readFileSync(file)));
      const again = await loadRecordedWindow(GOLD, { markets: [MARKETS[0]!], cacheDir });
      assert.equal(again.loadedFrom, 'recording');
      assert.deepEqual(again.columns.toArray(), first.events);
      const rewritten = await loadRecordedWindow(GOLD, { markets: [MARKETS[0]!], cacheDir });
      assert.equal(rewritten.loadedFrom, 'cache');
    });
  }

  it('rebuilds when a source file changes (size or mtime)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kestrel-gold-copy-'));
    try {
      const market = MARKETS[0]!;
      cpSync(path.join(GOLD, 'events', market), path.join(dataDir, 'events', market), { recursive: true });
      mkdirSync(path.join(dataDir, 'metadata'));
      const eventFile = `${market.replace(/-\d\d$/, '')}.json`;
      cpSync(path.join(GOLD, 'metadata', eventFile), path.join(dataDir, 'metadata', eventFile));
      assert.equal((await loadRecordedWindow(dataDir, { cacheDir })).loadedFrom, 'recording');
      assert.equal((await loadRecordedWindow(dataDir, { cacheDir })).loadedFrom, 'cache');
      const recording = path.join(dataDir, 'events', market, readdirSync(path.join(dataDir, 'events', market))[0]!);
      utimesSync(recording, new Date(), new Date(Date.now() + 5000));
      assert.equal((await loadRecordedWindow(dataDir, { cacheDir })).loadedFrom, 'recording');
      assert.equal((await loadRecordedWindow(dataDir, { cacheDir })).loadedFrom, 'cache');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
