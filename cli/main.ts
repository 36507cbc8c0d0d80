import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { KalshiCredentialsError } from '../venues/kalshi/signing';
import { ConfigError, describeConfig, loadBootstrapConfig, resolveConfig, CONFIG_KEYS, defaultYamlPath } from '../config/load';
import { ensureDatabase, runMigrations } from '../db/admin';
import { deleteConfigOverride, readConfigOverrides, setConfigOverride } from '../db/config-overrides';
import { explainOrder } from '../db/provenance';
import { readRiskState, resetRiskState } from '../db/risk-repo';
import { positions, riskEvents } from '../db/schema';
import { flattenAll } from '../runtime/flatten';
import { backtestConfig, runBacktest } from '../backtest/gold-backtest';
import { momentumRule } from '../domain/strategies/momentum';
import { loadRecordedWindow, recordedDays } from '../backtest/recorded-data';
import { progressBar, writeBacktestReport } from '../backtest/report';
import { goldWalkForward, momentumGrid } from '../backtest/walk-forward-gold';
import { runSignalBacktest, signalWalkForward } from '../backtest/signal-strategy';
import { DEFAULT_MOMENTUM } from '../domain/strategies/momentum';
import { ensureRetrainingSchedule, retrainInput } from '../runtime/retraining-schedule';
import { retrainingRuns } from '../db/schema';
import { createStrategy, listStrategies, parseVenueAndFeed, readStrategyConfig, startStrategy, stopStrategy, versionToRun } from './strategy';
import { replayStrategy } from '../runs/strategy-replay';
import { loadPerformanceMatrix, recentSignals, resolveDueOutcomes } from '../db/signals-repo';
import { RecordedSettlements } from '../db/settlements';
import { deriveWeights } from '../domain/signals/performance';
import { SIGNAL_TYPES } from '../domain/signals/types';
import { desc, inArray } from 'drizzle-orm';
import { runRecordedFeedIngestion } from '../runs/main-job';
import { runMarketClockPaperSession, runPaperSession, type PaperSessionSummary } from '../runs/paper-session';
import { createKalshiFeed, emulatorExchangeTime, runFeedIntoPublisher } from '../workers/market-data/live-feed';
import type { KalshiLiveMarketData } from '../venues/kalshi/data';
import { kalshiEndpoints } from '../venues/kalshi/config';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { createRedis } from '../workers/redis';
import { startMetricsServer } from '../observability/metrics';
import { startStack } from '../runtime/stack';
import { createLogger, installTemporalLogging } from '../observability/logger';
import { installProcessGuard } from './process-guard';
import { dashboardData } from '../observability/dashboard';
import { startDevServer } from '../runtime/temporal-dev-server';
import { EmulatorUsageError, runVenueCommand, VENUE_EMULATE_OPTIONS, VENUE_EMULATE_USAGE } from '../venues/kalshi/emulator/cli';
import { retrainSignalWeightsWorkflow } from '../workflows/retraining';
import { requestExitUpdate } from '../workflows/position';
import { URGENCIES } from '../domain/trading/exits';
import { modelsCommand } from './commands/models';
import { loadFullConfig, withDatabase } from './commands/cli-support';
import { cancelAllCommand, ordersCommand, reconcileCommand } from './commands/venue-orders';
import { MODEL_EDGE_BACKTEST_OPTIONS, runModelEdgeBacktestCommand } from './commands/backtest-model-edge';

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, unavailable: 4 } as const;

class UsageError extends Error {}

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }): Promise<number>;
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

/**
 * An integer option: `fallback` when absent, else the value, which must lie in [min, max]. The
 * error reads "must be a positive integer", "an integer ≥ min" or "an integer min..max".
 */
function intOption<F extends number | undefined>(values: Record<string, string | boolean | undefined>, name: string, fallback: F, range: { min: number; max?: number } = { min: 1 }): number | F {
  const raw = values[name];
  if (raw === undefined) return fallback;
  // Plain decimal digits only: Number() would also take '0x10', '1e3' and ' 5 '.
  const v = typeof raw === 'string' && /^-?\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isInteger(v) && v >= range.min && (range.max === undefined || v <= range.max)) return v;
  const expected = range.max !== undefined ? `an integer ${range.min}..${range.max}` : range.min === 1 ? 'a positive integer' : `an integer ≥ ${range.min}`;
  throw new UsageError(`--${name} must be ${expected}, got ${JSON.stringify(raw)}`);
}

async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const { config } = loadBootstrapConfig();
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

/** Settings whose zero is valid but turns trading off: `config set` wants --force for it. */
const TRADING_OFF_AT_ZERO = ['risk.capital', 'risk.maxConcurrentPositions'];

const commands: Record<string, Command> = {
  models: modelsCommand,
  orders: ordersCommand,
  'cancel-all': cancelAllCommand,
  reconcile: reconcileCommand,
  migrate: {
    summary: 'create the database if missing and apply the committed migrations',
    usage: 'kestrel migrate [--no-create]',
    options: { 'no-create': { type: 'boolean' } },
    async run({ values }) {
      const { config } = loadBootstrapConfig();
      if (!values['no-create'] && (await ensureDatabase(config.database.url))) out(`created database ${new URL(config.database.url).pathname.slice(1)}`);
      await runMigrations(config.database.url);
      out('migrations applied');
      return EXIT.ok;
    },
  },

  config: {
    summary: 'show | validate | set <key> <json-or-text> | unset <key>  (database overrides)',
    usage: 'kestrel config show [--json] [--no-db] | validate [--file F] | set <key> <value> [--reason R] [--force] | unset <key>',
    options: { json: { type: 'boolean' }, 'no-db': { type: 'boolean' }, file: { type: 'string' }, reason: { type: 'string' }, force: { type: 'boolean' } },
    async run({ values, positionals }) {
      const [sub, key, value] = positionals;
      if (sub === 'validate') {
        const yamlPath = typeof values.file === 'string' ? values.file : defaultYamlPath();
        resolveConfig({ yamlPath, env: process.env });
        out(`configuration valid${yamlPath ? ` (${yamlPath} + environment)` : ' (environment + defaults)'}`);
        return EXIT.ok;
      }
      if (sub === 'show') {
        const loaded = values['no-db'] ? loadBootstrapConfig() : await loadFullConfig();
        const rows = describeConfig(loaded);
        if (values.json) json(rows);
        else for (const r of rows) out(`${r.key.padEnd(46)} ${r.value.padEnd(48)} ${r.source}`);
        return EXIT.ok;
      }
      if (sub === 'set' || sub === 'unset') {
        if (!key || (sub === 'set' && value === undefined)) throw new UsageError(`usage: kestrel config ${sub} <key>${sub === 'set' ? ' <value>' : ''}`);
        if (!CONFIG_KEYS.includes(key)) throw new UsageError(`unknown configuration key ${JSON.stringify(key)}`);
        const { config } = loadBootstrapConfig();
        return withDatabase(config.database.url, async (h) => {
          if (sub === 'unset') {
            out((await deleteConfigOverride(h.db, key)) ? `override for ${key} removed` : `no override for ${key}`);
            return EXIT.ok;
          }
          // Decimals are stored as strings; integers and booleans as JSON.
          const parsedValue = /^-?\d+$/.test(value!) || value === 'true' || value === 'false' ? JSON.parse(value!) : value;
          // Valid, but it silently stops all trading: only on purpose.
          if (TRADING_OFF_AT_ZERO.includes(key) && /^0*(\.0*)?$/.test(String(parsedValue)) && !values.force) {
            throw new UsageError(`${key} = 0 stops every new entry (nothing can be risked); add --force if that is what you mean (flatten-all and cancel-all act on what is open)`);
          }
          // Validate the whole config with the new value before writing anything.
          resolveConfig({ yamlPath: defaultYamlPath(), env: process.env, dbOverrides: { ...(await readConfigOverrides(h.db)), [key]: parsedValue } });
          await setConfigOverride(h.db, key, parsedValue, typeof values.reason === 'string' ? values.reason : undefined);
          out(`override set: ${key} = ${JSON.stringify(parsedValue)}`);
          return EXIT.ok;
        });
      }
      throw new UsageError('usage: kestrel config show|validate|set|unset');
    },
  },

  why: {
    summary: 'explain an order end to end: position, strategy/model version, signal, exit decision, market snapshot',
    usage: 'kestrel why <client-order-id> [--json]',
    options: { json: { type: 'boolean' } },
    async run({ values, positionals }) {
      const [id] = positionals;
      if (!id) throw new UsageError('usage: kestrel why <client-order-id>');
      const { config } = loadBootstrapConfig();
      return withDatabase(config.database.url, async (h) => {
        const why = await explainOrder(h.db, id);
        if (!why) {
          err(`kestrel why: no order with client order id ${JSON.stringify(id)}`);
          return EXIT.failure;
        }
        if (values.json) json(why);
        else {
          out(`${why.clientOrderId}: ${why.purpose} ${why.action} ${why.outcome.toUpperCase()} ${why.size} ${why.market} @ ${why.limitPrice} → ${why.status}, filled ${why.filled} (${why.submittedAt})`);
          out(`  position  ${why.position.id} (${why.position.status}, entry ${why.position.entryPrice ?? '-'}, P&L ${why.position.realizedPnl})`);
          out(`  strategy  ${why.strategy ? `${why.strategy.name} ${why.strategy.version} ${JSON.stringify(why.strategy.config)}` : '(not recorded)'}`);
          out(`  model     ${why.model ? `${why.model.name} ${why.model.version}` : '(not recorded)'}`);
          out(`  signal    ${why.signalId ?? '(none)'}${why.signal ? ` (${why.signal.type} at ${why.signal.firedAt}${why.signal.reason ? `: ${why.signal.reason}` : ''})` : ''}`);
          if (why.exitReason) out(`  exit      #${why.exitReason.exitNo} ${why.exitReason.reason} (${why.exitReason.urgency}); triggered ${JSON.stringify(why.exitReason.triggered)}`);
          out(`  market    ${why.marketSnapshot ? `snapshot #${why.marketSnapshot.id} (${why.marketSnapshot.status}, since ${why.marketSnapshot.effectiveTs})` : '(no snapshot)'}`);
        }
        return EXIT.ok;
      });
    },
  },

  positions: {
    summary: 'list positions (newest first) with status, entry, size, P&L and fees',
    usage: 'kestrel positions [--open] [--limit N] [--json]',
    options: { open: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }) {
      const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
      const { config } = loadBootstrapConfig();
      return withDatabase(config.database.url, async (h) => {
        const rows = await h.db
          .select()
          .from(positions)
          .where(values.open ? inArray(positions.status, ['entering', 'open', 'exiting']) : undefined)
          .orderBy(desc(positions.updatedAt))
          .limit(limit);
        if (values.json) json(rows);
        else if (rows.length === 0) out(values.open ? 'no open positions' : 'no positions');
        else for (const r of rows) out(`${r.positionId}  ${r.outcome.toUpperCase()} ${Number(r.size)} @ ${r.entryPrice ?? '-'}  ${r.status.padEnd(12)} remaining ${Number(r.remainingSize)}  P&L ${r.realizedPnl}  fees ${r.fees}`);
        return EXIT.ok;
      });
    },
  },

  exit: {
    summary: 'manual exit of a position (the requestExit Update, validated by the workflow)',
    usage: 'kestrel exit <position-id> [--urgency CRITICAL|HIGH|MEDIUM|LOW] [--reason TEXT]',
    options: { urgency: { type: 'string' }, reason: { type: 'string' } },
    async run({ values, positionals }) {
      const [positionId] = positionals;
      if (!positionId) throw new UsageError('usage: kestrel exit <position-id> [--urgency …] [--reason …]');
      const wanted = (values.urgency ?? 'MEDIUM').toString().toUpperCase();
      const urgency = URGENCIES.find((u) => u === wanted);
      if (!urgency) throw new UsageError(`--urgency must be CRITICAL, HIGH, MEDIUM or LOW, got ${JSON.stringify(values.urgency)}`);
      return withTemporal(async (client) => {
        try {
          const result = await client.workflow.getHandle(positionId).executeUpdate(requestExitUpdate, { args: [{ urgency, reason: typeof values.reason === 'string' ? values.reason : 'manual (cli)' }] });
          out(`exit accepted: ${JSON.stringify(result)}`);
          return EXIT.ok;
        } catch (e) {
          // Validator rejections and unknown positions: say why, change nothing.
          const cause = (e as { cause?: Error }).cause?.message;
          err(`kestrel exit: rejected: ${cause ?? (e as Error).message}`);
          return EXIT.failure;
        }
      });
    },
  },

  report: {
    summary: 'P&L report: realized P&L, fees, wins/losses per day over the last N days',
    usage: 'kestrel report pnl [--days N] [--json]',
    options: { days: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values, positionals }) {
      if (positionals[0] !== 'pnl') throw new UsageError('usage: kestrel report pnl [--days N]');
      const days = intOption(values, 'days', 7, { min: 1, max: 3650 });
      const { config } = loadBootstrapConfig();
      return withDatabase(config.database.url, async (h) => {
        const rows = await h.sql<{ day: string; positions: number; wins: number; losses: number; pnl: string; fees: string }[]>`
          select to_char(date_trunc('day', closed_at), 'YYYY-MM-DD') as day, count(*)::int as positions,
                 count(*) filter (where realized_pnl > 0)::int as wins, count(*) filter (where realized_pnl < 0)::int as losses,
                 sum(realized_pnl)::text as pnl, sum(fees)::text as fees
          from positions where closed_at >= now() - make_interval(days => ${days}) group by 1 order by 1`;
        if (values.json) json(rows);
        else if (rows.length === 0) out(`no closed positions in the last ${days} days`);
        else for (const r of rows) out(`${r.day}  ${String(r.positions).padStart(4)} positions  ${r.wins} won / ${r.losses} lost  P&L ${Number(r.pnl).toFixed(4)}  fees ${Number(r.fees).toFixed(4)}`);
        return EXIT.ok;
      });
    },
  },

  strategy: {
    summary: 'create | list | start | stop strategy versions (immutable; start subscribes the run to its signal types)',
    usage: 'kestrel strategy create <name> --file F.(yaml|json) | list [--json] | start <name> [--version V] --venue paper|kalshi --feed live|kalshi|replay:gold [--markets N] | stop <workflow-id>',
    options: { file: { type: 'string' }, version: { type: 'string' }, venue: { type: 'string' }, feed: { type: 'string' }, markets: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values, positionals }) {
      const [sub, arg] = positionals;
      const { config } = loadBootstrapConfig();
      const asUsage = async <T>(fn: () => Promise<T>) => {
        try {
          return await fn();
        } catch (e) {
          // Bad names, files, venues and feeds are the caller's to fix: usage errors, with the reason.
          if (e instanceof Error && !('code' in e)) throw new UsageError(e.message);
          throw e;
        }
      };
      if (sub === 'create') {
        if (!arg || typeof values.file !== 'string') throw new UsageError('usage: kestrel strategy create <name> --file F.(yaml|json)');
        const strategyConfig = await asUsage(async () => readStrategyConfig(values.file as string));
        return withDatabase(config.database.url, async (h) => {
          const v = await asUsage(() => createStrategy(h.db, arg, strategyConfig));
          if (values.json) json(v);
          else out(`created strategy ${v.name} ${v.version} (id ${v.id}, draft)`);
          return EXIT.ok;
        });
      }
      if (sub === 'list') {
        return withDatabase(config.database.url, async (h) => {
          const rows = await listStrategies(h.db);
          if (values.json) json(rows);
          else if (rows.length === 0) out('no strategies (create one with `kestrel strategy create`)');
          else
            for (const r of rows) {
              out(`${r.name} ${r.version}  ${r.status}  (id ${r.id})`);
              for (const run of r.runs) out(`    ${run.status.padEnd(8)} ${run.workflowId}  venue ${run.venue}  feed ${run.feed}  since ${run.startedAt.toISOString()}`);
            }
          return EXIT.ok;
        });
      }
      if (sub === 'start') {
        if (!arg || typeof values.venue !== 'string' || typeof values.feed !== 'string') throw new UsageError('usage: kestrel strategy start <name> [--version V] --venue paper|kalshi --feed live|kalshi|replay:<dataset> [--markets N]');
        // The workers' venue may come from a config override in Postgres: read it as they do.
        const execution = (values.feed as string).startsWith('replay:') ? config.venues.execution : (await loadFullConfig()).config.venues.execution;
        const feed = await asUsage(async () => parseVenueAndFeed(values.venue as string, values.feed as string, execution));
        const version = typeof values.version === 'string' ? values.version : undefined;
        if (feed.kind === 'replay') {
          const limit = intOption(values, 'markets', 2);
          return withDatabase(config.database.url, async (h) => {
            const v = await asUsage(() => versionToRun(h.db, arg, version));
            const logger = createLogger({ level: config.logging.level });
            installTemporalLogging(logger);
            const run = await replayStrategy({ config, logger, name: arg, version: v, markets: limit, nowMs: Date.now(), log: values.json ? err : out });
            if (values.json) json(run);
            else {
              out(`${run.workflowId}: ${run.detected} engine signals, ${run.strategy.decisions.length} decisions, ${run.positions.length} positions`);
              for (const p of run.positions) out(`  ${p.positionId}  ${p.outcome.toUpperCase()} ${Number(p.size)} @ ${p.entryPrice ?? '-'}  ${p.status}  P&L ${p.realizedPnl}`);
            }
            return EXIT.ok;
          });
        }
        return withDatabase(config.database.url, (h) =>
          withTemporal(async (client) => {
            const started = await asUsage(() => startStrategy(h.db, client, config, { name: arg, version, nowMs: Date.now(), feed: feed.name }));
            if (values.json) json(started);
            else out(`started ${started.workflowId} (${started.version}, ${started.status}); Temporal UI: http://127.0.0.1:${config.temporal.uiPort}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(started.workflowId)}`);
            return EXIT.ok;
          }),
        );
      }
      if (sub === 'stop') {
        if (!arg) throw new UsageError('usage: kestrel strategy stop <workflow-id>');
        return withDatabase(config.database.url, (h) =>
          withTemporal(async (client) => {
            const stopped = await asUsage(() => stopStrategy(h.db, client, arg));
            if (values.json) json(stopped);
            else out(`stopped ${stopped.workflowId}; ${stopped.openPositions} open positions keep running to their exits`);
            return EXIT.ok;
          }),
        );
      }
      throw new UsageError('usage: kestrel strategy create|list|start|stop');
    },
  },

  backtest: {
    summary: 'backtest the momentum strategy in process over recorded gold markets (same domain code as paper/live): metrics, plots, report',
    usage: 'kestrel backtest [--strategy momentum|signals|model-edge] [--markets N | --market TICKER ...] [--min-move DOLLARS] [--lookback-ms MS] [--train-days N] [--out DIR] [--json]',
    options: { strategy: { type: 'string' }, markets: { type: 'string' }, market: { type: 'string', multiple: true }, 'min-move': { type: 'string' }, 'lookback-ms': { type: 'string' }, 'train-days': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, ...MODEL_EDGE_BACKTEST_OPTIONS },
    async run({ values }) {
      if (values.strategy === 'model-edge') return runModelEdgeBacktestCommand(values);
      const { config } = loadBootstrapConfig();
      const limit = intOption(values, 'markets', undefined);
      const minMove = values['min-move'] === undefined ? DEFAULT_MOMENTUM.minMove : Math.round(Number(values['min-move']) * 10_000);
      if (!Number.isFinite(minMove) || minMove <= 0 || minMove >= 10_000) throw new UsageError(`--min-move must be a price move in dollars in (0, 1), got ${JSON.stringify(values['min-move'])}`);
      const lookbackMs = intOption(values, 'lookback-ms', DEFAULT_MOMENTUM.lookbackMs, { min: 1000 });
      const markets = values.market as unknown as string[] | undefined;
      const window = await loadRecordedWindow(config.replay.dataDir, { markets, limit }).catch((e: Error) => {
        throw new UsageError(e.message);
      });
      const strategyName = values.strategy ?? 'momentum';
      if (strategyName !== 'momentum' && strategyName !== 'signals') throw new UsageError(`--strategy must be momentum or signals, got ${JSON.stringify(strategyName)}`);
      const trainDays = intOption(values, 'train-days', 2);
      const params = { ...DEFAULT_MOMENTUM, minMove, lookbackMs };
      const onProgress = values.json ? undefined : progressBar('backtest');
      const signalRun =
        strategyName === 'signals'
          ? await runSignalBacktest({ config, window, trainDays, onProgress }).catch((e: Error) => {
              throw new UsageError(e.message);
            })
          : undefined;
      const summary = signalRun ?? (await runBacktest({ config: backtestConfig(config), capital: config.risk.capital, events: window.columns, info: window.info, rule: momentumRule(params), onProgress }));
      if (signalRun && !values.json) out(`signal weights fitted on ${signalRun.trainDays.join(', ')} (${signalRun.trainSignals} signals), traded on ${signalRun.testDays.join(', ')}: ${signalRun.weights.map((w) => `${w.type} ${w.weight.toFixed(2)}`).join(', ') || 'none'}`);
      const outDir = typeof values.out === 'string' ? values.out : path.join('backtest-output', new Date().toISOString().replace(/[:.]/g, '-'));
      const parameters = signalRun ? { signals: config.signals, weights: signalRun.weights, trainDays: signalRun.trainDays, testDays: signalRun.testDays } : { momentum: params, strategy: backtestConfig(config).rules };
      const files = writeBacktestReport(outDir, summary, { title: `Backtest: ${strategyName} on ${window.markets.length} recorded gold markets`, capital: config.risk.capital, markets: window.markets, parameters });
      const m = summary.metrics;
      if (values.json) json({ metrics: m, bySignalType: summary.bySignalType, byCategory: summary.byCategory, monteCarlo: summary.monteCarlo, events: summary.result.events, elapsedMs: summary.elapsedMs, files });
      else {
        out(`${window.markets.length} markets, ${summary.result.events.toLocaleString('en-US')} events in ${(summary.elapsedMs / 1000).toFixed(1)} s`);
        out(`trades ${m.trades}  win rate ${m.winRate === null ? '-' : (100 * m.winRate).toFixed(1) + '%'}  P&L ${m.totalPnl} (fees ${m.fees})  Sharpe/trade ${m.sharpe?.toFixed(3) ?? '-'}  Sortino ${m.sortino?.toFixed(3) ?? '-'}  Calmar ${m.calmar?.toFixed(3) ?? '-'}  max DD ${m.maxDrawdown}`);
        out(`report ${files.report}  plots ${files.equity}, ${files.drawdown}`);
      }
      return EXIT.ok;
    },
  },

  'walk-forward': {
    summary: 'walk-forward optimisation of the momentum strategy over recorded gold days: in-sample vs out-of-sample',
    usage: 'kestrel walk-forward [--strategy momentum|signals] [--train-days N] [--test-days M] [--markets N] [--json]',
    options: { strategy: { type: 'string' }, 'train-days': { type: 'string' }, 'test-days': { type: 'string' }, markets: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }) {
      const { config } = loadBootstrapConfig();
      const trainDays = intOption(values, 'train-days', 2);
      const testDays = intOption(values, 'test-days', 1);
      const limit = intOption(values, 'markets', undefined);
      const days = recordedDays(config.replay.dataDir, limit);
      if (trainDays + testDays > days.length) throw new UsageError(`the recording has ${days.length} days (${days.join(', ')}): it cannot hold a ${trainDays}-day training window and a ${testDays}-day test window`);
      const strategyName = values.strategy ?? 'momentum';
      if (strategyName !== 'momentum' && strategyName !== 'signals') throw new UsageError(`--strategy must be momentum or signals, got ${JSON.stringify(strategyName)}`);
      const window = await loadRecordedWindow(config.replay.dataDir, { limit });
      const bar = values.json ? undefined : progressBar('walk-forward folds');
      if (strategyName === 'signals') {
        const wf = await signalWalkForward({ config, window, trainDays, testDays, onFold: bar });
        if (values.json) json(wf);
        else {
          for (const f of wf.folds) out(`train ${f.train.join(',')} → test ${f.test.join(',')}: weights ${f.weights.map((w) => `${w.type} ${w.weight.toFixed(2)}`).join(', ') || 'none'}; in-sample ${f.inSample.toFixed(2)} (${f.trades.inSample} trades) vs out-of-sample ${f.outOfSample.toFixed(2)} (${f.trades.outOfSample} trades)`);
          out(`total in-sample ${wf.inSampleTotal.toFixed(2)}, out-of-sample ${wf.outOfSampleTotal.toFixed(2)}, efficiency ${wf.efficiency?.toFixed(2) ?? '-'}`);
        }
        return EXIT.ok;
      }
      const wf = await goldWalkForward({ config, window, trainDays, testDays, grid: momentumGrid(), onFold: bar }).catch((e: Error) => {
        throw new UsageError(e.message);
      });
      if (values.json) json(wf);
      else {
        for (const f of wf.folds) out(`train ${f.train.join(',')} → test ${f.test.join(',')}: chose minMove $${(f.chosen.minMove / 10_000).toFixed(2)} lookback ${f.chosen.lookbackMs / 1000}s; in-sample ${f.inSample.toFixed(2)} vs out-of-sample ${f.outOfSample.toFixed(2)} (per test-day length)`);
        out(`total in-sample ${wf.inSampleTotal.toFixed(2)}, out-of-sample ${wf.outOfSampleTotal.toFixed(2)}, efficiency ${wf.efficiency?.toFixed(2) ?? '-'} over ${wf.backtests} backtests`);
      }
      return EXIT.ok;
    },
  },

  retrain: {
    summary: 'signal-weight retraining: `schedule` creates/updates the Temporal Schedule, `now` runs once and waits, `runs` lists what each run decided',
    usage: 'kestrel retrain schedule | now | runs [--json]',
    options: { json: { type: 'boolean' } },
    async run({ values, positionals }) {
      const sub = positionals[0];
      const { config } = loadBootstrapConfig();
      if (sub === 'schedule') {
        const r = await withTemporal((client) => ensureRetrainingSchedule(client, config));
        out(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: every ${config.retraining.everyMs / 3_600_000} h, overlap SKIP`);
        return EXIT.ok;
      }
      if (sub === 'now') {
        const result = await withTemporal(async (client) => {
          const handle = await client.workflow.start(retrainSignalWeightsWorkflow, { args: [retrainInput(config)], taskQueue: config.temporal.taskQueue, workflowId: `retrain/${config.retraining.modelName}/manual-${Date.now()}` });
          out(`started ${handle.workflowId}; waiting for it (a worker must be running: kestrel up)...`);
          return handle.result();
        });
        if (values.json) json(result);
        else out(`${result.status}${result.modelVersion ? ` ${result.modelVersion}` : ''}: ${result.reason}`);
        return EXIT.ok;
      }
      if (sub === 'runs') {
        return withDatabase(config.database.url, async (h) => {
          const rows = await h.db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(50);
          if (values.json) json(rows);
          else if (rows.length === 0) out('no retraining runs yet');
          else for (const r of rows) out(`#${r.id} ${r.createdAt.toISOString()} ${r.modelName} ${r.status.padEnd(17)} IS ${r.inSample?.toFixed(1) ?? '-'} OOS ${r.outOfSample?.toFixed(1) ?? '-'} (${r.trainOutcomes}/${r.testOutcomes} outcomes) ${r.reason}`);
          return EXIT.ok;
        });
      }
      throw new UsageError('usage: kestrel retrain schedule | now | runs');
    },
  },

  signals: {
    summary: 'recent signals; `signals matrix` for win rate / mean move by type × category × time of day and derived weights; `signals resolve` to resolve due outcomes now',
    usage: 'kestrel signals [--market M] [--type T] [--limit N] [--json] | signals matrix [--horizon MS] [--json] | signals resolve',
    options: { market: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' }, horizon: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values, positionals }) {
      const sub = positionals[0] ?? 'list';
      if (!['list', 'matrix', 'resolve'].includes(sub)) throw new UsageError(`unknown signals subcommand ${JSON.stringify(sub)}`);
      const limit = intOption(values, 'limit', 50, { min: 1, max: 10_000 });
      if (values.type !== undefined && !(SIGNAL_TYPES as readonly unknown[]).includes(values.type)) throw new UsageError(`--type must be one of ${SIGNAL_TYPES.join(', ')}, got ${JSON.stringify(values.type)}`);
      const { config } = loadBootstrapConfig();
      const horizon = values.horizon === undefined ? config.signals.horizonsMs[0]! : /^\d{1,15}$/.test(String(values.horizon)) ? Number(values.horizon) : NaN;
      if (!config.signals.horizonsMs.includes(horizon)) throw new UsageError(`--horizon must be one of the configured horizons (${config.signals.horizonsMs.join(', ')} ms), got ${JSON.stringify(values.horizon)}`);
      return withDatabase(config.database.url, async (h) => {
        if (sub === 'resolve') {
          const r = await resolveDueOutcomes(h.db, new RecordedSettlements(h.db));
          out(`resolved ${r.resolved} outcomes; ${r.pending} due but waiting for data`);
          return EXIT.ok;
        }
        if (sub === 'matrix') {
          const cells = await loadPerformanceMatrix(h.db);
          const weights = deriveWeights(cells, horizon, config.signals.weightPriorCount);
          if (values.json) json({ horizonMs: horizon, cells, weights });
          else if (cells.length === 0) out('no resolved signal outcomes yet');
          else {
            out(`${'type'.padEnd(22)}${'category'.padEnd(14)}${'UTC'.padEnd(7)}${'horizon'.padStart(9)}${'n'.padStart(6)}${'win%'.padStart(7)}${'mean move'.padStart(11)}`);
            for (const c of cells) out(`${c.type.padEnd(22)}${c.category.padEnd(14)}${c.timeOfDay.padEnd(7)}${`${c.horizonMs / 60_000}m`.padStart(9)}${String(c.count).padStart(6)}${(c.winRate === null ? '-' : (100 * c.winRate).toFixed(1)).padStart(7)}${`$${(c.meanMove / 10_000).toFixed(4)}`.padStart(11)}`);
            out(`\nweights at +${horizon / 60_000}m (shrunk by ${config.signals.weightPriorCount} pseudo-outcomes):`);
            for (const w of weights) out(`  ${w.type.padEnd(22)}${w.category.padEnd(14)} weight ${w.weight.toFixed(3)}  win ${(100 * w.winRate).toFixed(1)}%  expected move $${(w.expectedMove / 10_000).toFixed(4)}  (n=${w.count})`);
          }
          return EXIT.ok;
        }
        const rows = await recentSignals(h.db, { limit, market: typeof values.market === 'string' ? values.market : undefined, type: typeof values.type === 'string' ? values.type : undefined });
        if (values.json) json(rows);
        else if (rows.length === 0) out('no signals');
        else for (const r of rows) out(`#${r.id}  ${r.firedAt.toISOString()}  ${r.type.padEnd(20)} ${r.priority.padEnd(6)} ${r.marketTicker}  ${(r.direction ?? '-').padEnd(3)} conf ${r.confidence.toFixed(2)}  ${r.actionable ? 'ACTIONABLE' : ''}`);
        return EXIT.ok;
      });
    },
  },

  'flatten-all': {
    summary: 'emergency: drive every open position to a CRITICAL exit',
    usage: 'kestrel flatten-all --reason TEXT [--json]',
    options: { reason: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }) {
      if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new UsageError('--reason is required (it is recorded on every exit)');
      const signaled = await withTemporal((client) => flattenAll(client, `flatten-all: ${values.reason}`));
      if (values.json) json({ signaled });
      else out(signaled.length ? `CRITICAL exit requested for ${signaled.length} positions:\n  ${signaled.join('\n  ')}` : 'no open positions');
      return EXIT.ok;
    },
  },

  risk: {
    summary: 'show the paper risk state (mode, breakers, daily P&L) and recent risk events; `risk reset --reason R`',
    usage: 'kestrel risk [--json] | kestrel risk reset --reason TEXT',
    options: { json: { type: 'boolean' }, reason: { type: 'string' } },
    async run({ values, positionals }) {
      const { config } = loadBootstrapConfig();
      return withDatabase(config.database.url, async (h) => {
        if (positionals[0] === 'reset') {
          if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new UsageError('risk reset needs --reason');
          await resetRiskState(h.db, values.reason, Date.now());
          out('risk state reset: mode ACTIVE, breakers cleared');
          return EXIT.ok;
        }
        if (positionals.length) throw new UsageError(`unknown risk subcommand ${JSON.stringify(positionals[0])}`);
        const state = await readRiskState(h.db, Date.now());
        const events = await h.db.select().from(riskEvents).orderBy(desc(riskEvents.id)).limit(20);
        if (values.json) json({ state: { ...state, dailyPnl: state.dailyPnl.toString() }, events });
        else {
          out(`mode ${state.mode}   daily P&L ${state.dailyPnl.toFixed(2)}   loss streak ${state.consecutiveLosses}   day ${state.tradingDay ?? '-'}`);
          for (const t of state.tripped) out(`  TRIPPED ${t.breaker}: ${t.reason} (${new Date(t.atMs).toISOString()})`);
          for (const e of events) out(`  ${e.at.toISOString()}  ${e.kind.padEnd(12)} ${e.rule.padEnd(24)} ${e.positionId ?? ''}  ${e.reason}`);
        }
        return EXIT.ok;
      });
    },
  },

  health: {
    summary: 'check Postgres, Redis and Temporal',
    usage: 'kestrel health [--json]',
    options: { json: { type: 'boolean' } },
    async run({ values }) {
      const { config } = loadBootstrapConfig();
      const check = async (name: string, fn: () => Promise<void>) => {
        const started = Date.now();
        try {
          await fn();
          return { name, ok: true, ms: Date.now() - started };
        } catch (e) {
          return { name, ok: false, ms: Date.now() - started, error: (e as Error).message };
        }
      };
      const results = await Promise.all([
        check('postgres', () => withDatabase(config.database.url, async (h) => void (await h.sql`select 1`))),
        check('redis', async () => {
          const redis = createRedis(config.redis.url, 'producer');
          try {
            await redis.ping();
          } finally {
            redis.disconnect();
          }
        }),
        check('temporal', async () => {
          const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
          try {
            await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
          } finally {
            await connection.close();
          }
        }),
      ]);
      if (values.json) json(results);
      else for (const r of results) out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(9)} ${r.ms}ms${r.error ? `  ${r.error}` : ''}`);
      return results.every((r) => r.ok) ? EXIT.ok : EXIT.unavailable;
    },
  },

  venue: {
    summary: 'run a local venue emulator (venue emulate kalshi): Kalshi REST + WebSocket over the recorded feed',
    usage: VENUE_EMULATE_USAGE,
    options: VENUE_EMULATE_OPTIONS,
    async run({ values, positionals }) {
      return runVenueCommand(positionals, values, { dataDir: () => path.resolve(loadBootstrapConfig().config.replay.dataDir), out, err }).catch((e: unknown) => {
        throw e instanceof EmulatorUsageError ? new UsageError(e.message) : e;
      });
    },
  },

  up: {
    summary: 'start the Temporal dev server (if needed) and the workers, run the main job, stay up until Ctrl-C',
    usage: 'kestrel up [--temporal-bin PATH] [--job paper|ingest] [--feed replay|kalshi|kalshi-emulator] [--clock wall|market] [--markets N] [--speed X] [--no-job] [--exit-after-job]',
    options: { 'temporal-bin': { type: 'string' }, job: { type: 'string' }, feed: { type: 'string' }, clock: { type: 'string' }, markets: { type: 'string' }, speed: { type: 'string' }, 'no-job': { type: 'boolean' }, 'exit-after-job': { type: 'boolean' } },
    async run({ values }) {
      const job = values.job ?? 'paper';
      if (job !== 'paper' && job !== 'ingest') throw new UsageError(`--job must be paper or ingest, got ${JSON.stringify(job)}`);
      const feed = parseUpFeed(values.feed, values.clock);
      if (feed.kind !== 'replay' && job === 'ingest') throw new UsageError(`--job ingest replays the recording; it takes no --feed ${feed.kind}`);
      // The live feed is the job: it runs into the workers until Ctrl-C.
      const paperJob = !values['no-job'] && job === 'paper' && feed.kind !== 'kalshi';
      if (feed.kind === 'kalshi' && !process.env.KALSHI_API_KEY_ID) {
        err('kestrel up --feed kalshi: Kalshi signs the WebSocket handshake even for market data; set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or try --feed kalshi-emulator)');
        return EXIT.config;
      }
      const marketLimit = intOption(values, 'markets', job === 'paper' ? 4 : undefined);
      const speed = values.speed === undefined ? 60 : Number(values.speed);
      if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) throw new UsageError(`--speed must be a number in (0, 10000], got ${JSON.stringify(values.speed)}`);
      const boot = loadBootstrapConfig();
      // JSON logs on stderr (pino); the Temporal SDK's own logs join them with their workflow ids.
      // Worker lifecycle chatter (bundling, state changes) hides the summary: warnings and up only.
      const logger = createLogger({ level: boot.config.logging.level });
      installTemporalLogging(logger);
      // What escapes every caller: connection faults are survived; anything else stops in order (below).
      let stopAfterFatal: () => Promise<void> = async () => {};
      installProcessGuard({ logger, shutdown: () => stopAfterFatal() });
      if (await ensureDatabase(boot.config.database.url)) out(`created database ${new URL(boot.config.database.url).pathname.slice(1)}`);
      await runMigrations(boot.config.database.url);
      const { config } = await loadFullConfig();
      // Workers that route orders to Kalshi without a key would fail every order: refuse to start them.
      // (The emulator session trades with an account of its own.)
      if (config.venues.execution === 'kalshi' && !process.env.KALSHI_API_KEY_ID && feed.kind !== 'kalshi-emulator') {
        err(`venues.execution is kalshi (${config.venues.kalshi.environment}) but no Kalshi credentials are set: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, or KESTREL__VENUES__EXECUTION=paper`);
        return EXIT.config;
      }
      if (paperJob && feed.clock === 'wall') {
        // The replay runs `speed` times faster than the market: time-to-close rules shrink with it.
        config.risk.noEntryBeforeCloseMs = Math.round(config.risk.noEntryBeforeCloseMs / speed);
      }

      const [host, port] = config.temporal.address.split(':');
      const binary = typeof values['temporal-bin'] === 'string' ? values['temporal-bin'] : process.env.KESTREL_TEMPORAL_BIN;
      const dataHome = path.join(process.env.KESTREL_CACHE_DIR ?? path.join(homedir(), '.cache', 'kestrel'));
      const server = await startDevServer({ binary, ip: host ?? '127.0.0.1', port: Number(port ?? 7233), uiPort: config.temporal.uiPort, dbFile: path.join(dataHome, 'temporal-dev.sqlite'), namespace: config.temporal.namespace, log: out });
      const stack = await startStack(config, { logger });
      const retraining = await ensureRetrainingSchedule(stack.temporal, config);
      const temporalUi = `${server.uiUrl}/namespaces/${config.temporal.namespace}`;
      const metricsServer = await startMetricsServer({ port: config.metrics.port, host: config.metrics.host, metrics: stack.metrics, health: stack.health, dashboard: () => dashboardData(stack.database.db, temporalUi, Date.now()) });

      let liveFeed: { feed: KalshiLiveMarketData; stop(): Promise<void> } | undefined;
      // A market-clock session runs on a stack of its own: Ctrl-C ends it first.
      const session = new AbortController();
      let sessionDone: Promise<unknown> = Promise.resolve();
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        session.abort(new Error(`${signal}: paper session stopped`));
        await sessionDone;
        out(`\n${signal}: stopping the live feed, BullMQ workers, then the Temporal worker, then DB/Redis pools...`);
        if (liveFeed) {
          await liveFeed.stop();
          out(`live Kalshi feed: ${JSON.stringify(liveFeed.feed.counters)}`);
        }
        await metricsServer.close();
        await stack.shutdown();
        if (server.owned) await server.stop();
        out('stopped cleanly');
      };
      const stopped = new Promise<void>((resolve) => {
        for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(sig).then(resolve));
      });
      stopAfterFatal = () => stop('fatal error');

      out('');
      out(`Temporal UI:   ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows`);
      out(`Temporal gRPC: ${server.address}   task queue: ${config.temporal.taskQueue}`);
      out(`Dashboard:     ${metricsServer.url}/`);
      out(`Retraining:    Temporal Schedule ${retraining.scheduleId} (every ${config.retraining.everyMs / 3_600_000} h, overlap SKIP)`);
      out(`Metrics:       ${metricsServer.url}/metrics   health: ${metricsServer.url}/health`);
      out(`Postgres:      ${describeConfig({ config, sources: {} }).find((r) => r.key === 'database.url')!.value}`);
      out(`Redis queues:  ${config.redis.keyPrefix}:${config.ingest.queueName}, ${config.redis.keyPrefix}:${config.marketData.queueBase}-p0..p${config.marketData.partitions - 1}, ${config.redis.keyPrefix}:${config.signals.queueName}`);
      out('');
      const printSession = (session: PaperSessionSummary) => {
        out('');
        out(`Positions (${session.positions.length}) from ${session.signals} signals over ${session.events} events:`);
        for (const p of session.positions) out(`  ${p.positionId}  ${p.outcome.toUpperCase()} ${Number(p.size)} @ ${p.entryPrice ?? '-'}  ${p.status}  P&L ${p.realizedPnl} (fees ${p.fees})  ${p.exits.join('; ')}`);
        out(`Total P&L ${session.totalPnl} after ${session.totalFees} fees.  Strategy: ${server.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(session.strategyWorkflowId)}`);
      };
      if (paperJob && feed.clock === 'wall') {
        out(`Main job: paper-trading session on the recorded Kalshi gold feed (${marketLimit} markets at ${speed}× recorded pace): books via BullMQ, a momentum rule signals a strategy workflow, positions trade on the paper exchange with Kalshi fees and settle on the recorded results`);
        // Each session starts with fresh paper breakers (losses of a previous session do not halt this one).
        await resetRiskState(stack.database.db, 'paper session start', Date.now());
        const session = await runPaperSession(stack, { marketLimit: marketLimit!, speed, log: out });
        printSession(session);
        const engine = Object.entries(session.engineSignals);
        out(`Signal engine (BullMQ signal worker) on these markets: ${engine.length ? engine.map(([t, n]) => `${n} ${t}`).join(', ') : 'nothing fired'} (npx kestrel signals; outcomes: npx kestrel signals matrix)`);
      }
      if (paperJob && feed.clock === 'market') {
        const source = feed.kind === 'kalshi-emulator' ? 'the Kalshi emulator (in this process, speed 0) over its WebSocket' : 'the recording';
        out(`Main job: paper-trading session on the market clock (${marketLimit} recorded gold markets from ${source}): the momentum rule on every applied event, positions in lockstep with the data, so the same markets give the same positions and P&L from either source`);
        const markets = listRecordedMarkets(config.replay.dataDir).slice(0, marketLimit);
        // With venues.execution kalshi, the emulator session's orders go to the emulator through the Kalshi execution client.
        const execution = feed.kind === 'kalshi-emulator' ? config.venues.execution : 'paper';
        if (execution === 'kalshi') out('  orders: to the emulator through the Kalshi execution client (venues.execution = kalshi)');
        const running = runMarketClockPaperSession({ config, feed: feed.kind === 'kalshi-emulator' ? 'kalshi-emulator' : 'replay', execution, markets, log: out, stack: { logger }, signal: session.signal });
        sessionDone = running.catch(() => {});
        const summary = await running.catch((e: unknown) => {
          if (session.signal.aborted) return undefined;
          throw e;
        });
        if (summary) printSession(summary);
        if (summary?.feedCounters) out(`Kalshi feed: ${JSON.stringify(summary.feedCounters)}`);
        if (summary?.venue) out(`Venue (emulator): ${summary.venue.orders} orders; net positions at the end ${JSON.stringify(summary.venue.netPositions)}`);
      }
      if (!values['no-job'] && feed.kind === 'kalshi') {
        const endpoints = kalshiEndpoints(config.venues);
        out(`Live Kalshi feed (${endpoints.environment}: ${endpoints.wsUrl}): markets of ${JSON.stringify(config.marketData.kalshi)} → BullMQ partitions → books, price history, signals`);
        // The emulator replays the recording's time: its snapshots are stamped in that time, not the wall's.
        const seedExchangeMs = endpoints.environment === 'emulator' ? await emulatorExchangeTime(endpoints.restUrl).catch((e: Error) => void out(`  the emulator's clock is unknown (${e.message}); snapshots before the first timed event get wall time`)) : undefined;
        const kalshi = createKalshiFeed(config, { db: stack.database.db, credentials: stack.kalshiCredentials, clock: { nowMs: () => Date.now() }, seedExchangeMs, log: out });
        const running = await runFeedIntoPublisher(kalshi, stack.createPublisher(`kalshi-live-${Date.now()}`, { live: true }));
        liveFeed = { feed: kalshi, stop: running.stop };
        out(`  following ${running.markets.length} market(s); strategies subscribe with: npx kestrel strategy start <name> --venue ${config.venues.execution} --feed kalshi`);
      }
      if (!values['no-job'] && job === 'ingest') {
        out('Main job: replaying the recorded Kalshi gold 15-minute feed (../shared/data/kalshi-gold15m-ws): book events through BullMQ partitions into L2 books + price history, trade prints through BullMQ → Temporal workflows → Postgres');
        const summary = await runRecordedFeedIngestion(stack, { marketLimit, progress: out });
        out(`Done in ${(summary.elapsedMs / 1000).toFixed(1)}s: ${summary.markets} markets, ${summary.messages} recorded messages.`);
        out(`  books:  ${summary.bookEvents} events in ${summary.bookBatches} BullMQ batches → L2 books, price_history, top of book in Redis`);
        out(`  market_snapshots (SCD-2): ${summary.snapshotVersions.inserted} inserted, ${summary.snapshotVersions.versioned} versioned, ${summary.snapshotVersions.unchanged} unchanged`);
        out(`  trades: ${summary.trades} prints in ${summary.batches} Temporal workflows; trade_prints rows ${summary.rowsBefore} → ${summary.rowsAfter}; ${summary.failedJobs} failed jobs, ${summary.malformed} malformed lines`);
      }
      out('');
      out('Try:  npx kestrel positions  |  npx kestrel report pnl  |  npx kestrel signals  |  npx kestrel why <client-order-id>  |  npx kestrel health');
      out('      npx kestrel backtest --markets 6  |  npx kestrel walk-forward  |  npx kestrel strategy list  |  Temporal UI search: KestrelPositionStatus="closed"');
      out('      psql postgres://postgres@127.0.0.1:5432/kestrel -c "select position_id, status, entry_price, realized_pnl, fees from positions order by updated_at desc limit 10"');
      if (values['exit-after-job']) {
        await stop('done');
        return EXIT.ok;
      }
      out('Workers are running. Press Ctrl-C to stop.');
      await stopped;
      return EXIT.ok;
    },
  },
};

/**
 * `up --feed/--clock`: the recording (at `--speed` on the wall clock, or on the market clock), the
 * live Kalshi feed of the configured environment, or the in-process emulator (market clock only).
 */
export function parseUpFeed(feed: unknown, clock: unknown): { kind: 'replay' | 'kalshi' | 'kalshi-emulator'; clock: 'wall' | 'market' } {
  const kind = feed ?? 'replay';
  if (kind !== 'replay' && kind !== 'kalshi' && kind !== 'kalshi-emulator') throw new UsageError(`--feed must be replay, kalshi or kalshi-emulator, got ${JSON.stringify(feed)}`);
  if (clock !== undefined && clock !== 'wall' && clock !== 'market') throw new UsageError(`--clock must be wall or market, got ${JSON.stringify(clock)}`);
  if (kind === 'kalshi' && clock === 'market') throw new UsageError('--feed kalshi is the live exchange: its clock is the wall clock (--clock market needs the recording or the emulator)');
  // The emulator session moves the emulator's clock itself, so its outcome is the replay's.
  if (kind === 'kalshi-emulator' && clock === 'wall') throw new UsageError('--feed kalshi-emulator runs on the market clock (the session moves the emulator clock); drop --clock wall');
  return { kind, clock: clock ?? (kind === 'replay' || kind === 'kalshi' ? 'wall' : 'market') };
}

function printHelp(): void {
  out('kestrel — durable trading engine for prediction markets\n');
  out('Usage: kestrel <command> [options]\n');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(10)} ${c.summary}`);
  out('\nRun `kestrel <command> --help` for a command. Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 invalid config, 4 service unavailable.');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    err(`kestrel: unknown command ${JSON.stringify(name)}. Run \`kestrel --help\`.`);
    return EXIT.usage;
  }
  try {
    const parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      out(`${command.usage}\n\n${command.summary}`);
      return EXIT.ok;
    }
    return await command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof KalshiCredentialsError) {
      err(e instanceof KalshiCredentialsError ? `kestrel ${name}: ${e.message}` : e.message);
      return EXIT.config;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`kestrel ${name}: ${(e as Error).message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    if ((e as { code?: string }).code === 'ECONNREFUSED') {
      err(`kestrel ${name}: service unavailable: ${(e as Error).message}`);
      return EXIT.unavailable;
    }
    err(`kestrel ${name}: ${(e as Error).stack ?? String(e)}`);
    return EXIT.failure;
  }
}
