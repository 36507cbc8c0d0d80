import { count, inArray } from 'drizzle-orm';
import { closeTimeMs, upsertMarketSnapshot } from '../db/market-data-repo';
import { positionExits, positions, signals as signalsTable } from '../db/schema';
import { Dec } from '../domain/decimal';
import { momentumStrategy } from '../backtest/gold-backtest';
import { momentumSignal } from '../domain/strategies/momentum';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';
import { replayKalshiRecording } from '../venues/replay/replay-source';
import type { EntrySignal, StrategyInput, StrategySnapshot } from '../workflows/strategy';
import type { Stack } from './stack';

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
  positions: { positionId: string; market: string; outcome: string; status: string; entryPrice: string | null; size: string; realizedPnl: string; fees: string; exits: string[] }[];
  totalPnl: string;
  totalFees: string;
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
  const input: StrategyInput = { strategyId, version: 'v1.0', rules: momentum.rules, position: momentum.position };
  const strategyWorkflowId = `strategy/${strategyId}`;
  const strategy = await stack.temporal.workflow.start('strategyWorkflow', { args: [input], taskQueue: config.temporal.taskQueue, workflowId: strategyWorkflowId });
  opts.log(`strategy workflow ${strategyWorkflowId} started (momentum rule, ${opts.speed}× replay)`);

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
      const found = momentumSignal(market, state.book, state.history, closeExchangeMs, lastSignalExchangeMs);
      if (!found) return;
      const nowEx = found.firedAtMs;
      // The replay runs `speed` times faster: the market's close in this process's clock.
      const signal: EntrySignal = { ...found, closeTimeMs: Date.now() + (closeExchangeMs - nowEx) / opts.speed };
      lastSignalExchangeMs = nowEx;
      signals++;
      void strategy.signal('signals', [signal]).catch((err: Error) => opts.log(`signal failed: ${err.message}`));
    }, 100);
    try {
      const replay = await replayKalshiRecording({ dataDir: config.replay.dataDir, markets: [market], pace: { kind: 'recorded', speed: opts.speed }, emit: (e) => publisher.publish(e) });
      await publisher.flush();
      events += replay.events;
    } finally {
      clearInterval(watcher);
    }
    opts.log(`[${i + 1}/${markets.length}] ${market}: replayed ${events} events so far, ${signals} signals`);
  }

  // Let open positions finish (they settle on the recorded result after close).
  const deadline = Date.now() + 120_000;
  let snapshot = (await strategy.query('strategy')) as StrategySnapshot;
  while (snapshot.positions.some((p) => ['entering', 'open', 'exiting'].includes(p.status)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    snapshot = (await strategy.query('strategy')) as StrategySnapshot;
  }
  await strategy.executeUpdate('stop');

  // The signal worker runs behind the books: let it finish this session's ticks before counting.
  const drainDeadline = Date.now() + 15_000;
  while (Date.now() < drainDeadline) {
    const counts = await stack.signals.queue.getJobCounts('waiting', 'active', 'delayed');
    if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // Signals are idempotent per (type, market, time): a replay seen before finds its signals already recorded.
  const engineRows = await stack.database.db.select({ type: signalsTable.type, n: count() }).from(signalsTable).where(inArray(signalsTable.marketTicker, markets)).groupBy(signalsTable.type);
  const ids = snapshot.positions.map((p) => p.positionId);
  const rows = ids.length ? await stack.database.db.select().from(positions).where(inArray(positions.positionId, ids)) : [];
  const exits = ids.length ? await stack.database.db.select().from(positionExits).where(inArray(positionExits.positionId, ids)) : [];
  const summary: PaperSessionSummary = {
    strategyWorkflowId,
    markets: markets.length,
    events,
    signals,
    engineSignals: Object.fromEntries(engineRows.map((r) => [r.type, r.n])),
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
  return summary;
}
