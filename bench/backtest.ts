import { backtestConfig, momentumRule, runBacktest } from '../backtest/gold-backtest';
import { loadRecordedWindow } from '../backtest/recorded-data';
import { resolveConfig } from '../config/load';

/**
 * The backtester over the whole recorded gold feed: book events per second on one core (the
 * backtest is single-threaded), with loading/parsing timed separately.
 */
export async function benchBacktest(opts: { dataDir: string; markets?: number; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const { config } = resolveConfig({});
  let started = performance.now();
  const window = await loadRecordedWindow(opts.dataDir, { limit: opts.markets });
  const loadMs = performance.now() - started;
  opts.log(`loaded ${window.markets.length} markets, ${window.events.length} events in ${(loadMs / 1000).toFixed(1)} s`);
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  const summary = await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: window.events, info: window.info, rule: momentumRule(), monteCarloRuns: 1000 });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    bench: 'backtest',
    markets: window.markets.length,
    events: window.events.length,
    loadMs: Math.round(loadMs),
    backtestMs: Math.round(wallMs),
    eventsPerSecond: Math.round(window.events.length / (wallMs / 1000)),
    eventsPerCpuSecond: Math.round(window.events.length / (cpuMs / 1000)),
    trades: summary.metrics.trades,
    orders: summary.result.orders.length,
    totalPnl: summary.metrics.totalPnl,
    fees: summary.metrics.fees,
    winRate: summary.metrics.winRate,
    rssMb: Math.round(process.memoryUsage().rss / 1e6),
  };
}
