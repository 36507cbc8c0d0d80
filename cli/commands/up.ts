import { homedir } from 'node:os';
import path from 'node:path';
import { describeConfig, loadBootstrapConfig } from '../../config/load';
import { databaseName, ensureDatabase, runMigrations } from '../../db/admin';
import { resetRiskState } from '../../db/risk-repo';
import { startStackConsole } from '../console';
import { createLogger, installTemporalLogging } from '../../observability/logger';
import { startMetricsServer } from '../../observability/metrics';
import { runRecordedFeedIngestion } from '../../runs/main-job';
import { runMarketClockPaperSession, runPaperSession, type PaperSessionSummary } from '../../runs/paper-session';
import { ensureRetrainingSchedule } from '../../runtime/retraining-schedule';
import { startStack } from '../../runtime/stack';
import { startDevServer } from '../../runtime/temporal-dev-server';
import { kalshiEndpoints } from '../../venues/kalshi/config';
import { listRecordedMarkets } from '../../venues/replay/gold-feed';
import { createKalshiFeed, createPolymarketFeed, emulatorExchangeTime, runFeedIntoPublisher } from '../../workers/market-data/live-feed';
import { runPolymarketEmulatorSession } from '../../runs/polymarket-session';
import { polymarketEndpoints } from '../../venues/polymarket/config';
import { installProcessGuard } from '../process-guard';
import { CommandInputError, EXIT, err, intOption, jsonLine, loadFullConfig, out, type CliCommand } from './cli-support';

/**
 * `up --feed/--clock`: the recording (at `--speed` on the wall clock, or on the market clock), the
 * live Kalshi feed of the configured environment, or the in-process emulator (market clock only).
 */
export function parseUpFeed(feed: unknown, clock: unknown): { kind: UpFeed; clock: 'wall' | 'market' } {
  const kind = feed ?? 'replay';
  if (!(UP_FEEDS as readonly unknown[]).includes(kind)) throw new CommandInputError(`--feed must be ${UP_FEEDS.slice(0, -1).join(', ')} or ${UP_FEEDS.at(-1)}, got ${JSON.stringify(feed)}`);
  if (clock !== undefined && clock !== 'wall' && clock !== 'market') throw new CommandInputError(`--clock must be wall or market, got ${JSON.stringify(clock)}`);
  if ((kind === 'kalshi' || kind === 'polymarket') && clock === 'market') throw new CommandInputError(`--feed ${kind} is the live exchange: its clock is the wall clock (--clock market needs the recording or the emulator)`);
  // The Polymarket session plays its short recording through (the emulator's clock), then trades on the wall clock.
  if (kind === 'polymarket-emulator') {
    if (clock !== undefined) throw new CommandInputError('--feed polymarket-emulator plays the recording through before it trades (no lockstep): it takes no --clock');
    return { kind, clock: 'wall' };
  }
  // The emulator session moves the emulator's clock itself, so its outcome is the replay's.
  if (kind === 'kalshi-emulator' && clock === 'wall') throw new CommandInputError('--feed kalshi-emulator runs on the market clock (the session moves the emulator clock); drop --clock wall');
  return { kind: kind as UpFeed, clock: clock ?? (kind === 'replay' || kind === 'kalshi' || kind === 'polymarket' ? 'wall' : 'market') };
}

const UP_FEEDS = ['replay', 'kalshi', 'kalshi-emulator', 'polymarket', 'polymarket-emulator'] as const;
type UpFeed = (typeof UP_FEEDS)[number];

export const upCommand: CliCommand = {
  summary: 'start the Temporal dev server (if needed) and the workers, run the main job, stay up until Ctrl-C',
  usage: 'kestrel up [--temporal-bin PATH] [--job paper|ingest] [--feed replay|kalshi|kalshi-emulator|polymarket|polymarket-emulator] [--clock wall|market] [--markets N] [--speed X] [--no-job] [--exit-after-job] [--json]',
  details: [
    '--json: stdout carries one JSON object per line, each with an "event": "ready" (the startup summary: Temporal UI and address,',
    'task queue, dashboard, metrics and health URLs, retraining schedule, Postgres, Redis queues, databaseCreated), then per job',
    '"session" (the paper session\'s positions and totals), "live-feed" (the markets followed) or "ingest" (the replay\'s counts),',
    'then "running" (until Ctrl-C) or, on the way out, "stopped" (with the live feed\'s counters). Progress lines go to stderr.',
  ].join('\n'),
  options: { 'temporal-bin': { type: 'string' }, job: { type: 'string' }, feed: { type: 'string' }, clock: { type: 'string' }, markets: { type: 'string' }, speed: { type: 'string' }, 'no-job': { type: 'boolean' }, 'exit-after-job': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }) {
    const job = values.job ?? 'paper';
    if (job !== 'paper' && job !== 'ingest') throw new CommandInputError(`--job must be paper or ingest, got ${JSON.stringify(job)}`);
    const feed = parseUpFeed(values.feed, values.clock);
    if (feed.kind !== 'replay' && job === 'ingest') throw new CommandInputError(`--job ingest replays the recording; it takes no --feed ${feed.kind}`);
    // The live feed is the job: it runs into the workers until Ctrl-C.
    const paperJob = !values['no-job'] && job === 'paper' && feed.kind !== 'kalshi' && feed.kind !== 'polymarket';
    if (feed.kind === 'kalshi' && !process.env.KALSHI_API_KEY_ID) {
      err('kestrel up --feed kalshi: Kalshi signs the WebSocket handshake even for market data; set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or try --feed kalshi-emulator)');
      return EXIT.config;
    }
    const marketLimit = intOption(values, 'markets', job === 'paper' ? 4 : undefined);
    const speed = values.speed === undefined ? 60 : Number(values.speed);
    if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) throw new CommandInputError(`--speed must be a number in (0, 10000], got ${JSON.stringify(values.speed)}`);
    // With --json, stdout is JSON lines only (`emit`); the human lines (`say`) go to stderr.
    const asJson = values.json === true;
    const say = asJson ? err : out;
    const emit = (event: string, fields: Record<string, unknown> = {}) => {
      if (asJson) jsonLine({ event, ...fields });
    };
    const boot = loadBootstrapConfig();
    // JSON logs on stderr (pino); the Temporal SDK's own logs join them with their workflow ids.
    // Worker lifecycle chatter (bundling, state changes) hides the summary: warnings and up only.
    const logger = createLogger({ level: boot.config.logging.level });
    installTemporalLogging(logger);
    // What escapes every caller: connection faults are survived; anything else stops in order (below).
    let stopAfterFatal: () => Promise<void> = async () => {};
    installProcessGuard({ logger, shutdown: () => stopAfterFatal() });
    const databaseCreated = await ensureDatabase(boot.config.database.url);
    if (databaseCreated) say(`created database ${databaseName(boot.config.database.url)}`);
    await runMigrations(boot.config.database.url);
    const { config } = await loadFullConfig();
    // Workers that route orders to Kalshi without a key would fail every order: refuse to start them.
    // (The emulator session trades with an account of its own.)
    if (config.venues.execution === 'kalshi' && !process.env.KALSHI_API_KEY_ID && feed.kind !== 'kalshi-emulator') {
      err(`venues.execution is kalshi (${config.venues.kalshi.environment}) but no Kalshi credentials are set: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH, or KESTREL__VENUES__EXECUTION=paper`);
      return EXIT.config;
    }
    // The Polymarket emulator session trades with a wallet of its own; the workers' venue then stays paper until a key is set.
    const polymarketWithoutKey = config.venues.execution === 'polymarket' && !process.env.POLYMARKET_PRIVATE_KEY;
    if (polymarketWithoutKey && feed.kind !== 'polymarket-emulator') {
      err(`venues.execution is polymarket (${config.venues.polymarket.environment}) but POLYMARKET_PRIVATE_KEY is not set: the wallet key signs orders and derives the API key; set it, or KESTREL__VENUES__EXECUTION=paper (or try --feed polymarket-emulator)`);
      return EXIT.config;
    }
    if (paperJob && feed.kind === 'replay' && feed.clock === 'wall') {
      // The replay runs `speed` times faster than the market: time-to-close rules shrink with it.
      config.risk.noEntryBeforeCloseMs = Math.round(config.risk.noEntryBeforeCloseMs / speed);
    }

    const [host, port] = config.temporal.address.split(':');
    const binary = typeof values['temporal-bin'] === 'string' ? values['temporal-bin'] : process.env.KESTREL_TEMPORAL_BIN;
    const dataHome = path.join(process.env.KESTREL_CACHE_DIR ?? path.join(homedir(), '.cache', 'kestrel'));
    const server = await startDevServer({ binary, ip: host ?? '127.0.0.1', port: Number(port ?? 7233), uiPort: config.temporal.uiPort, dbFile: path.join(dataHome, 'temporal-dev.sqlite'), namespace: config.temporal.namespace, log: say });
    const stack = await startStack(polymarketWithoutKey ? { ...config, venues: { ...config.venues, execution: 'paper' } } : config, { logger });
    const retraining = await ensureRetrainingSchedule(stack.temporal, config);
    const temporalUi = `${server.uiUrl}/namespaces/${config.temporal.namespace}`;
    // The web console (token from KESTREL_CONSOLE_TOKEN / _FILE, else read-only) beside /metrics and /health.
    const webConsole = await startStackConsole(stack, { temporalUi, log: say });
    const metricsServer = await startMetricsServer({ port: config.metrics.port, host: config.metrics.host, metrics: stack.metrics, health: stack.health, console: webConsole });

    let liveFeed: { venue: string; counters(): unknown; stop(): Promise<void> } | undefined;
    // A market-clock session runs on a stack of its own: Ctrl-C ends it first.
    const session = new AbortController();
    let sessionDone: Promise<unknown> = Promise.resolve();
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      session.abort(new Error(`${signal}: paper session stopped`));
      await sessionDone;
      say(`\n${signal}: stopping the live feed, BullMQ workers, then the Temporal worker, then DB/Redis pools...`);
      if (liveFeed) {
        await liveFeed.stop();
        say(`live ${liveFeed.venue} feed: ${JSON.stringify(liveFeed.counters())}`);
      }
      await metricsServer.close();
      await stack.shutdown();
      if (server.owned) await server.stop();
      say('stopped cleanly');
      emit('stopped', { signal, liveFeed: liveFeed?.counters() });
    };
    const stopped = new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stop(sig).then(resolve));
    });
    stopAfterFatal = () => stop('fatal error');

    const postgres = describeConfig({ config, sources: {} }).find((r) => r.key === 'database.url')!.value;
    const redisQueues = [`${config.redis.keyPrefix}:${config.ingest.queueName}`, `${config.redis.keyPrefix}:${config.marketData.queueBase}-p0..p${config.marketData.partitions - 1}`, `${config.redis.keyPrefix}:${config.signals.queueName}`];
    if (asJson) {
      emit('ready', {
        temporalUi: `${temporalUi}/workflows`,
        temporalAddress: server.address,
        taskQueue: config.temporal.taskQueue,
        dashboard: `${metricsServer.url}/`,
        consoleReadOnly: webConsole.readOnly,
        retraining: { scheduleId: retraining.scheduleId, everyMs: config.retraining.everyMs, overlap: 'SKIP' },
        metrics: `${metricsServer.url}/metrics`,
        health: `${metricsServer.url}/health`,
        postgres,
        database: databaseName(config.database.url),
        databaseCreated,
        redisQueues,
      });
    } else {
      out('');
      out(`Temporal UI:   ${temporalUi}/workflows`);
      out(`Temporal gRPC: ${server.address}   task queue: ${config.temporal.taskQueue}`);
      out(`Console:       ${metricsServer.url}/  ${webConsole.readOnly ? '(read-only: set KESTREL_CONSOLE_TOKEN to enable actions)' : '(log in with KESTREL_CONSOLE_TOKEN)'}`);
      out(`Retraining:    Temporal Schedule ${retraining.scheduleId} (every ${config.retraining.everyMs / 3_600_000} h, overlap SKIP)`);
      out(`Metrics:       ${metricsServer.url}/metrics   health: ${metricsServer.url}/health`);
      out(`Postgres:      ${postgres}`);
      out(`Redis queues:  ${redisQueues.join(', ')}`);
      out('');
    }
    const strategyUrl = (s: PaperSessionSummary) => `${temporalUi}/workflows/${encodeURIComponent(s.strategyWorkflowId)}`;
    const printSession = (session: PaperSessionSummary) => {
      say('');
      say(`Positions (${session.positions.length}) from ${session.signals} signals over ${session.events} events:`);
      for (const p of session.positions) say(`  ${p.positionId}  ${p.outcome.toUpperCase()} ${Number(p.size)} @ ${p.entryPrice ?? '-'}  ${p.status}  P&L ${p.realizedPnl} (fees ${p.fees})  ${p.exits.join('; ')}`);
      say(`Total P&L ${session.totalPnl} after ${session.totalFees} fees.  Strategy: ${strategyUrl(session)}`);
    };
    if (paperJob && feed.kind === 'replay' && feed.clock === 'wall') {
      say(`Main job: paper-trading session on the recorded Kalshi gold feed (${marketLimit} markets at ${speed}× recorded pace): books via BullMQ, a momentum rule signals a strategy workflow, positions trade on the paper exchange with Kalshi fees and settle on the recorded results`);
      // Each session starts with fresh paper breakers (losses of a previous session do not halt this one).
      await resetRiskState(stack.database.db, 'paper session start', Date.now());
      const session = await runPaperSession(stack, { marketLimit: marketLimit!, speed, log: say });
      printSession(session);
      const engine = Object.entries(session.engineSignals);
      say(`Signal engine (BullMQ signal worker) on these markets: ${engine.length ? engine.map(([t, n]) => `${n} ${t}`).join(', ') : 'nothing fired'} (npx kestrel signals; outcomes: npx kestrel signals matrix)`);
      emit('session', { job: 'paper', feed: feed.kind, clock: feed.clock, ...session, strategyUrl: strategyUrl(session) });
    }
    if (paperJob && feed.kind === 'polymarket-emulator') {
      // With venues.execution polymarket, the session's orders go to the emulator through Kestrel's Polymarket execution client.
      const execution = config.venues.execution === 'polymarket' ? 'polymarket' : 'paper';
      say(`Main job: paper session on Polymarket data over Polymarket's WebSocket protocol: the Polymarket emulator in this process plays ${config.replay.polymarketDataDir}; Kestrel's market-channel client → BullMQ book workers → books and signals; one position through the strategy and position workflows, orders ${execution === 'polymarket' ? 'to the emulator through the Polymarket execution client (venues.execution = polymarket)' : 'on the paper exchange'} with Polymarket's taker fee`);
      const running = runPolymarketEmulatorSession({ config, execution, log: say, stack: { logger }, signal: session.signal });
      sessionDone = running.catch(() => {});
      const summary = await running.catch((e: unknown) => {
        if (session.signal.aborted) return undefined;
        throw e;
      });
      if (summary) {
        const i = summary.ingested;
        say('');
        say(`Ingested: ${i.messages} WebSocket messages (${i.malformed} malformed, ${i.resyncs} resyncs) on ${summary.markets} token(s) → ${i.events.snapshot} book snapshots, ${i.events.trade} trades, ${i.events.level} level changes, ${i.events.stale} stale marks → ${i.applied} events applied by the BullMQ book workers (${i.batches} batches)`);
        if (summary.entry) say(`Entry: ${summary.entry.asset} (${summary.entry.reason})`);
        printSession(summary);
        const engine = Object.entries(summary.engineSignals);
        say(`Signal engine on these tokens: ${engine.length ? engine.map(([t, n]) => `${n} ${t}`).join(', ') : 'nothing fired'}`);
        if (summary.venue) say(`Venue (emulator): ${summary.venue.orders} orders, ${summary.venue.trades} trades, fees ${summary.venue.fees}; net shares at the end ${JSON.stringify(summary.venue.netShares)}`);
        for (const note of summary.notes) say(`Note: ${note}`);
        emit('session', { job: 'paper', ...summary, strategyUrl: strategyUrl(summary) });
      }
    }
    if (paperJob && feed.clock === 'market') {
      const source = feed.kind === 'kalshi-emulator' ? 'the Kalshi emulator (in this process, speed 0) over its WebSocket' : 'the recording';
      say(`Main job: paper-trading session on the market clock (${marketLimit} recorded gold markets from ${source}): the momentum rule on every applied event, positions in lockstep with the data, so the same markets give the same positions and P&L from either source`);
      const markets = listRecordedMarkets(config.replay.dataDir).slice(0, marketLimit);
      // With venues.execution kalshi, the emulator session's orders go to the emulator through the Kalshi execution client.
      const execution = feed.kind === 'kalshi-emulator' && config.venues.execution === 'kalshi' ? 'kalshi' : 'paper';
      if (execution === 'kalshi') say('  orders: to the emulator through the Kalshi execution client (venues.execution = kalshi)');
      const running = runMarketClockPaperSession({ config, feed: feed.kind === 'kalshi-emulator' ? 'kalshi-emulator' : 'replay', execution, markets, log: say, stack: { logger }, signal: session.signal });
      sessionDone = running.catch(() => {});
      const summary = await running.catch((e: unknown) => {
        if (session.signal.aborted) return undefined;
        throw e;
      });
      if (summary) printSession(summary);
      if (summary?.feedCounters) say(`Kalshi feed: ${JSON.stringify(summary.feedCounters)}`);
      if (summary?.venue) say(`Venue (emulator): ${summary.venue.orders} orders; net positions at the end ${JSON.stringify(summary.venue.netPositions)}`);
      if (summary) emit('session', { job: 'paper', clock: feed.clock, execution, ...summary, strategyUrl: strategyUrl(summary) });
    }
    if (!values['no-job'] && feed.kind === 'kalshi') {
      const endpoints = kalshiEndpoints(config.venues);
      say(`Live Kalshi feed (${endpoints.environment}: ${endpoints.wsUrl}): markets of ${JSON.stringify(config.marketData.kalshi)} → BullMQ partitions → books, price history, signals`);
      // The emulator replays the recording's time: its snapshots are stamped in that time, not the wall's.
      const seedExchangeMs = endpoints.environment === 'emulator' ? await emulatorExchangeTime(endpoints.restUrl).catch((e: Error) => void say(`  the emulator's clock is unknown (${e.message}); snapshots before the first timed event get wall time`)) : undefined;
      const kalshi = createKalshiFeed(config, { db: stack.database.db, credentials: stack.kalshiCredentials, clock: { nowMs: () => Date.now() }, seedExchangeMs, log: say });
      const running = await runFeedIntoPublisher(kalshi, stack.createPublisher(`kalshi-live-${Date.now()}`, { live: true }));
      liveFeed = { venue: 'Kalshi', counters: () => kalshi.counters, stop: running.stop };
      say(`  following ${running.markets.length} market(s); strategies subscribe with: npx kestrel strategy start <name> --venue ${config.venues.execution} --feed kalshi`);
      emit('live-feed', { environment: endpoints.environment, wsUrl: endpoints.wsUrl, markets: running.markets });
    }
    if (!values['no-job'] && feed.kind === 'polymarket') {
      const endpoints = polymarketEndpoints(config.venues);
      say(`Live Polymarket feed (${endpoints.environment}: ${endpoints.marketWsUrl}): tokens of ${JSON.stringify(config.marketData.polymarket)} → BullMQ partitions → books, price history, signals`);
      const polymarket = await createPolymarketFeed(config, { db: stack.database.db, clock: { nowMs: () => Date.now() }, log: say });
      const publisher = stack.createPublisher(`polymarket-live-${Date.now()}`, { live: true });
      await polymarket.open((event) => void publisher.publish(event));
      liveFeed = {
        venue: 'Polymarket',
        counters: () => ({ ...polymarket.client.counters, events: polymarket.delivered }),
        stop: async () => {
          await polymarket.close();
          await publisher.flush();
        },
      };
      say(`  following ${polymarket.assets.length} token(s); strategies subscribe with: npx kestrel strategy start <name> --venue ${config.venues.execution} --feed polymarket`);
      emit('live-feed', { venue: 'polymarket', environment: endpoints.environment, wsUrl: endpoints.marketWsUrl, markets: polymarket.assets });
    }
    if (!values['no-job'] && job === 'ingest') {
      say('Main job: replaying the recorded Kalshi gold 15-minute feed (../shared/data/kalshi-gold15m-ws): book events through BullMQ partitions into L2 books + price history, trade prints through BullMQ → Temporal workflows → Postgres');
      const summary = await runRecordedFeedIngestion(stack, { marketLimit, progress: say });
      say(`Done in ${(summary.elapsedMs / 1000).toFixed(1)}s: ${summary.markets} markets, ${summary.messages} recorded messages.`);
      say(`  books:  ${summary.bookEvents} events in ${summary.bookBatches} BullMQ batches → L2 books, price_history, top of book in Redis`);
      say(`  market_snapshots (SCD-2): ${summary.snapshotVersions.inserted} inserted, ${summary.snapshotVersions.versioned} versioned, ${summary.snapshotVersions.unchanged} unchanged`);
      say(`  trades: ${summary.trades} prints in ${summary.batches} Temporal workflows; trade_prints rows ${summary.rowsBefore} → ${summary.rowsAfter}; ${summary.failedJobs} failed jobs, ${summary.malformed} malformed lines`);
      emit('ingest', { ...summary });
    }
    if (!asJson) {
      out('');
      out('Try:  npx kestrel positions  |  npx kestrel report pnl  |  npx kestrel signals  |  npx kestrel why <client-order-id>  |  npx kestrel health');
      out('      npx kestrel backtest --markets 6  |  npx kestrel walk-forward  |  npx kestrel strategy list  |  Temporal UI search: KestrelPositionStatus="closed"');
      out('      psql postgres://postgres@127.0.0.1:5432/kestrel -c "select position_id, status, entry_price, realized_pnl, fees from positions order by updated_at desc limit 10"');
    }
    if (values['exit-after-job']) {
      await stop('done');
      return EXIT.ok;
    }
    say('Workers are running. Press Ctrl-C to stop.');
    emit('running');
    await stopped;
    return EXIT.ok;
  },
};
