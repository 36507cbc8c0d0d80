import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { createRetrainingActivities } from '../activities/retraining';
import { loadRecordedWindow, eventsOfDays } from '../backtest/recorded-data';
import { tradeSignalModel } from '../backtest/signal-strategy';
import { resolveConfig } from '../config/load';
import { dropDatabase, ensureDatabase, runMigrations } from '../db/admin';
import { openDatabase } from '../db/client';
import { insertPricePoints, upsertMarketSnapshot } from '../db/market-data-repo';
import { modelVersions, retrainingRuns, signalOutcomes, signals } from '../db/schema';
import { RecordedSettlements } from '../db/settlements';
import { insertSignals, registerSignalConfig, resolveDueOutcomes } from '../db/signals-repo';
import { activeVersion } from '../db/versions-repo';
import { signalOutcomesOnEvents } from '../domain/backtest/signal-engine-rule';
import { marketsByDay } from '../domain/backtest/walk-forward';
import { PRICE_SCALE } from '../domain/fixed-point';
import { NO_PRICE, type PricePoint } from '../domain/market-data/price-history';
import { parseSignalModel } from '../domain/signals/model';
import { createSignalEngine } from '../domain/signals/settings';
import { retrainReport } from '../cli/commands/retrain';
import { retrainInput } from '../runtime/retraining-schedule';
import { retrainSteps, type RetrainResult } from '../workflows/retraining';
import { readGoldMarketMetadata } from '../venues/replay/gold-metadata';

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/**
 * The learning loop on the recorded gold feed, end to end through the repository code in a
 * throwaway database: detected signals and sampled books → `signals` rows and price history →
 * outcomes resolved on the market clock (`resolveDueOutcomes`) → walk-forward retraining as of the
 * start of each recorded day (the retraining workflow's steps and activities, gate included) → that
 * day traded by the signal strategy under whichever version is then active. Every resolved outcome
 * is re-checked against the data up to its due time; every position is checked for its model version.
 */
export async function benchLearningLoop(opts: { dataDir: string; trainDays?: number; testDays?: number; log: (line: string) => void }): Promise<Record<string, unknown>> {
  const started = Date.now();
  const trainDays = opts.trainDays ?? 2;
  const testDays = opts.testDays ?? 1;
  const adminUrl = process.env.KESTREL_TEST_ADMIN_DB_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/kestrel_bench_loop_${process.pid}_${randomBytes(3).toString('hex')}`;
  const maintenanceDb = new URL(adminUrl).pathname.slice(1);
  const { config } = resolveConfig({ inline: { 'database.url': dbUrl.toString(), 'replay.dataDir': opts.dataDir } });
  const horizonMs = config.retraining.horizonMs;
  const modelName = config.retraining.modelName;

  const window = await loadRecordedWindow(opts.dataDir);
  const byDay = marketsByDay(window.info);
  const days = [...byDay.keys()];
  opts.log(`loaded ${window.columns.length} events of ${window.markets.length} markets over ${days.length} days (${window.loadedFrom})`);

  await ensureDatabase(dbUrl.toString(), maintenanceDb);
  const database = openDatabase(dbUrl.toString(), { max: 4 });
  const db = database.db;
  try {
    await runMigrations(dbUrl.toString());
    // 1. Signals and books, day by day (a market trades and settles within its day), into the repository.
    const configHash = await registerSignalConfig(db, config.signals);
    const pointsByMarket = new Map<string, PricePoint[]>();
    let detected = 0;
    for (const day of days) {
      const points: { market: string; point: PricePoint }[] = [];
      const lastPoint = new Map<string, number>();
      const { signals: fired } = signalOutcomesOnEvents({
        engine: createSignalEngine(config.signals),
        events: eventsOfDays(window, byDay, [day]),
        info: window.info,
        horizonMs,
        history: { capacity: config.marketData.historyCapacity, sampleMs: config.marketData.historySampleMs },
        // Sampled like the book workers' price history: at most one point per market per sample step.
        onBook: (market, ts, top) => {
          if (ts - (lastPoint.get(market) ?? -Infinity) < config.marketData.historySampleMs) return;
          lastPoint.set(market, ts);
          points.push({ market, point: { ts, bid: top.bid, ask: top.ask, last: NO_PRICE, volume: 0 } });
        },
      });
      for (const p of points) pointsByMarket.set(p.market, [...(pointsByMarket.get(p.market) ?? []), p.point]);
      await insertPricePoints(db, 'bench-learning-loop', points);
      for (let i = 0; i < fired.length; i += 500) await insertSignals(db, fired.slice(i, i + 500).map((s) => ({ ...s, actionable: false })), { configHash, source: 'bench-learning-loop', horizonsMs: config.signals.horizonsMs });
      detected += fired.length;
    }
    for (const market of window.markets) {
      const meta = readGoldMarketMetadata(opts.dataDir, market);
      if (meta) await upsertMarketSnapshot(db, meta.meta, meta.observedAtMs);
    }
    opts.log(`${detected} signals, ${[...pointsByMarket.values()].reduce((a, p) => a + p.length, 0)} price points stored (${((Date.now() - started) / 1000).toFixed(0)} s)`);

    // 2. Outcomes on the market clock, through the outcome job's own query.
    const settlements = new RecordedSettlements(db);
    let outcomesResolved = 0;
    for (;;) {
      const r = await resolveDueOutcomes(db, settlements);
      outcomesResolved += r.resolved;
      if (r.resolved === 0) break;
    }
    const outcomesResolvedWithFutureData = await outcomesUsingFutureData(db, pointsByMarket, window.info);
    opts.log(`${outcomesResolved} outcomes resolved, ${outcomesResolvedWithFutureData} with data from after their due time`);

    // 3. Walk-forward retraining as of the start of each day that has `trainDays` + `testDays` recorded days before it, then that day traded under the active version.
    const activities = createRetrainingActivities({ db });
    const runs: { asOf: string; status: RetrainResult['status']; reason: string; modelVersion?: string; tradedUnder?: string; trades: number }[] = [];
    let signalStrategyTrades = 0;
    let positions = 0;
    let positionsWithoutModelVersion = 0;
    for (let k = trainDays + testDays; k < days.length; k++) {
      const asOfMs = dayStart(days[k]!);
      const testFromMs = dayStart(days[k - testDays]!);
      const trainFromMs = dayStart(days[k - testDays - trainDays]!);
      const input = { ...retrainInput(config, { asOfMs }), trainWindowMs: testFromMs - trainFromMs, testWindowMs: asOfMs - testFromMs };
      const result = await retrainSteps(input, activities, { workflowId: `bench/learning-loop/${days[k]}`, nowMs: asOfMs, patched: () => true });
      const active = await activeVersion(db, 'model', modelName);
      let trades = 0;
      if (active) {
        const traded = await tradeSignalModel(config, window, eventsOfDays(window, byDay, [days[k]!]), parseSignalModel(active.content, `${modelName} ${active.version}`), active.id);
        trades = traded.trades.length;
        positions += traded.result.positions.length;
        positionsWithoutModelVersion += traded.result.positions.filter((p) => p.provenance?.modelVersionId !== active.id).length;
      }
      signalStrategyTrades += trades;
      runs.push({ asOf: new Date(asOfMs).toISOString(), status: result.status, reason: result.reason, ...(result.modelVersion ? { modelVersion: result.modelVersion } : {}), ...(active ? { tradedUnder: active.version } : {}), trades });
      opts.log(`as of ${days[k]}: ${result.status} ${result.modelVersion ?? ''} (${result.reason}); ${active ? `traded ${days[k]} under ${active.version}: ${trades} trades` : 'no active version: the signal strategy does not enter'}`);
    }

    // 4. What `kestrel retrain now --as-of <end of recording>` decides with the configured windows, in the CLI's words.
    const endMs = Math.max(...[...window.info.values()].map((i) => i.closeTimeMs));
    const atEnd = await retrainSteps(retrainInput(config, { asOfMs: endMs }), activities, { workflowId: 'bench/learning-loop/end-of-recording', nowMs: endMs, patched: () => true });
    const retrainAtEndOfRecording = { asOf: new Date(endMs).toISOString(), status: atEnd.status, report: retrainReport(modelName, atEnd, (await activeVersion(db, 'model', modelName))?.version) };
    opts.log(`retrain now --as-of ${retrainAtEndOfRecording.asOf}: ${retrainAtEndOfRecording.report}`);

    // 5. What the versions scored (mean P&L after fees per acted-on signal, weighted by the signals acted on).
    const versions = await db.select({ metrics: modelVersions.metrics }).from(modelVersions).where(eq(modelVersions.modelName, modelName));
    const promoted = (await db.select({ status: retrainingRuns.status }).from(retrainingRuns).where(eq(retrainingRuns.modelName, modelName))).filter((r) => r.status === 'promoted').length;
    const weighted = (edge: 'inSample' | 'outOfSample', count: 'inSampleSignals' | 'outOfSampleSignals') => {
      const m = versions.map((v) => v.metrics as Record<string, number>);
      const n = m.reduce((a, x) => a + (x[count] ?? 0), 0);
      // As the gate scores a model that acted on nothing: an edge of 0 (the signal counts say so).
      return n > 0 ? Number((m.reduce((a, x) => a + (x[edge] ?? 0) * (x[count] ?? 0), 0) / n / PRICE_SCALE).toFixed(6)) : 0;
    };
    const [{ n: signalRows }] = (await database.sql`select count(*)::int as n from signals`) as unknown as [{ n: number }];
    return {
      bench: 'learning-loop',
      days,
      trainDays,
      testDays,
      signalsDetected: signalRows,
      outcomesResolved,
      outcomesResolvedWithFutureData,
      modelVersionsCreated: versions.length,
      modelVersionsPromoted: promoted,
      /** Dollars per contract per acted-on signal, after fees. */
      inSampleEdge: weighted('inSample', 'inSampleSignals'),
      outOfSampleEdge: weighted('outOfSample', 'outOfSampleSignals'),
      signalStrategyTrades,
      positions,
      positionsWithoutModelVersion,
      inSampleSignalsActed: versions.reduce((a, v) => a + ((v.metrics as Record<string, number>).inSampleSignals ?? 0), 0),
      outOfSampleSignalsActed: versions.reduce((a, v) => a + ((v.metrics as Record<string, number>).outOfSampleSignals ?? 0), 0),
      runs,
      retrainAtEndOfRecording,
      resolvedOutcomesAtHorizonByDay: Object.fromEntries(
        ((await database.sql`select to_char(s.fired_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as n from signal_outcomes o join signals s on s.id = o.signal_id where o.resolved_at is not null and o.horizon_ms = ${horizonMs} group by 1 order by 1`) as unknown as { day: string; n: number }[]).map((r) => [r.day, r.n]),
      ),
      elapsedSeconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    };
  } finally {
    await database.close();
    await dropDatabase(dbUrl.toString(), maintenanceDb);
  }
}

/**
 * Resolved outcomes that used information from after their due time, re-checked outside the
 * outcome query: by price, the stored price must be the mid of the market's last stored point at or
 * before the due time; by settlement, the market must have closed at or before the due time.
 */
async function outcomesUsingFutureData(db: ReturnType<typeof openDatabase>['db'], points: ReadonlyMap<string, readonly PricePoint[]>, info: ReadonlyMap<string, { closeTimeMs: number }>): Promise<number> {
  const rows = await db
    .select({ market: signals.marketTicker, dueAt: signalOutcomes.dueAt, priceAfter: signalOutcomes.priceAfter, resolvedBy: signalOutcomes.resolvedBy })
    .from(signalOutcomes)
    .innerJoin(signals, eq(signals.id, signalOutcomes.signalId));
  let future = 0;
  for (const r of rows) {
    if (r.priceAfter === null) continue;
    const due = r.dueAt.getTime();
    if (r.resolvedBy === 'settlement') {
      const close = info.get(r.market)?.closeTimeMs;
      if (close === undefined || close > due) future++;
      continue;
    }
    const series = points.get(r.market) ?? [];
    let last: PricePoint | undefined;
    for (const p of series) if (p.ts <= due) last = p;
    const expected = last ? (last.bid + last.ask) / 2 : undefined;
    if (expected === undefined || Math.abs(Number(r.priceAfter) * PRICE_SCALE - expected) > 1e-6) future++;
  }
  return future;
}
