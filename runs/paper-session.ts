import { count, eq, inArray } from 'drizzle-orm';
import { closeTimeMs, upsertMarketSnapshot } from '../db/market-data-repo';
import { positionExits, positions, signals as signalsTable, strategyRuns } from '../db/schema';
import { Dec } from '../domain/decimal';
import { sizeDecimal } from '../domain/fixed-point';
import { detectMomentum, MOMENTUM_SIGNAL_TYPE } from '../domain/strategies/momentum';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import { GoldReplayMarketData } from '../venues/replay/market-data';
import { signalsSignal, stopStrategyUpdate, strategyQuery, strategyWorkflow, type EntrySignal, type StrategyInput } from '../workflows/strategy';
import { startStack, type Stack, type StackOptions } from '../runtime/stack';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kalshiEvent } from '../domain/market-data/kalshi-tickers';
import { withConfiguredTakerFee } from '../config/fees';
import type { KestrelConfig } from '../config/schema';
import type { Database } from '../db/client';
import { loadRecordedWindow } from '../backtest/recorded-data';
import { momentumStrategy } from '../domain/strategies/momentum';
import { momentumProvenance, recordedMomentumRule } from './momentum-provenance';
import type { MarketInfo } from '../domain/backtest/backtester';
import { resetRiskState } from '../db/risk-repo';
import { startKalshiEmulator } from '../venues/kalshi/emulator/server';
import type { KalshiLiveMarketData } from '../venues/kalshi/data';
import { createKalshiFeed } from '../workers/market-data/live-feed';
import { exchangeLockstepSource, FeedTape } from './exchange-lockstep-source';
import { ReplayClock, recordedEventSource, runLockstepPaper, type LockstepEventSource, type LockstepFeed } from './lockstep-replay';

export interface PaperSessionOptions {
  marketLimit: number;
  /** Replay speed: 60 plays a 15-minute window in 15 s. */
  speed: number;
  log: (line: string) => void;
}

export interface PaperSessionSummary {
  strategyWorkflowId: string;
  markets: number;
  events: number;
  signals: number;
  /** Signals the signal engine (BullMQ signal worker) has recorded for this session's markets, by type. */
  engineSignals: Record<string, number>;
  positions: PaperPosition[];
  totalPnl: string;
  totalFees: string;
}

export interface PaperPosition {
  positionId: string;
  market: string;
  outcome: string;
  status: string;
  entryPrice: string | null;
  size: string;
  realizedPnl: string;
  fees: string;
  exits: string[];
}

/** The session's positions as stored (P&L, fees, every exit), with totals. */
export async function positionsOf(db: Database, ids: string[]): Promise<Pick<PaperSessionSummary, 'positions' | 'totalPnl' | 'totalFees'>> {
  const rows = ids.length ? await db.select().from(positions).where(inArray(positions.positionId, ids)).orderBy(positions.positionId) : [];
  const exits = ids.length ? await db.select().from(positionExits).where(inArray(positionExits.positionId, ids)) : [];
  return {
    positions: rows.map((r) => ({
      positionId: r.positionId,
      market: r.marketTicker,
      outcome: r.outcome,
      status: r.status,
      entryPrice: r.entryPrice,
      size: r.size,
      realizedPnl: r.realizedPnl,
      fees: r.fees,
      exits: exits.filter((e) => e.positionId === r.positionId).map((e) => `${e.reason} ${new Dec(e.filledSize).toString()}@${e.averagePrice ?? '-'}`),
    })),
    totalPnl: rows.reduce((n, r) => n.plus(r.realizedPnl), new Dec(0)).toFixed(4),
    totalFees: rows.reduce((n, r) => n.plus(r.fees), new Dec(0)).toFixed(4),
  };
}

/**
 * A paper-trading session on the recorded gold feed: the feed is replayed at `speed` through the
 * BullMQ market-data pipeline into the books; a momentum rule watches the books and sends
 * actionable signals to a strategy workflow, which opens position workflows that trade on the
 * paper exchange (real recorded depth, Kalshi fees) and settle on the recorded results.
 */
export async function runPaperSession(stack: Stack, opts: PaperSessionOptions): Promise<PaperSessionSummary> {
  const { config } = stack;
  const markets = listRecordedMarkets(config.replay.dataDir).slice(0, opts.marketLimit);
  const runId = Date.now();
  const strategyId = `momentum-gold-${runId}`;
  const scale = (marketMs: number) => Math.max(50, Math.round(marketMs / opts.speed));
  const momentum = momentumStrategy(config, { scale, cadence: { normalMs: 250, urgentMs: 100, pollMs: 50, settleTimeoutMs: 15_000 } });
  const provenance = await momentumProvenance(stack.database.db, momentum, { source: 'paper-session' });
  const input: StrategyInput = { strategyId, version: provenance.strategyVersion, strategyVersionId: provenance.strategyVersionId, modelVersionId: provenance.modelVersionId, rules: withConfiguredTakerFee(momentum.rules, config), position: momentum.position };
  const strategyWorkflowId = `strategy/${strategyId}`;
  const strategy = await stack.temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId: strategyWorkflowId });
  opts.log(`strategy workflow ${strategyWorkflowId} started (momentum rule, ${opts.speed}× replay)`);
  // Listed as a strategy run (dashboard, `kestrel strategy list`) like any other; subscribed to the
  // momentum type only, which the signal engine never emits: this session sends it its signals itself.
  await stack.database.db.insert(strategyRuns).values({ workflowId: strategyWorkflowId, strategyVersionId: provenance.strategyVersionId, venue: config.venues.execution, feed: 'replay:gold', signalTypes: [MOMENTUM_SIGNAL_TYPE], categories: [], status: 'running' });

  const publisher = stack.createPublisher(`paper-${runId}`);
  let events = 0;
  let signals = 0;
  for (const [i, market] of markets.entries()) {
    const meta = readGoldMarketMetadata(config.replay.dataDir, market);
    if (meta) await upsertMarketSnapshot(stack.database.db, meta.meta, meta.observedAtMs);
    const closeExchangeMs = closeTimeMs(meta?.meta.attributes);
    let lastSignalExchangeMs = -Infinity;
    const watcher = setInterval(() => {
      const state = stack.books.markets.get(market);
      if (!state || !closeExchangeMs) return;
      const found = detectMomentum(market, state.book, state.history, closeExchangeMs, lastSignalExchangeMs);
      if (!found) return;
      const nowEx = found.signal.firedAtMs;
      // The replay runs `speed` times faster: the market's close in this process's clock.
      const closeTimeMs = Date.now() + (closeExchangeMs - nowEx) / opts.speed;
      lastSignalExchangeMs = nowEx;
      signals++;
      // The entry's signal is a `signals` row first; positions refer to it by its id.
      void provenance
        .recordSignal(found)
        .then((signalId) => strategy.signal(signalsSignal, [{ ...found.signal, signalId, closeTimeMs } satisfies EntrySignal]))
        .catch((err: Error) => opts.log(`signal failed: ${err.message}`));
    }, 100);
    try {
      const recording = new GoldReplayMarketData({ dataDir: config.replay.dataDir, markets: [market], pace: { kind: 'recorded', speed: opts.speed } });
      await recording.start((e) => publisher.publish(e));
      const replay = recording.stats;
      await publisher.flush();
      events += replay.events;
    } finally {
      clearInterval(watcher);
    }
    opts.log(`[${i + 1}/${markets.length}] ${market}: replayed ${events} events so far, ${signals} signals`);
  }

  // Let open positions finish (they settle on the recorded result after close).
  const deadline = Date.now() + 120_000;
  let snapshot = await strategy.query(strategyQuery);
  while (snapshot.positions.some((p) => OPEN_STATUSES.has(p.status)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    snapshot = await strategy.query(strategyQuery);
  }
  await strategy.executeUpdate(stopStrategyUpdate);
  await stack.database.db.update(strategyRuns).set({ status: 'completed', stoppedAt: new Date() }).where(eq(strategyRuns.workflowId, strategyWorkflowId));

  // The signal worker runs behind the books: let it finish this session's ticks before counting.
  const drainDeadline = Date.now() + 15_000;
  while (Date.now() < drainDeadline) {
    if ((await stack.signals.pendingBatches()) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // Signals are idempotent per (type, market, time): a replay seen before finds its signals already recorded.
  const engineRows = await stack.database.db.select({ type: signalsTable.type, n: count() }).from(signalsTable).where(inArray(signalsTable.marketTicker, markets)).groupBy(signalsTable.type);
  return {
    strategyWorkflowId,
    markets: markets.length,
    events,
    signals,
    engineSignals: Object.fromEntries(engineRows.map((r) => [r.type, r.n])),
    ...(await positionsOf(stack.database.db, snapshot.positions.map((p) => p.positionId))),
  };
}

/** Where a market-clock paper session's data comes from. */
export type MarketClockFeed = 'replay' | 'kalshi-emulator';

export interface MarketClockSessionOptions {
  config: KestrelConfig;
  feed: MarketClockFeed;
  /** Recorded gold markets to trade (the emulator lists exactly these). */
  markets: string[];
  log: (line: string) => void;
  stack?: Pick<StackOptions, 'logger' | 'workflowBundle'>;
  /** How far the emulator's clock moves per pull when nothing else is due (market ms). */
  emulatorStepMs?: number;
  /**
   * Where orders go: the paper exchange (default), or (emulator feed only) the emulator itself through
   * the Kalshi execution client over its REST API, as `--venue kalshi` trades.
   */
  execution?: 'paper' | 'kalshi';
  /** Ends the session early (Ctrl-C): its next step throws and everything it started is closed. */
  signal?: AbortSignal;
}

export interface MarketClockSessionSummary extends PaperSessionSummary {
  feed: MarketClockFeed;
  /** The Kalshi feed's figures (emulator only): messages, gaps, resyncs, reconnects, lifecycle, malformed. */
  feedCounters?: KalshiLiveMarketData['counters'] & { tapeMalformed: number };
  /** Orders on the emulator (`execution: kalshi`): the venue's net position per market at the end, and its order count. */
  venue?: { netPositions: Record<string, string>; orders: number };
}

/**
 * A paper session on the market clock: the momentum rule is evaluated on every applied event in
 * exchange time, and position workflows run on the stepped clock in lockstep with the data
 * (lockstep-replay.ts), so the outcome depends only on the data, never on wall-clock timing. The
 * data comes from the recording itself or from the Kalshi emulator over its WebSocket (the emulator
 * at speed 0, its clock moved by the session); on the same markets both give the same positions
 * and P&L. Runs on a task queue and Redis prefix of its own, so a running `kestrel up` keeps its work.
 */
export async function runMarketClockPaperSession(opts: MarketClockSessionOptions): Promise<MarketClockSessionSummary> {
  const runId = `${opts.feed}-${Date.now()}`;
  const config: KestrelConfig = {
    ...opts.config,
    temporal: { ...opts.config.temporal, taskQueue: `${opts.config.temporal.taskQueue}-paper-${runId}` },
    redis: { ...opts.config.redis, keyPrefix: `${opts.config.redis.keyPrefix}-paper-${runId}` },
    // The market clock moves only with the data: silence cannot be judged on it (and a wall-clock watch would make the run timing-dependent).
    alerts: { ...opts.config.alerts, staleWatchMs: 0 },
    // Lockstep trades on the paper exchange, which meets each order on the stepped market clock, or on
    // the emulator, whose clock the session moves (its URLs are known once it listens).
    venues: { ...opts.config.venues, execution: opts.execution ?? 'paper', kalshi: { ...opts.config.venues.kalshi, environment: 'emulator', reconcileEveryMs: 0 } },
  };
  if (opts.execution === 'kalshi' && opts.feed !== 'kalshi-emulator') throw new Error('orders go to Kalshi in a market-clock session only on the emulator feed (the session moves its clock)');
  const momentum = momentumStrategy(config);
  const strategy = { ...momentum, strategyId: `momentum-gold-${runId}`, rules: withConfiguredTakerFee(momentum.rules, config) };
  // Closed last-opened first: the feed, then what it talks to.
  const closers: (() => Promise<unknown>)[] = [];
  const startSessionStack = async (startMs: number, env?: NodeJS.ProcessEnv) => {
    const replay = new ReplayClock(startMs);
    const stack = await startStack(config, { ...opts.stack, clock: replay.clock, orderLatency: replay.orderLatency, ...(env ? { env } : {}) });
    closers.push(() => stack.shutdown());
    // Each session starts with fresh paper breakers (a previous session's losses do not halt this one).
    await resetRiskState(stack.database.db, `paper session ${runId}`, startMs);
    return { stack, replay };
  };
  try {
    let session: { stack: Stack; replay: ReplayClock; feed: LockstepFeed; counters?: () => MarketClockSessionSummary['feedCounters']; venue?: () => Promise<MarketClockSessionSummary['venue']> };
    if (opts.feed === 'replay') {
      const recorded = await loadRecordedWindow(config.replay.dataDir, { markets: opts.markets });
      session = { ...(await startSessionStack(recorded.events[0]?.ts ?? 0)), feed: { markets: recorded.markets, info: recorded.info, source: recordedEventSource(recorded.events) } };
    } else session = await emulatorSession(config, opts, startSessionStack, closers);
    let events = 0;
    const source = session.feed.source;
    const counted: LockstepEventSource = { startMs: source.startMs, endMs: source.endMs, stepMs: source.stepMs, quietUntil: source.quietUntil, readUntil: async (untilMs) => {
      opts.signal?.throwIfAborted();
      const pulled = await source.readUntil(untilMs);
      events += pulled.length;
      return pulled;
    } };
    opts.log(`paper session on the market clock (${opts.feed}): ${session.feed.markets.length} market(s): ${session.feed.markets.join(', ')}`);
    const provenance = await momentumProvenance(session.stack.database.db, momentum, { source: `paper-session:${opts.feed}` });
    const recorded = recordedMomentumRule(provenance);
    const result = await runLockstepPaper(session.stack, session.replay, {
      window: { ...session.feed, source: counted },
      dataDir: opts.feed === 'replay' ? config.replay.dataDir : undefined,
      strategy,
      rule: recorded.rule,
      provenance: { strategyVersionId: provenance.strategyVersionId, modelVersionId: provenance.modelVersionId },
      recordSignal: recorded.recordSignal,
    });
    return {
      feed: opts.feed,
      strategyWorkflowId: result.strategyWorkflowId,
      markets: session.feed.markets.length,
      events,
      signals: result.strategy.decisions.length,
      engineSignals: {},
      feedCounters: session.counters?.(),
      ...(await positionsOf(session.stack.database.db, result.positions.map((p) => p.positionId))),
      venue: await session.venue?.(),
    };
  } finally {
    for (const close of closers.reverse()) await close().catch((err: Error) => opts.log(`closing the paper session: ${err.message}`));
  }
}

/**
 * The Kalshi emulator in this process on a free port, at speed 0, with a freshly generated RSA key
 * registered as its account, and the live Kalshi feed on its WebSocket: market rows come from its
 * REST API (and become market snapshots), events from its WebSocket.
 */
async function emulatorSession(
  config: KestrelConfig,
  opts: MarketClockSessionOptions,
  startSessionStack: (startMs: number, env?: NodeJS.ProcessEnv) => Promise<{ stack: Stack; replay: ReplayClock }>,
  closers: (() => Promise<unknown>)[],
): Promise<{ stack: Stack; replay: ReplayClock; feed: LockstepFeed; counters: () => MarketClockSessionSummary['feedCounters']; venue?: () => Promise<MarketClockSessionSummary['venue']> }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKeyId = `kestrel-paper-${randomUUID()}`;
  const emulator = await startKalshiEmulator({ dataDir: config.replay.dataDir, markets: opts.markets, speed: 0, accounts: [{ apiKeyId, publicKey }] });
  closers.push(() => emulator.close());
  opts.log(`Kalshi emulator at ${emulator.restUrl} (WebSocket ${emulator.wsUrl}), clock ${new Date(emulator.nowMs()).toISOString()}, moved by the session`);
  let env: NodeJS.ProcessEnv | undefined;
  if (config.venues.execution === 'kalshi') {
    // The stack's Kalshi client signs with this account's key, read from a file as in production.
    const keyDir = mkdtempSync(path.join(tmpdir(), 'kestrel-session-'));
    writeFileSync(path.join(keyDir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    closers.push(async () => rmSync(keyDir, { recursive: true, force: true }));
    Object.assign(config.venues.kalshi, { restUrl: emulator.restUrl, wsUrl: emulator.wsUrl });
    env = { ...process.env, KALSHI_API_KEY_ID: apiKeyId, KALSHI_PRIVATE_KEY_PATH: path.join(keyDir, 'key.pem') };
  }
  const { stack, replay } = await startSessionStack(emulator.nowMs(), env);
  const info = new Map<string, MarketInfo>();
  const tape = new FeedTape(opts.log);
  const feed = createKalshiFeed(config, {
    db: stack.database.db,
    credentials: { apiKeyId, privateKey },
    clock: { nowMs: () => Date.now() },
    exchangeClock: { nowMs: () => emulator.nowMs() },
    endpoints: { restUrl: emulator.restUrl, wsUrl: emulator.wsUrl },
    // Every market the emulator lists, whatever its status now.
    selection: { status: '' },
    onMarketMetadata: (meta) => {
      const close = closeTimeMs(meta.attributes);
      if (close !== undefined) info.set(meta.marketTicker, { closeTimeMs: close, event: meta.eventTicker ?? kalshiEvent(meta.marketTicker) });
    },
    log: opts.log,
  });
  closers.push(() => feed.close());
  const markets = await feed.open(tape.onEvent);
  const exchange = {
    nowMs: () => emulator.nowMs(),
    advanceTo: (ms: number) => emulator.advanceTo(ms),
    endMs: () => emulator.exchange.endMs(),
    // The next recorded message or status change (open, close, settlement): nothing is sent before it.
    nextScheduledMs: async () => {
      const now = emulator.nowMs();
      const changes = [...emulator.exchange.markets.values()].flatMap((m) => [m.listed.openMs, m.listed.closeMs, m.listed.settledMs ?? Infinity]).filter((t) => t > now);
      return Math.min((await emulator.exchange.nextRecordedMs()) ?? Infinity, ...changes);
    },
  };
  // Orders on the emulator meet its book at its clock: it must never run ahead of the session's, so each
  // pull moves it only to the next recorded message (or the next timer), as the paper exchange sees it.
  const stepMs = opts.emulatorStepMs ?? (config.venues.execution === 'kalshi' ? 1 : 1000);
  const source = exchangeLockstepSource({ exchange, feed, tape, stepMs });
  const venue = config.venues.execution === 'kalshi'
    ? async () => {
        const netPositions: Record<string, string> = {};
        for (const m of markets) netPositions[m] = sizeDecimal(emulator.exchange.accounts.get(apiKeyId)?.positions.get(m)?.position ?? 0).toFixed(2);
        return { netPositions, orders: emulator.exchange.counters.ordersCreated };
      }
    : undefined;
  return { stack, replay, feed: { markets, info, source }, counters: () => ({ ...feed.counters, tapeMalformed: tape.malformed }), venue };
}
