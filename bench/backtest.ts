import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { backtestConfig, runBacktest } from '../backtest/gold-backtest';
import { momentumRule } from '../domain/strategies/momentum';
import { loadRecordedWindow } from '../backtest/recorded-data';
import { resolveConfig } from '../config/load';

const CACHED_RUN = '--cached-run';

/** Runs a bench child (`node <same flags> <script> ...args`) and returns the JSON on the last line of its stdout. */
function child<T>(script: string, args: string[]): T {
  const out = execFileSync(process.execPath, [...process.execArgv, script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').at(-1)!) as T;
}

/**
 * The backtester over the whole recorded gold feed, as a user runs it: a cold load (parse the
 * recording into the binary cache), then a cached load and the run on one core (the backtest is
 * single-threaded). Each phase runs in a process of its own: the cold load's parse-time memory
 * does not count in the cached run's peak RSS, and neither does the code of the other benches the
 * bench runner imports (Temporal, BullMQ, Redis clients: ~75 MB before any data). `rssMb` is the
 * peak RSS of the process that did the cached load and the run, the whole feed.
 */
export async function benchBacktest(opts: { dataDir: string; markets?: number; log: (l: string) => void }): Promise<Record<string, unknown>> {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'kestrel-bench-cache-'));
  try {
    const limit = String(opts.markets ?? '');
    const cold = child<{ coldLoadMs: number; coldRssMb: number }>(path.join(__dirname, 'backtest-cold-load.ts'), [opts.dataDir, cacheDir, limit]);
    opts.log(`cold load (parse + write cache): ${(cold.coldLoadMs / 1000).toFixed(1)} s, ${cold.coldRssMb} MB peak RSS`);
    const run = child<Awaited<ReturnType<typeof cachedRun>>>(__filename, [CACHED_RUN, opts.dataDir, cacheDir, limit]);
    return {
      bench: 'backtest',
      markets: run.markets,
      events: run.events,
      coldLoadMs: cold.coldLoadMs,
      coldRssMb: cold.coldRssMb,
      ...run.figures,
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The cached load and the run (in the child). */
async function cachedRun(dataDir: string, cacheDir: string, markets: number | undefined, log: (l: string) => void) {
  const { config } = resolveConfig({});
  let started = performance.now();
  const window = await loadRecordedWindow(dataDir, { limit: markets, cacheDir });
  const loadMs = performance.now() - started;
  if (window.loadedFrom !== 'cache') throw new Error('the second load did not come from the cache');
  const events = window.columns.length;
  log(`cached load: ${window.markets.length} markets, ${events} events in ${loadMs.toFixed(0)} ms`);
  started = performance.now();
  const cpuBefore = process.cpuUsage();
  const summary = await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: window.columns, info: window.info, rule: momentumRule(), monteCarloRuns: 1000 });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    markets: window.markets.length,
    events,
    figures: {
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
    },
  };
}

if (process.argv[1] === __filename && process.argv[2] === CACHED_RUN) {
  const [dataDir, cacheDir, limit] = process.argv.slice(3);
  cachedRun(dataDir!, cacheDir!, limit ? Number(limit) : undefined, (l) => process.stderr.write(`${l}\n`)).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
