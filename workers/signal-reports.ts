import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { KestrelConfig } from '../config/schema';
import type { Database } from '../db/client';
import { recentClosedTradesByType, signalAttribution, type SignalAttributionRow } from '../db/attribution';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import { describeDegradation, signalDegradation, type DegradationSettings, type TypeDegradation } from '../domain/signals/degradation';
import { signalReportMarkdown } from '../observability/signal-report';
import { dailyReportMarkdown } from '../observability/daily-report';
import { tradingActivity, type TradingActivity } from '../db/activity-report';
import { readRiskState } from '../db/risk-repo';
import { Dec } from '../domain/decimal';
import { isRedisConnectionError } from './redis';

/** Where report files go: `reports.dir`, else the user's data directory (never the repository). */
export function reportsDir(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  if (configured !== '') return path.resolve(configured);
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(homedir(), '.local', 'share');
  return path.join(dataHome, 'kestrel', 'reports');
}

export interface SignalReportResult {
  file: string;
  rows: SignalAttributionRow[];
}

/**
 * Writes the signal attribution report of [now − windowMs, now) as Markdown (one file per run,
 * named by its end time) and sends it through the alert channels.
 */
export async function writeSignalReport(deps: { db: Database; clock: Clock; dir: string; windowMs: number; alert: AlertSink }): Promise<SignalReportResult> {
  const toMs = deps.clock.nowMs();
  const window = { fromMs: toMs - deps.windowMs, toMs };
  const rows = await signalAttribution(deps.db, window);
  const markdown = signalReportMarkdown(rows, window);
  mkdirSync(deps.dir, { recursive: true });
  const file = path.join(deps.dir, `signal-report-${new Date(toMs).toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, markdown);
  const trades = rows.reduce((n, r) => n + r.trades, 0);
  deps.alert({ kind: 'signal_report', severity: 'info', title: `signal report: ${trades} closed positions since ${new Date(window.fromMs).toISOString().slice(0, 10)}`, detail: `${markdown}\n(${file})`, key: file });
  return { file, rows };
}

/**
 * Checks every signal type for degradation and alerts when a type becomes degraded (or degrades on
 * another metric); the degraded state per type is kept in Redis, so a type that stays degraded is
 * reported once, by whichever process runs the check, and again only after it recovered.
 */
export async function checkSignalDegradation(deps: { db: Database; redis: Redis; stateKey: string; settings: DegradationSettings; alert: AlertSink }): Promise<TypeDegradation[]> {
  const { settings } = deps;
  const results = signalDegradation(await recentClosedTradesByType(deps.db, settings.recentTrades + settings.baselineTrades), settings);
  const previous = await deps.redis.hgetall(deps.stateKey);
  for (const d of results) {
    if (!d.judged) continue;
    const state = d.degraded.join(',');
    if (state === (previous[d.type] ?? '')) continue;
    if (state === '') {
      await deps.redis.hdel(deps.stateKey, d.type);
      continue;
    }
    deps.alert({ kind: 'signal_degradation', severity: 'warning', title: `signal type ${d.type} degraded`, detail: describeDegradation(d, settings.pct), key: d.type });
    await deps.redis.hset(deps.stateKey, d.type, state);
  }
  return results;
}

/** One day: the daily report covers the 24 hours before it runs. */
const DAY_MS = 86_400_000;

/**
 * Writes the daily P&L and activity report of the 24 hours before now as Markdown (one file per run,
 * named by its end time) and sends it through the alert channels.
 */
export async function writeDailyReport(deps: { db: Database; clock: Clock; dir: string; alert: AlertSink }): Promise<{ file: string; activity: TradingActivity }> {
  const toMs = deps.clock.nowMs();
  const window = { fromMs: toMs - DAY_MS, toMs };
  const [activity, risk] = await Promise.all([tradingActivity(deps.db, window), readRiskState(deps.db, toMs)]);
  const markdown = dailyReportMarkdown(activity, window, risk);
  mkdirSync(deps.dir, { recursive: true });
  const file = path.join(deps.dir, `daily-report-${new Date(toMs).toISOString().replace(/[:.]/g, '-')}.md`);
  writeFileSync(file, markdown);
  const pnl = activity.closed.reduce((n, r) => n.plus(r.pnl), new Dec(0));
  deps.alert({ kind: 'daily_report', severity: 'info', title: `daily report: P&L ${pnl.toFixed(2)} over ${activity.closed.reduce((n, r) => n + r.trades, 0)} closed position(s)`, detail: `${markdown}\n(${file})`, key: file });
  return { file, activity };
}

type ReportJobName = 'signal-degradation' | 'signal-report' | 'daily-report';

/**
 * The learning loop's periodic jobs on one BullMQ queue: the degradation check
 * (`alerts.signalDegradationEveryMs`) and the signal report (`reports.signalReportEveryMs`, weekly by
 * default). Each job scheduler's first run is one interval after it is first created (a start is
 * not a reason for a report); an existing scheduler keeps its timing unless its interval changed.
 */
export async function startSignalReports(opts: {
  connection: Redis;
  workerConnection: Redis;
  prefix: string;
  db: Database;
  clock: Clock;
  alert: AlertSink;
  config: Pick<KestrelConfig, 'alerts' | 'reports'>;
  env?: NodeJS.ProcessEnv;
  log: (line: string) => void;
}) {
  const name = 'kestrel-signal-reports';
  const { alerts, reports } = opts.config;
  const settings: DegradationSettings = { pct: alerts.signalDegradationPct, recentTrades: alerts.signalDegradationRecentTrades, baselineTrades: alerts.signalDegradationBaselineTrades };
  const dir = reportsDir(reports.dir, opts.env);
  // An interval (first run one interval after creation) or a cron pattern in UTC; 0 / '' = off.
  const schedules: { id: ReportJobName; everyMs?: number; pattern?: string }[] = [
    { id: 'signal-degradation', everyMs: alerts.signalDegradationEveryMs },
    { id: 'signal-report', everyMs: reports.signalReportEveryMs },
    { id: 'daily-report', pattern: reports.dailyReportCron },
  ];
  const queue = new Queue<Record<string, never>, unknown, ReportJobName>(name, { connection: opts.connection, prefix: opts.prefix });
  const ensureSchedulers = async () => {
    for (const s of schedules) {
      const existing = await queue.getJobScheduler(s.id);
      if (!s.everyMs && !s.pattern) {
        if (existing) await queue.removeJobScheduler(s.id);
        continue;
      }
      if (s.everyMs ? existing?.every === s.everyMs : existing?.pattern === s.pattern) continue;
      const repeat = s.everyMs ? { every: s.everyMs, startDate: Date.now() + s.everyMs } : { pattern: s.pattern, tz: 'UTC' };
      await queue.upsertJobScheduler(s.id, repeat, { name: s.id, data: {}, opts: { removeOnComplete: { count: 20 }, removeOnFail: { count: 20 } } });
    }
  };
  await ensureSchedulers();
  const run = (job: Job<Record<string, never>, unknown, ReportJobName>) => {
    switch (job.name) {
      case 'signal-report':
        return writeSignalReport({ db: opts.db, clock: opts.clock, dir, windowMs: reports.signalReportEveryMs, alert: opts.alert });
      case 'daily-report':
        return writeDailyReport({ db: opts.db, clock: opts.clock, dir, alert: opts.alert });
      case 'signal-degradation':
        return checkSignalDegradation({ db: opts.db, redis: opts.connection, stateKey: `${opts.prefix}:signal-degradation`, settings, alert: opts.alert });
    }
  };
  const worker = new Worker<Record<string, never>, unknown, ReportJobName>(name, run, { connection: opts.workerConnection, prefix: opts.prefix, concurrency: 1 });
  worker.on('failed', (job, err) => opts.log(`${job?.name ?? 'signal report job'} failed: ${err.message}`));
  worker.on('error', (err) => {
    if (!isRedisConnectionError(err)) opts.log(`signal report worker error: ${err.message}`);
  });
  queue.on('error', (err) => {
    if (!isRedisConnectionError(err)) opts.log(`queue ${name} error: ${err.message}`);
  });
  return {
    queue,
    worker,
    ensureSchedulers,
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
