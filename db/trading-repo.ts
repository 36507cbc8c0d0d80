import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './client';
import { exitAttempts, fills as fillsTable, marketSnapshots, orders, positionExits, positions } from './schema';
import type { TradingVenue } from '../domain/ports';
import type { ExitAttemptRecord, OrderRequestWire, OrderStateWire, PositionExitRecord, PositionRecord } from '../domain/trading/wire';

/**
 * Status of an order row whose request was recorded but whose venue outcome is not known yet (the
 * process died, or the submit timed out, between "sent" and "answered"). Such an order is looked up
 * at the venue before anything is resent.
 */
export const OUTCOME_UNKNOWN = 'submitting';

export interface StoredOrder {
  venue: string;
  market: string;
  outcome: 'yes' | 'no';
  action: 'buy' | 'sell';
  submittedAtMs: number;
  /** OrderStateWire once the venue answered; `OUTCOME_UNKNOWN` before. */
  status: OrderStateWire['status'] | typeof OUTCOME_UNKNOWN;
  state: OrderStateWire;
}

/**
 * The one place that writes Kestrel's trading records: orders and fills (for every venue), positions,
 * exit attempts and exits. Every write is idempotent, so activity retries and replays add nothing.
 */
export class TradingRepository {
  constructor(private readonly db: Database) {}

  /** Records an order before it is sent (outcome unknown). Returns false when the id was recorded already. */
  async recordOrderIntent(req: OrderRequestWire, venue: TradingVenue, submittedAtMs: number): Promise<boolean> {
    // Provenance: the market metadata version the order was sent under.
    const [snapshot] = await this.db.select({ id: marketSnapshots.id }).from(marketSnapshots).where(and(eq(marketSnapshots.marketTicker, req.market), eq(marketSnapshots.rowCurrentInd, true)));
    const inserted = await this.db
      .insert(orders)
      .values({
        clientOrderId: req.clientOrderId,
        positionId: req.positionId,
        venue,
        marketTicker: req.market,
        purpose: req.purpose,
        outcome: req.outcome,
        action: req.action,
        limitPrice: req.limitPrice,
        size: req.size,
        timeInForce: req.tif,
        status: OUTCOME_UNKNOWN,
        marketSnapshotId: snapshot?.id ?? null,
        submittedAt: new Date(submittedAtMs),
      })
      .onConflictDoNothing()
      .returning({ id: orders.clientOrderId });
    return inserted.length > 0;
  }

  /** Records what the venue says of an order: status, fills so far, fees. Fills are keyed by their position in the order. */
  async recordOrderState(state: OrderStateWire): Promise<void> {
    if (state.fills.length > 0) {
      await this.db
        .insert(fillsTable)
        .values(state.fills.map((f, seq) => ({ clientOrderId: state.clientOrderId, seq, price: f.price, size: f.size, liquidity: f.liquidity, fee: f.fee, filledAt: new Date(f.tsMs) })))
        .onConflictDoNothing();
    }
    await this.db
      .update(orders)
      .set({ status: state.status, venueOrderId: state.venueOrderId ?? undefined, filledSize: state.filled, averagePrice: state.averagePrice ?? null, fees: state.fees, size: state.size, updatedAt: new Date() })
      // Updates can arrive out of order (a pushed fill and an activity's read): never step back.
      .where(and(eq(orders.clientOrderId, state.clientOrderId), sql`${orders.filledSize} <= ${state.filled}::numeric`, state.status === 'resting' ? sql`${orders.status} in ('resting', ${OUTCOME_UNKNOWN})` : sql`true`));
  }

  /** An amended order rests at a new limit. */
  async recordAmendment(clientOrderId: string, limitPrice: string): Promise<void> {
    await this.db.update(orders).set({ limitPrice, updatedAt: new Date() }).where(eq(orders.clientOrderId, clientOrderId));
  }

  async loadOrder(clientOrderId: string): Promise<StoredOrder | undefined> {
    const [row] = await this.db.select().from(orders).where(eq(orders.clientOrderId, clientOrderId));
    if (!row) return undefined;
    const rows = await this.db.select().from(fillsTable).where(eq(fillsTable.clientOrderId, clientOrderId)).orderBy(fillsTable.seq);
    const status = row.status as StoredOrder['status'];
    return {
      venue: row.venue,
      market: row.marketTicker,
      outcome: row.outcome as StoredOrder['outcome'],
      action: row.action as StoredOrder['action'],
      submittedAtMs: row.submittedAt.getTime(),
      status,
      state: {
        clientOrderId,
        venueOrderId: row.venueOrderId ?? undefined,
        status: status === OUTCOME_UNKNOWN ? 'resting' : status,
        size: row.size,
        filled: row.filledSize,
        averagePrice: row.averagePrice ?? undefined,
        fees: row.fees,
        fills: rows.map((f) => ({ price: f.price, size: f.size, liquidity: f.liquidity as 'taker' | 'maker', fee: f.fee, tsMs: f.filledAt.getTime() })),
      },
    };
  }

  /** What a venue adapter needs to find one of Kestrel's orders there (its market, side, and the venue's id once known). */
  async orderRef(clientOrderId: string): Promise<{ market: string; outcome: 'yes' | 'no'; action: 'buy' | 'sell'; venueOrderId?: string } | undefined> {
    const stored = await this.loadOrder(clientOrderId);
    return stored && { market: stored.market, outcome: stored.outcome, action: stored.action, venueOrderId: stored.state.venueOrderId };
  }

  async recordPosition(p: PositionRecord, venue: TradingVenue, nowMs: number): Promise<void> {
    const values = {
      strategyId: p.strategyId,
      venue,
      marketTicker: p.market,
      outcome: p.outcome,
      status: p.status,
      entryPrice: p.entryPrice ?? null,
      size: p.size,
      remainingSize: p.remainingSize,
      realizedPnl: p.realizedPnl,
      fees: p.fees,
      state: p.state,
      openedAt: p.openedAtMs === undefined ? null : new Date(p.openedAtMs),
      closedAt: p.closedAtMs === undefined ? null : new Date(p.closedAtMs),
      strategyVersionId: p.provenance?.strategyVersionId ?? null,
      modelVersionId: p.provenance?.modelVersionId ?? null,
      signalId: p.provenance?.signalId ?? null,
      updatedAt: new Date(nowMs),
    };
    await this.db.insert(positions).values({ positionId: p.positionId, ...values }).onConflictDoUpdate({ target: positions.positionId, set: values });
  }

  async recordExitAttempt(a: ExitAttemptRecord): Promise<void> {
    const { attemptedAtMs, ...rest } = a;
    await this.db.insert(exitAttempts).values({ ...rest, attemptedAt: new Date(attemptedAtMs) }).onConflictDoNothing();
  }

  /** Returns false when this exit was recorded already (a retry). */
  async recordPositionExit(e: PositionExitRecord): Promise<boolean> {
    const { finishedAtMs, averagePrice, ...rest } = e;
    const inserted = await this.db.insert(positionExits).values({ ...rest, averagePrice: averagePrice ?? null, finishedAt: new Date(finishedAtMs) }).onConflictDoNothing().returning({ exitNo: positionExits.exitNo });
    return inserted.length > 0;
  }
}
