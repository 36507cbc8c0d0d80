import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backtestConfig, runBacktest } from '../backtest/gold-backtest';
import { momentumRule } from '../domain/strategies/momentum';
import { loadRecordedWindow } from '../backtest/recorded-data';
import { resolveConfig } from '../config/load';

/**
 * The backtester over the whole recorded gold feed, as a user runs it: a cold load (parse the
 * recording into the binary cache, in a child process), then in this process a cached load and
 * the run on one core (the backtest is single-threaded). `rssMb` is this process's peak RSS:
 * cached load + run, the whole feed.
 */
export async function benchBacktest(opts: { dataDir: string; markets?: number; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const { config } = resolveConfig({});
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'kestrel-bench-cache-'));
  try {
    const coldArgs = [...process.execArgv, path.join(__dirname, 'backtest-cold-load.ts'), opts.dataDir, cacheDir, String(opts.markets ?? '')];
    const cold = JSON.parse(execFileSync(process.execPath, coldArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!) as { coldLoadMs: number; coldRssMb: number };
    opts.log(`cold load (parse + write cache): ${(cold.coldLoadMs / 1000).toFixed(1)} s, ${cold.coldRssMb} MB peak RSS`);
    let started = performance.now();
    const window = await loadRecordedWindow(opts.dataDir, { limit: opts.markets, cacheDir });
    const loadMs = performance.now() - started;
    if (window.loadedFrom !== 'cache') throw new Error('the second load did not come from the cache');
    const events = window.columns.length;
    opts.log(`cached load: ${window.markets.length} markets, ${events} events in ${loadMs.toFixed(0)} ms`);
    started = performance.now();
    const cpuBefore = process.cpuUsage();
    const summary = await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: window.columns, info: window.info, rule: momentumRule(), monteCarloRuns: 1000 });
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      bench: 'backtest',
      markets: window.markets.length,
      events,
      coldLoadMs: cold.coldLoadMs,
      coldRssMb: cold.coldRssMb,
      loadMs: Math.round(loadMs),
      loadEventsPerSecond: Math.round(events / (loadMs / 1000)),
      backtestMs: Math.round(wallMs),
      eventsPerSecond: Math.round(events / (wallMs / 1000)),
      eventsPerCpuSecond: Math.round(events / (cpuMs / 1000)),
      endToEndEventsPerSecond: Math.round(events / ((loadMs + wallMs) / 1000)),
      trades: summary.metrics.trades,
      orders: summary.result.orders.length,
      totalPnl: summary.metrics.totalPnl,
      fees: summary.metrics.fees,
      winRate: summary.metrics.winRate,
      rssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}
