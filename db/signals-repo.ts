import { createHash } from 'node:crypto';
import { and, desc, eq, gte, isNotNull, lt, lte, sql } from 'drizzle-orm';
import { Dec } from '../domain/decimal';
import { ONE_DOLLAR, PRICE_SCALE } from '../domain/fixed-point';
import { performanceMatrix, signalOutcome, type OutcomeRow, type PerformanceCell } from '../domain/signals/performance';
import type { DetectedSignal } from '../domain/signals/types';
import type { Database } from './client';
import { closeTimeMs } from './market-data-repo';
import { inTransaction } from './transactions';
import { signalConfigs, signalOutcomes, signals, strategyRuns } from './schema';
import type { SettlementSource } from '../domain/ports';

/** Price units (1e-4, possibly half a unit for mids) → dollars with 5 places. */
const unitsToDollars = (units: number) => new Dec(units).div(PRICE_SCALE).toFixed(5);
const dollarsToUnits = (text: string) => new Dec(text).times(PRICE_SCALE).toNumber();

/** Stores a signal configuration by content hash (idempotent) and returns the hash. */
export async function registerSignalConfig(db: Database, config: unknown): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  await db.insert(signalConfigs).values({ hash, config }).onConflictDoNothing();
  return hash;
}

/**
 * Persists detected signals (idempotent on their key) with one pending outcome per horizon.
 * Returns the ids of the rows this call inserted, by key.
 */
export async function insertSignals(db: Database, detected: readonly (DetectedSignal & { actionable: boolean })[], opts: { configHash: string; source: string; horizonsMs: readonly number[] }): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  if (detected.length === 0) return ids;
  await inTransaction(db, async (tx) => {
    const rows = await tx
      .insert(signals)
      .values(detected.map((d) => signalValues(d, d.actionable, opts)))
      .onConflictDoNothing({ target: signals.signalKey })
      .returning({ id: signals.id, key: signals.signalKey, firedAt: signals.firedAt, mid: signals.midAtFire });
    for (const r of rows) ids.set(r.key, r.id);
    const outcomes = rows.filter((r) => r.mid !== null).flatMap((r) => opts.horizonsMs.map((h) => ({ signalId: r.id, horizonMs: h, dueAt: new Date(r.firedAt.getTime() + h) })));
    if (outcomes.length > 0) await tx.insert(signalOutcomes).values(outcomes).onConflictDoNothing();
  });
  return ids;
}

/** A signal that led (or may lead) to an entry outside the signal worker: a rule's own signal, or an engine signal detected in a replay. */
export interface EntrySignalRow {
  /** Idempotency key: type, market and exchange time (the engine's `DetectedSignal.key` for engine signals). */
  key: string;
  type: string;
  market: string;
  markets: readonly string[];
  category: string;
  direction?: 'yes' | 'no';
  strength: number;
  confidence: number;
  priority: string;
  firedAtMs: number;
  /** YES mid in price units (may be half a unit). */
  midAtFire?: number;
  inputs: Record<string, unknown>;
}

/** A signal's row (the spread at fire, when known, joins its inputs: what acting on it would have cost, which the signal model's fit reads). */
function signalValues(s: EntrySignalRow & { spreadAtFire?: number }, actionable: boolean, opts: { configHash: string; source: string }) {
  return {
    signalKey: s.key,
    type: s.type,
    marketTicker: s.market,
    markets: [...s.markets],
    category: s.category,
    direction: s.direction ?? null,
    strength: s.strength,
    confidence: s.confidence,
    priority: s.priority,
    firedAt: new Date(s.firedAtMs),
    midAtFire: s.midAtFire === undefined ? null : unitsToDollars(s.midAtFire),
    inputs: s.spreadAtFire === undefined ? s.inputs : { ...s.inputs, spreadAtFire: s.spreadAtFire },
    configHash: opts.configHash,
    actionable,
    source: opts.source,
  };
}

/**
 * Records one actionable signal and returns its id; a signal already recorded under its key (the
 * signal worker saw the same one, or a replay ran before) keeps its row and id. Pending outcomes are
 * added per horizon in `horizonsMs` (none for a signal whose outcomes must not feed the signal-weights model).
 */
export async function recordEntrySignal(db: Database, row: EntrySignalRow, opts: { configHash: string; source: string; horizonsMs: readonly number[] }): Promise<number> {
  return inTransaction(db, async (tx) => {
    const [inserted] = await tx
      .insert(signals)
      .values(signalValues(row, true, opts))
      .onConflictDoNothing({ target: signals.signalKey })
      .returning({ id: signals.id });
    if (!inserted) {
      const [existing] = await tx.select({ id: signals.id }).from(signals).where(eq(signals.signalKey, row.key));
      if (!existing) throw new Error(`signal ${row.key} neither inserted nor found`);
      return existing.id;
    }
    if (row.midAtFire !== undefined && opts.horizonsMs.length > 0) {
      await tx.insert(signalOutcomes).values(opts.horizonsMs.map((h) => ({ signalId: inserted.id, horizonMs: h, dueAt: new Date(row.firedAtMs + h) }))).onConflictDoNothing();
    }
    return inserted.id;
  });
}

interface DueRow extends Record<string, unknown> {
  signal_id: string;
  horizon_ms: number;
  due_at: Date;
  market_ticker: string;
  direction: 'yes' | 'no' | null;
  mid_at_fire: string;
  mid_then: string | null;
  latest: Date | null;
}

/**
 * Resolves pending outcomes on the market's clock, never with information from after their due time:
 * - by price once the market's data has passed the due time (price history at or after it): the YES
 *   mid at or before the due time;
 * - by settlement only if the market closed (its snapshot's `close_time`, exchange time) at or before
 *   the due time and has a result: what it was worth at the due time.
 * Anything else stays pending, so a replay whose metadata is already final (result known from the
 * start) scores a +10 min outcome from the replayed prices, not from the final result.
 * Stateless and idempotent, so a crash or a restart loses nothing.
 */
export async function resolveDueOutcomes(db: Database, settlements: SettlementSource, limit = 5000): Promise<{ resolved: number; pending: number }> {
  // Close times are parsed here (closeTimeMs), not in SQL, where one malformed value would fail every run.
  const pendingMarkets = (await db.execute(sql`
    select distinct s.market_ticker,
      (select ms.attributes->>'close_time' from market_snapshots ms
        where ms.market_ticker = s.market_ticker and ms.row_current_ind order by ms.effective_ts desc limit 1) as close_time
    from signal_outcomes o join signals s on s.id = o.signal_id
    where o.resolved_at is null`)) as unknown as { market_ticker: string; close_time: string | null }[];
  const closeOf = new Map<string, number>();
  for (const m of pendingMarkets) {
    const c = closeTimeMs({ close_time: m.close_time });
    if (c !== undefined) closeOf.set(m.market_ticker, c);
  }
  const closes = [...closeOf].map(([m, c]) => ({ m, c }));
  // Only outcomes that can be resolved now are taken (data at or after the due time, or a close at or
  // before it): the ones that cannot yet (or ever) be scored honestly never hold the oldest places.
  const due = (await db.execute(sql`
    with closes as (
      select x.m, timestamptz 'epoch' + x.c * interval '1 millisecond' as close_at
      from json_to_recordset(${JSON.stringify(closes)}::json) as x(m text, c bigint)
    ), due as (
      select o.signal_id, o.horizon_ms, o.due_at, s.market_ticker, s.direction, s.mid_at_fire
      from signal_outcomes o join signals s on s.id = o.signal_id
      left join closes c on c.m = s.market_ticker
      where o.resolved_at is null
        and (c.close_at <= o.due_at or exists (select 1 from price_history h where h.market_ticker = s.market_ticker and h.ts >= o.due_at))
      order by o.due_at
      limit ${limit}
    )
    select d.*, p.mid as mid_then,
      (select max(ts) from price_history h where h.market_ticker = d.market_ticker) as latest
    from due d left join lateral (
      select case when yes_bid is not null and yes_ask is not null then (yes_bid + yes_ask) / 2 else last_price end as mid
      from price_history ph where ph.market_ticker = d.market_ticker and ph.ts <= d.due_at
      order by ph.ts desc limit 1
    ) p on true`)) as unknown as DueRow[];
  let resolved = 0;
  const results = new Map<string, 'yes' | 'no' | undefined>();
  for (const row of due) {
    const dueMs = new Date(row.due_at).getTime();
    const latestMs = row.latest ? new Date(row.latest).getTime() : -Infinity;
    const closeMs = closeOf.get(row.market_ticker);
    let priceAfter: number | undefined;
    let by: 'price' | 'settlement' | undefined;
    if (latestMs >= dueMs && row.mid_then !== null) {
      priceAfter = dollarsToUnits(row.mid_then);
      by = 'price';
    } else if (closeMs !== undefined && closeMs <= dueMs) {
      if (!results.has(row.market_ticker)) results.set(row.market_ticker, await settlements.result(row.market_ticker));
      const result = results.get(row.market_ticker);
      if (result) {
        priceAfter = result === 'yes' ? ONE_DOLLAR : 0;
        by = 'settlement';
      }
    }
    if (priceAfter === undefined || !by) continue;
    const outcome = signalOutcome(row.direction ?? undefined, dollarsToUnits(row.mid_at_fire), priceAfter);
    await db
      .update(signalOutcomes)
      .set({ resolvedAt: sql`now()`, priceAfter: unitsToDollars(priceAfter), move: unitsToDollars(outcome.move), correct: outcome.correct, resolvedBy: by })
      .where(and(eq(signalOutcomes.signalId, Number(row.signal_id)), eq(signalOutcomes.horizonMs, row.horizon_ms)));
    resolved++;
  }
  const [{ n }] = (await db.execute(sql`select count(*)::int as n from signal_outcomes where resolved_at is null`)) as unknown as [{ n: number }];
  return { resolved, pending: n };
}

export interface OutcomeRange {
  /** Signals fired (exchange time) at or after this. */
  fromMs?: number;
  /** Signals fired (exchange time) before this. */
  toMs?: number;
  /**
   * Only outcomes due at or before this (exchange time): what was known then. Recorded data can
   * hold outcomes resolved from data past it (a replay that went on); live, whatever is resolved is
   * already known.
   */
  knownByMs?: number;
}

/** Resolved outcomes (optionally only of signals fired in [fromMs, toMs), due by knownByMs) as rows for the performance matrix. */
export async function outcomeRows(db: Database, range: OutcomeRange = {}): Promise<OutcomeRow[]> {
  const rows = await db
    .select({
      type: signals.type,
      category: signals.category,
      firedAt: signals.firedAt,
      horizonMs: signalOutcomes.horizonMs,
      move: signalOutcomes.move,
      correct: signalOutcomes.correct,
      direction: signals.direction,
      midAtFire: signals.midAtFire,
      spreadAtFire: sql<number | null>`(${signals.inputs}->>'spreadAtFire')::float8`,
      confidence: signals.confidence,
      priority: signals.priority,
      resolvedBy: signalOutcomes.resolvedBy,
    })
    .from(signalOutcomes)
    .innerJoin(signals, eq(signals.id, signalOutcomes.signalId))
    .where(and(isNotNull(signalOutcomes.resolvedAt), range.fromMs !== undefined ? gte(signals.firedAt, new Date(range.fromMs)) : undefined, range.toMs !== undefined ? lt(signals.firedAt, new Date(range.toMs)) : undefined, range.knownByMs !== undefined ? lte(signalOutcomes.dueAt, new Date(range.knownByMs)) : undefined));
  return rows.map((r) => ({
    type: r.type,
    category: r.category,
    firedAtMs: r.firedAt.getTime(),
    horizonMs: r.horizonMs,
    move: dollarsToUnits(r.move ?? '0'),
    correct: r.correct,
    ...(r.direction === 'yes' || r.direction === 'no' ? { direction: r.direction } : {}),
    ...(r.midAtFire !== null ? { midAtFire: dollarsToUnits(r.midAtFire) } : {}),
    ...(r.spreadAtFire !== null && Number.isFinite(Number(r.spreadAtFire)) ? { spreadAtFire: Number(r.spreadAtFire) } : {}),
    confidence: r.confidence,
    priority: r.priority,
    ...(r.resolvedBy === 'price' || r.resolvedBy === 'settlement' ? { resolvedBy: r.resolvedBy } : {}),
  }));
}

/**
 * The performance matrix of all resolved outcomes, or as of an exchange time (recorded data): only
 * signals fired before it, and only outcomes due by then.
 */
export async function loadPerformanceMatrix(db: Database, opts: { asOfMs?: number } = {}): Promise<PerformanceCell[]> {
  return performanceMatrix(await outcomeRows(db, opts.asOfMs === undefined ? {} : { toMs: opts.asOfMs, knownByMs: opts.asOfMs }));
}

export async function recentSignals(db: Database, opts: { limit: number; market?: string; type?: string }) {
  return db
    .select()
    .from(signals)
    .where(and(opts.market ? eq(signals.marketTicker, opts.market) : undefined, opts.type ? eq(signals.type, opts.type) : undefined))
    .orderBy(desc(signals.firedAt), desc(signals.id))
    .limit(opts.limit);
}

export interface StrategySubscription {
  workflowId: string;
  signalTypes: string[];
  categories: string[];
}

export async function runningSubscriptions(db: Database): Promise<StrategySubscription[]> {
  return db.select({ workflowId: strategyRuns.workflowId, signalTypes: strategyRuns.signalTypes, categories: strategyRuns.categories }).from(strategyRuns).where(eq(strategyRuns.status, 'running'));
}
