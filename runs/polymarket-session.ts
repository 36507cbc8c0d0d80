import { inArray, count } from 'drizzle-orm';
import { generatePrivateKey } from 'viem/accounts';
import type { KestrelConfig } from '../config/schema';
import { signals as signalsTable } from '../db/schema';
import { resetRiskState } from '../db/risk-repo';
import { Dec } from '../domain/decimal';
import { priceText } from '../domain/fixed-point';
import type { MarketEvent } from '../domain/market-data/events';
import type { EntrySignal, StrategyRules } from '../domain/trading/strategy-rules';
import { startStack, type Stack, type StackOptions } from '../runtime/stack';
import { startPolymarketEmulator, type PolymarketEmulator } from '../venues/polymarket/emulator/server';
import { createPolymarketFeed, type PolymarketFeed } from '../workers/market-data/live-feed';
import { positionQuery, requestExitUpdate, type PositionSnapshot } from '../workflows/position';
import { signalsSignal, stopStrategyUpdate, strategyQuery, strategyWorkflow, type StrategyInput } from '../workflows/strategy';
import { positionsOf, type PaperSessionSummary } from './paper-session';

export interface PolymarketSessionOptions {
  config: KestrelConfig;
  /** Where orders go: the paper exchange (default), or the emulator through Kestrel's Polymarket execution client (`venues.execution: polymarket`). */
  execution?: 'paper' | 'polymarket';
  log: (line: string) => void;
  stack?: Pick<StackOptions, 'logger' | 'workflowBundle'>;
  /** Shares the session's position buys (default 10; the CLOB's minimum is 5). */
  size?: string;
  /** How long the position is held before its (manual, HIGH) exit is requested (default 1000 ms). */
  holdMs?: number;
  /** Ends the session early (Ctrl-C). */
  signal?: AbortSignal;
}

/** One followed token as the session's books hold it at the end of the recording. */
export interface PolymarketAssetView {
  asset: string;
  market: string;
  bid?: string;
  ask?: string;
  bidLevels: number;
  askLevels: number;
  lastTradePrice?: string;
  /** The coarsest tick its book's prices sit on (0.01 or 0.001 in the recording). */
  tick?: string;
}

export interface PolymarketSessionSummary extends PaperSessionSummary {
  feed: 'polymarket-emulator';
  execution: 'paper' | 'polymarket';
  /** What arrived over the market channel and what the BullMQ book workers applied. */
  ingested: { messages: number; malformed: number; resyncs: number; tickSizeChanges: number; events: Record<MarketEvent['t'], number>; applied: number; batches: number };
  assets: PolymarketAssetView[];
  /** The traded token and why it was picked. */
  entry?: { asset: string; reason: string };
  /** The emulator's side (execution polymarket): orders it took, our trades and their fees, our net shares per token. */
  venue?: { orders: number; trades: number; fees: string; netShares: Record<string, string> };
  /** What the recording does and does not allow, said plainly. */
  notes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new Error(`polymarket session: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A paper session on Polymarket data that arrives over Polymarket's own WebSocket protocol: the
 * Polymarket CLOB emulator runs in this process (speed 0) over the recorded market channel;
 * Kestrel's market-channel client subscribes to every token it lists, and its events go through
 * the same ingest path as a live Kalshi feed (a live MarketDataPublisher → the BullMQ partition
 * queues → the book workers → BookStore, the signal engine and the paper exchange). The session
 * plays the recording through, then trades one position through the Temporal strategy and position
 * workflows: the recording is 10 book snapshots and 10 trades over 174 s with no price movement,
 * nothing a signal rule could fire on, so the entry is a deterministic signal (the token with the
 * tightest two-sided book, bought at its ask) and the exit a manual HIGH exit after `holdMs`. With
 * `execution: 'polymarket'` the orders go to the emulator through Kestrel's Polymarket execution
 * client (EIP-712 signed, API key derived by the official client); on paper, to the paper exchange
 * with Polymarket's taker fee. Runs on a task queue and Redis prefix of its own.
 */
export async function runPolymarketEmulatorSession(opts: PolymarketSessionOptions): Promise<PolymarketSessionSummary> {
  const execution = opts.execution ?? 'paper';
  const runId = `polymarket-${Date.now()}`;
  const closers: (() => Promise<unknown>)[] = [];
  const feeRateBps = opts.config.fees.polymarketTakerRateBps;
  try {
    const emulator: PolymarketEmulator = await startPolymarketEmulator({ dataDir: opts.config.replay.polymarketDataDir, speed: 0, defaultFeeRateBps: String(feeRateBps), confirmAfterMs: 20, log: (line) => opts.log(`[polymarket-emulator] ${line}`) });
    closers.push(() => emulator.close());
    const config: KestrelConfig = {
      ...opts.config,
      temporal: { ...opts.config.temporal, taskQueue: `${opts.config.temporal.taskQueue}-${runId}` },
      redis: { ...opts.config.redis, keyPrefix: `${opts.config.redis.keyPrefix}-${runId}` },
      // The recording ends after 174 s: quiet markets are expected, not an incident to halt trading over.
      alerts: { ...opts.config.alerts, staleWatchMs: 0 },
      marketData: { ...opts.config.marketData, polymarket: { ...opts.config.marketData.polymarket, assets: [] } },
      venues: {
        ...opts.config.venues,
        execution,
        polymarket: { ...opts.config.venues.polymarket, environment: 'emulator', restUrl: emulator.url, wsUrl: emulator.marketWsUrl, userWsUrl: emulator.userWsUrl, chainId: 137 },
      },
    };
    opts.log(`Polymarket emulator at ${emulator.url} (market channel ${emulator.marketWsUrl}), ${emulator.exchange.markets.size} market(s), fee rate ${feeRateBps} bps, clock moved by the session`);
    // Orders are signed by a wallet made for this session; the emulator takes any wallet's L1-signed key request.
    const env = execution === 'polymarket' ? { ...process.env, POLYMARKET_PRIVATE_KEY: generatePrivateKey() } : undefined;
    let applied = 0;
    let batches = 0;
    const source = `polymarket-emulator-${runId}`;
    const stack: Stack = await startStack(config, {
      ...opts.stack,
      ...(env ? { env } : {}),
      onBatchCheckpointed: (batch) => {
        if (batch.source !== source) return;
        applied += batch.events;
        batches++;
      },
    });
    closers.push(() => stack.shutdown());
    await resetRiskState(stack.database.db, `polymarket session ${runId}`, Date.now());

    const feed: PolymarketFeed = await createPolymarketFeed(config, { db: stack.database.db, clock: { nowMs: () => Date.now() }, endpoints: { restUrl: emulator.url, marketWsUrl: emulator.marketWsUrl }, log: opts.log });
    closers.push(() => feed.close());
    const publisher = stack.createPublisher(source, { live: true });
    // The first recorded book is played before the channel opens: the subscription answers with it,
    // which says the subscription is in place before anything else is played.
    const first = emulator.exchange.nextRecordedMs();
    if (first === undefined) throw new Error(`the Polymarket recording in ${config.replay.polymarketDataDir} is empty`);
    emulator.advanceTo(first);
    await feed.open((event) => void publisher.publish(event));
    await until('the market channel subscription', () => feed.client.counters.messages > 0, 10_000, opts.signal);
    emulator.advanceTo(emulator.exchange.endMs());
    const sent = emulator.ws.counters.sent;
    await until('every market-channel message', () => feed.client.counters.messages >= sent, 10_000, opts.signal);
    // The book sync checks the last timestamp batch once the channel has been quiet for a moment.
    await sleep(100);
    await publisher.flush();
    const published = () => Object.values(feed.delivered).reduce((n, v) => n + v, 0);
    await until('the book workers to apply every event', () => applied >= published(), 30_000, opts.signal);
    const c = feed.client.counters;
    opts.log(`ingested over the market channel: ${c.messages} messages (${c.malformed} malformed, ${c.resyncs} resyncs, ${c.tickSizeChanges} tick changes) → ${published()} events (${JSON.stringify(feed.delivered)}) → ${applied} applied by the BullMQ book workers in ${batches} batch(es)`);

    const assets = feed.assets.map((asset) => assetView(stack, asset, feed.conditionOf.get(asset) ?? ''));
    for (const a of assets) opts.log(`  ${a.asset.slice(0, 12)}…${a.asset.slice(-6)} (${a.market.slice(0, 10)}…): bid ${a.bid ?? '-'} / ask ${a.ask ?? '-'} (${a.bidLevels}/${a.askLevels} levels), last trade ${a.lastTradePrice ?? '-'}`);
    const notes = [
      'The recording holds 10 book snapshots and 10 trades over 174 s and no book changes: prices never move, so no signal rule can fire on it; the entry is a deterministic session signal and the exit a manual one.',
      `Fees: Polymarket's taker fee at ${feeRateBps} bps (fees.polymarketTakerRateBps; the recorded trades carry fee_rate_bps 0), makers pay none.`,
      'The recording names no market close: the session gives its position a close two hours out, so no time-to-close rule acts.',
    ];

    // The entry: the two-sided book with the tightest spread in ticks whose ask a strategy can pay (at most 0.95:
    // entry limits stop at 0.99); ties go to the book nearest even odds (the largest p × (1 − p), so the largest fee), then the token id.
    const spread = (a: PolymarketAssetView) => new Dec(a.ask!).minus(a.bid!).div(a.tick ?? '0.0001');
    const fromEven = (a: PolymarketAssetView) => new Dec(a.ask!).plus(a.bid!).div(2).minus('0.5').abs();
    const twoSided = assets
      .filter((a) => a.bid !== undefined && a.ask !== undefined && new Dec(a.ask).lte('0.95'))
      .sort((x, y) => spread(x).comparedTo(spread(y)) || fromEven(x).comparedTo(fromEven(y)) || (x.asset < y.asset ? -1 : 1));
    const chosen = twoSided[0];
    let entry: PolymarketSessionSummary['entry'];
    let positionIds: string[] = [];
    const strategyId = `polymarket-session-${runId}`;
    const strategyWorkflowId = `strategy/${strategyId}`;
    if (!chosen) notes.push('No token has a two-sided book at the end of the recording: nothing to trade.');
    else {
      const tick = chosen.tick!;
      const reason = `session entry: the tightest two-sided book nearest even odds (${chosen.bid}/${chosen.ask}), bought at its ask`;
      entry = { asset: chosen.asset, reason };
      const rules: StrategyRules = { minEdge: '0', maxConcurrent: 1, size: opts.size ?? '10', entrySlippageTicks: 0, tick, takerFeeRate: new Dec(feeRateBps).div(10_000).toString(), entryTimeoutMs: 5000 };
      const input: StrategyInput = {
        strategyId,
        version: 'polymarket-session',
        rules,
        position: { cadence: { normalMs: 250, urgentMs: 100, pollMs: 50, settleTimeoutMs: 15_000 }, planConfig: { tick, timeoutsMs: { CRITICAL: 300, HIGH: 500, MEDIUM: 500, LOW: 500 } } },
      };
      const strategy = await stack.temporal.workflow.start(strategyWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId: strategyWorkflowId });
      const signal: EntrySignal = {
        signalId: `${strategyId}/entry`,
        market: chosen.asset,
        outcome: 'yes',
        // Not a model's view: a probability just above the ask, so the fixed-size entry passes the edge rule.
        modelProbability: Dec.min(new Dec('0.99'), new Dec(chosen.ask!).plus('0.05')).toString(),
        ask: chosen.ask!,
        closeTimeMs: Date.now() + 2 * 3_600_000,
        reason,
        takerFeeRate: rules.takerFeeRate,
      };
      await strategy.signal(signalsSignal, [signal]);
      let positionId: string | undefined;
      await until('the strategy decision', async () => {
        const s = await strategy.query(strategyQuery);
        const decision = s.decisions.find((d) => d.signalId === signal.signalId);
        if (decision?.decision === 'rejected') throw new Error(`the session entry was rejected: ${decision.why}`);
        positionId = s.positions.find((p) => p.signalId === signal.signalId)?.positionId;
        return positionId !== undefined;
      }, 30_000, opts.signal);
      positionIds = [positionId!];
      const position = stack.temporal.workflow.getHandle(positionId!);
      let snapshot: PositionSnapshot | undefined;
      await until(`position ${positionId} to open`, async () => {
        snapshot = await position.query(positionQuery);
        return snapshot.status !== 'entering';
      }, 60_000, opts.signal);
      opts.log(`position ${positionId}: ${snapshot!.status}${snapshot!.entryPrice ? ` ${snapshot!.size} @ ${snapshot!.entryPrice}` : ''}${snapshot!.riskDenial ? ` (${snapshot!.riskDenial})` : ''}`);
      if (snapshot!.status === 'open') {
        await sleep(opts.holdMs ?? 1000);
        await position.executeUpdate(requestExitUpdate, { args: [{ urgency: 'HIGH', reason: 'session end (manual exit)' }] });
      }
      await until(`position ${positionId} to finish`, async () => (await position.describe()).status.name !== 'RUNNING', 60_000, opts.signal);
      await strategy.executeUpdate(stopStrategyUpdate);
    }
    // The signal worker runs behind the books: let it finish before counting what it recorded.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && (await stack.signals.pendingBatches()) > 0; ) await sleep(100);
    const engineRows = feed.assets.length ? await stack.database.db.select({ type: signalsTable.type, n: count() }).from(signalsTable).where(inArray(signalsTable.marketTicker, feed.assets)).groupBy(signalsTable.type) : [];
    const venue = execution === 'polymarket' ? venueSide(emulator) : undefined;
    return {
      feed: 'polymarket-emulator',
      execution,
      strategyWorkflowId,
      markets: feed.assets.length,
      events: published(),
      signals: positionIds.length,
      engineSignals: Object.fromEntries(engineRows.map((r) => [r.type, r.n])),
      ingested: { messages: c.messages, malformed: c.malformed, resyncs: c.resyncs, tickSizeChanges: c.tickSizeChanges, events: { ...feed.delivered }, applied, batches },
      assets,
      entry,
      venue,
      notes,
      ...(await positionsOf(stack.database.db, positionIds)),
    };
  } finally {
    for (const close of closers.reverse()) await close().catch((err: Error) => opts.log(`closing the polymarket session: ${err.message}`));
  }
}

function assetView(stack: Stack, asset: string, market: string): PolymarketAssetView {
  const state = stack.books.markets.get(asset);
  const yes = state?.book.levels('yes') ?? [];
  const no = state?.book.levels('no') ?? [];
  const bestYes = yes[0];
  const bestNo = no[0];
  const last = state && Number.isFinite(state.lastTradePrice) && state.lastTradePrice > 0 ? priceText(state.lastTradePrice) : undefined;
  return {
    asset,
    market,
    bid: bestYes ? new Dec(priceText(bestYes.price)).toString() : undefined,
    // The NO ladder's best bid at q is the token's best ask at 1 − q.
    ask: bestNo ? new Dec(1).minus(priceText(bestNo.price)).toString() : undefined,
    bidLevels: yes.length,
    askLevels: no.length,
    lastTradePrice: last && new Dec(last).toString(),
    tick: yes.length || no.length ? tickOf([...yes, ...no].map((l) => new Dec(priceText(l.price)))) : undefined,
  };
}

/** The coarsest of the CLOB's ticks every price sits on. */
function tickOf(prices: readonly Dec[]): string {
  return ['0.1', '0.01', '0.001', '0.0001'].find((t) => prices.every((p) => p.mod(t).isZero())) ?? '0.0001';
}

function venueSide(emulator: PolymarketEmulator): PolymarketSessionSummary['venue'] {
  const netShares: Record<string, string> = {};
  let fees = new Dec(0);
  for (const t of emulator.exchange.trades) {
    netShares[t.assetId] = new Dec(netShares[t.assetId] ?? 0).plus(t.side === 'BUY' ? t.size : t.size.neg()).toString();
    fees = fees.plus(t.fee);
  }
  return { orders: emulator.exchange.orders.size, trades: emulator.exchange.trades.length, fees: fees.toFixed(5), netShares };
}

