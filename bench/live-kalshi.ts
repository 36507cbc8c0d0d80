import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { WorkflowHandle } from '@temporalio/client';
import { inArray } from 'drizzle-orm';
import { positions } from '../db/schema';
import { Dec } from '../domain/decimal';
import { priceText } from '../domain/fixed-point';
import { getHarness, teardownHarness, uniqueName } from '../test/support/harness';
import { startKalshiEmulator } from '../venues/kalshi/emulator/server';
import { KalshiRestClient } from '../venues/kalshi/rest-client';
import { loadKalshiCredentials } from '../venues/kalshi/signing';
import { listRecordedMarkets } from '../venues/replay/gold-feed';
import type { ExitWatchTrigger } from '../workers/exit-watch';
import { createKalshiFeed, runFeedIntoPublisher } from '../workers/market-data/live-feed';
import { startStack } from '../runtime/stack';
import { percentile } from './percentile';
import { positionQuery, positionWorkflow, requestExitUpdate, type PositionInput, type PositionSnapshot } from '../workflows/position';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wallMs = () => performance.timeOrigin + performance.now();
/** A figure to 0.1 ms; null without samples. */
const msAt = (xs: number[], q: number) => (xs.length === 0 ? null : Math.round(percentile([...xs].sort((a, b) => a - b), q) * 10) / 10);

/**
 * Live trading on Kalshi, end to end over real sockets: the exchange emulator (in this process)
 * replays consecutive gold markets at `pace`× recorded time; the workers follow them over its
 * WebSocket (feed → BullMQ → books), and position workflows trade through the Kalshi execution
 * client on its REST API with tight stop-loss / profit-target exits. Measured: from the moment the
 * emulator sent the book update that triggers an exit to the moment it accepted the exit order
 * (both seen in this process on one clock), and whether any order was duplicated or any position
 * lost or left differing from the venue's.
 */
export async function benchLiveKalshi(opts: { dataDir: string; markets?: number; log: (line: string) => void; pace?: number }): Promise<Record<string, unknown>> {
  const pace = opts.pace ?? 20;
  const stepMs = 50;
  const all = listRecordedMarkets(opts.dataDir);
  // Consecutive 15-minute windows: one market trades at a time, as on Kalshi.
  const first = all.indexOf('KXGOLD15M-26AUG101800-00');
  const markets = all.slice(first, first + (opts.markets ?? 4));
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const apiKeyId = uniqueName('bench-live');
  const keyDir = mkdtempSync(path.join(tmpdir(), 'kestrel-bench-'));
  const keyFile = path.join(keyDir, 'key.pem');
  writeFileSync(keyFile, privatePem, { mode: 0o600 });
  const harness = await getHarness();
  const emu = await startKalshiEmulator({ dataDir: opts.dataDir, markets, speed: 0, accounts: [{ apiKeyId, publicKey }] });

  // When the emulator sent each market message (by exchange time) and accepted each order.
  const sentAt = new Map<string, Map<number, number>>();
  const acceptedAt = new Map<string, number>();
  emu.exchange.onMarketMessage((m) => {
    const msg = m.msg as { ts_ms?: number; ts?: number };
    const ts = typeof msg.ts_ms === 'number' ? msg.ts_ms : typeof msg.ts === 'number' ? msg.ts * 1000 : undefined;
    if (ts === undefined) return;
    let byTs = sentAt.get(m.marketTicker);
    if (!byTs) sentAt.set(m.marketTicker, (byTs = new Map()));
    if (!byTs.has(ts)) byTs.set(ts, wallMs());
  });
  emu.exchange.onUserMessage((_key, m) => {
    const id = (m.msg as { client_order_id?: string }).client_order_id;
    if (m.type === 'user_order' && id && !acceptedAt.has(id)) acceptedAt.set(id, wallMs());
  });

  const config = harness.config({
    'venues.execution': 'kalshi',
    'venues.kalshi.environment': 'emulator',
    'venues.kalshi.emulatorPort': emu.port,
    'venues.kalshi.reconcileEveryMs': 0,
    'marketData.kalshi.status': '',
  });
  const stack = await startStack(config, { workflowBundle: harness.workflowBundle, env: { KALSHI_API_KEY_ID: apiKeyId, KALSHI_PRIVATE_KEY_PATH: keyFile } });
  const triggers: ExitWatchTrigger[] = [];
  stack.exitWatch!.onTrigger((t) => triggers.push(t));
  const credentials = loadKalshiCredentials(apiKeyId, privatePem);
  const feed = createKalshiFeed(config, { db: stack.database.db, credentials, clock: { nowMs: () => Date.now() }, exchangeClock: { nowMs: () => emu.nowMs() }, endpoints: { restUrl: emu.restUrl, wsUrl: emu.wsUrl }, selection: { status: '' }, log: opts.log });
  const running = await runFeedIntoPublisher(feed, stack.createPublisher(uniqueName('bench-live'), { live: true }));
  const rest = new KalshiRestClient({ baseUrl: emu.restUrl, credentials, clock: { nowMs: () => Date.now() }, limits: { read: { refillPerSecond: 500, capacity: 500 }, write: { refillPerSecond: 100, capacity: 100 } } });

  const handles = new Map<string, { handle: WorkflowHandle<typeof positionWorkflow>; market: string; done: boolean; flattening: boolean }>();
  const started = Date.now();
  try {
    const listed = markets.map((t) => emu.exchange.markets.get(t)!.listed);
    const endMs = Math.min(listed.at(-1)!.closeMs, emu.exchange.endMs());
    await emu.advanceTo(listed[0]!.openMs + 60_000);
    opts.log(`live-kalshi: ${markets.length} consecutive gold markets at ${pace}× recorded time; emulator ${emu.restUrl}`);
    let positionNo = 0;
    let nextEntryMs = 0;
    while (emu.nowMs() < endMs) {
      const stepStarted = Date.now();
      await emu.advanceTo(emu.nowMs() + stepMs * pace);
      const now = emu.nowMs();
      for (const p of handles.values()) {
        if (p.done) continue;
        const close = emu.exchange.markets.get(p.market)!.listed.closeMs;
        // Flat before the close: a position is never carried into settlement here.
        if (!p.flattening && now >= close - 90_000) {
          p.flattening = true;
          void p.handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'market closing' }] }).catch(() => {});
        }
      }
      const active = listed.find((l) => l.openMs + 30_000 <= now && now < l.closeMs - 120_000);
      const busy = [...handles.values()].some((p) => !p.done && p.market === active?.ticker);
      const top = active && stack.books.markets.get(active.ticker)?.book.top();
      if (active && !busy && now >= nextEntryMs && top?.yesAsk && top.yesBid && top.yesAsk.price <= 9000 && top.yesAsk.price >= 1000) {
        const input: PositionInput = {
          strategyId: 'bench-live-kalshi',
          market: active.ticker,
          outcome: 'yes',
          closeTimeMs: Date.now() + 3_600_000,
          entry: { limitPrice: priceText(top.yesAsk.price), size: '5', timeoutMs: 1000 },
          cadence: { normalMs: 2000, urgentMs: 500, pollMs: 100, settleTimeoutMs: 1000 },
          exitConfig: { stopLossFraction: '0.05', profitTargetFraction: '0.05', trailingActivationFraction: '0.99', partialStages: [], maxSpread: '0.99', minExitLiquidity: '0', urgentBeforeCloseMs: 0, earlyExitBeforeCloseMs: 0 },
          planConfig: { timeoutsMs: { CRITICAL: 300, HIGH: 300, MEDIUM: 300, LOW: 300 } },
        };
        const workflowId = `position/bench-live/${apiKeyId}/${++positionNo}`;
        const handle = await stack.temporal.workflow.start(positionWorkflow, { args: [input], taskQueue: config.temporal.taskQueue, workflowId });
        const entry = { handle, market: active.ticker, done: false, flattening: false };
        handles.set(workflowId, entry);
        void handle.result().then(() => (entry.done = true), () => (entry.done = true));
        nextEntryMs = now + 20_000;
      }
      await sleep(Math.max(0, stepMs - (Date.now() - stepStarted)));
    }
    // Whatever is still open is closed now; every workflow must finish.
    for (const p of handles.values()) if (!p.done && !p.flattening) await p.handle.executeUpdate(requestExitUpdate, { args: [{ urgency: 'CRITICAL', reason: 'bench over' }] }).catch(() => {});
    const deadline = Date.now() + 60_000;
    while ([...handles.values()].some((p) => !p.done) && Date.now() < deadline) await sleep(100);

    // Latency: trigger's book message sent → first exit order of that position accepted after it.
    const latencies: number[] = [];
    const toWake: number[] = [];
    const wakeToOrder: number[] = [];
    let unmatched = 0;
    const unmatchedWhy: Record<string, number> = {};
    for (const t of triggers) {
      const sent = sentAt.get(t.market)?.get(t.eventTsMs);
      const accepted = [...acceptedAt].filter(([id, at]) => id.startsWith(`${t.positionId}/exit-`) && sent !== undefined && at >= sent).map(([, at]) => at);
      if (sent === undefined || accepted.length === 0) {
        unmatched++;
        const why = sent === undefined ? 'tick not found' : `no exit order after: ${t.reasons.join('+')}`;
        unmatchedWhy[why] = (unmatchedWhy[why] ?? 0) + 1;
        continue;
      }
      latencies.push(Math.min(...accepted) - sent);
      // Where the time goes: feed → BullMQ → books → watch, then signal → workflow → activities → venue.
      toWake.push(t.firedAtMs - sent);
      wakeToOrder.push(Math.min(...accepted) - t.firedAtMs);
    }

    // The venue against Kestrel: one venue order per client order id, every position finished and flat on both sides.
    const clientIds = new Map<string, number>();
    const netByMarket = new Map<string, Dec>();
    for (const m of markets) {
      for await (const o of rest.orders({ ticker: m })) if (o.client_order_id) clientIds.set(o.client_order_id, (clientIds.get(o.client_order_id) ?? 0) + 1);
      for await (const p of rest.positions({ ticker: m })) netByMarket.set(m, (netByMarket.get(m) ?? new Dec(0)).plus(p.position_fp));
    }
    const duplicateOrders = [...clientIds.values()].reduce((n, c) => n + (c - 1), 0);
    const finals = await Promise.all([...handles.values()].map(async (p) => (p.done ? ((await p.handle.result().catch(() => undefined)) as PositionSnapshot | undefined) : (await p.handle.query(positionQuery).catch(() => undefined)))));
    const lostPositions = finals.filter((f) => !f || !['closed', 'settled', 'entry_failed', 'risk_denied'].includes(f.status)).length;
    const rows = handles.size ? await stack.database.db.select().from(positions).where(inArray(positions.positionId, [...handles.keys()])) : [];
    const kestrelNet = new Map<string, Dec>();
    for (const r of rows) kestrelNet.set(r.marketTicker, (kestrelNet.get(r.marketTicker) ?? new Dec(0)).plus(r.remainingSize));
    const venuePositionMismatches = markets.filter((m) => !(netByMarket.get(m) ?? new Dec(0)).eq(kestrelNet.get(m) ?? new Dec(0))).length;
    const exits = finals.filter((f) => f?.status === 'closed').length;
    opts.log(`positions ${handles.size} (closed ${exits}), exit-watch wakes ${triggers.length} (${unmatched} without a matching order), orders ${emu.exchange.counters.ordersCreated}`);
    return {
      bench: 'live-kalshi',
      markets: markets.length,
      pace,
      positions: handles.size,
      closedPositions: exits,
      ordersSubmitted: emu.exchange.counters.ordersCreated,
      fills: emu.exchange.counters.fills,
      duplicateOrders,
      lostPositions,
      venuePositionMismatches,
      exitWatchWakes: triggers.length,
      tickToOrderSamples: latencies.length,
      tickToOrderP50Ms: msAt(latencies, 0.5),
      tickToOrderP99Ms: msAt(latencies, 0.99),
      tickToOrderMaxMs: msAt(latencies, 1),
      tickToWakeP50Ms: msAt(toWake, 0.5),
      tickToWakeP99Ms: msAt(toWake, 0.99),
      wakeToOrderP50Ms: msAt(wakeToOrder, 0.5),
      wakeToOrderP99Ms: msAt(wakeToOrder, 0.99),
      unmatchedWakes: unmatched,
      unmatchedWhy,
      feedCounters: feed.counters,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    await running.stop().catch(() => {});
    await stack.shutdown();
    await emu.close();
    await teardownHarness();
    rmSync(keyDir, { recursive: true, force: true });
  }
}
