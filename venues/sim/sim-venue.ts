import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { fills as fillsTable, marketSnapshots, orders } from '../../db/schema';
import type { Clock } from '../../domain/clock';
import { priceText, priceUnits, sizeText, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook } from '../../domain/market-data/order-book';
import { orderStateWire as toWire, type SimMatchingEngine, type SimOrderState } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { defaultSleep } from '../http';

export interface BookSource {
  book(market: string): BinaryOrderBook | undefined;
}

/**
 * The paper exchange: the matching engine over live (replayed or real) books, with every order and
 * fill persisted under its client order id. Submitting an id that exists returns the stored order,
 * also after a worker restart, so retries and crashes never create a second order.
 */
export class SimVenue {
  constructor(
    readonly engine: SimMatchingEngine,
    private readonly deps: {
      db: Database;
      books: BookSource;
      clock: Clock;
      latencyMs: number;
      /** How the order's latency is waited out (default: wall time; a lockstep replay waits in market time). */
      orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
    },
  ) {}

  async submit(req: OrderRequestWire): Promise<OrderStateWire> {
    const stored = await this.load(req.clientOrderId);
    if (stored) return stored;
    const sentAtMs = this.deps.clock.nowMs();
    if (this.deps.latencyMs > 0) await (this.deps.orderLatency ?? defaultSleep)(this.deps.latencyMs, req);
    const book = this.deps.books.book(req.market);
    const request = { clientOrderId: req.clientOrderId, market: req.market, outcome: req.outcome, action: req.action, limitPrice: priceUnits(req.limitPrice), size: sizeUnits(req.size), tif: req.tif };
    const state = book
      ? this.engine.submit(request, book, this.deps.clock.nowMs())
      : ({ request, status: 'rejected', filled: 0, fills: [], queueAhead: 0, rejectReason: `no market data for ${req.market}`, createdMs: this.deps.clock.nowMs() } satisfies SimOrderState);
    // Provenance: the market metadata version the order was sent under.
    const [snapshot] = await this.deps.db.select({ id: marketSnapshots.id }).from(marketSnapshots).where(and(eq(marketSnapshots.marketTicker, req.market), eq(marketSnapshots.rowCurrentInd, true)));
    const inserted = await this.deps.db
      .insert(orders)
      .values({
        clientOrderId: req.clientOrderId,
        positionId: req.positionId,
        venue: 'sim',
        venueOrderId: `sim-${req.clientOrderId}`,
        marketTicker: req.market,
        purpose: req.purpose,
        outcome: req.outcome,
        action: req.action,
        limitPrice: req.limitPrice,
        size: req.size,
        timeInForce: req.tif,
        status: state.status,
        marketSnapshotId: snapshot?.id ?? null,
        submittedAt: new Date(sentAtMs),
      })
      .onConflictDoNothing()
      .returning({ id: orders.clientOrderId });
    if (inserted.length === 0) return (await this.load(req.clientOrderId))!;
    await this.persistProgress(state);
    return toWire(state);
  }

  /** Current state; resting orders advance as market data arrives (see onMarketEvents). */
  async get(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const live = this.engine.orders.get(clientOrderId);
    if (live) {
      await this.persistProgress(live);
      return toWire(live);
    }
    return this.load(clientOrderId);
  }

  async cancel(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const live = this.engine.cancel(clientOrderId);
    if (live) {
      await this.persistProgress(live);
      return toWire(live);
    }
    // Resting in a previous process: the engine restarted without it, so it no longer rests anywhere.
    await this.deps.db.update(orders).set({ status: 'canceled', updatedAt: new Date() }).where(and(eq(orders.clientOrderId, clientOrderId), eq(orders.status, 'resting')));
    return this.load(clientOrderId);
  }

  /** Feeds applied market events to resting orders (queue position, crossing books). */
  onMarketEvents(events: readonly UnitEvent[]): void {
    this.engine.onMarketEvents(events, (m) => this.deps.books.book(m), this.deps.clock.nowMs());
  }

  private async persistProgress(state: SimOrderState): Promise<void> {
    const wire = toWire(state);
    if (state.fills.length > 0) {
      await this.deps.db
        .insert(fillsTable)
        .values(state.fills.map((f, seq) => ({ clientOrderId: f.clientOrderId, seq, price: priceText(f.price), size: sizeText(f.size), liquidity: f.liquidity, fee: f.fee.toFixed(6), filledAt: new Date(f.tsMs) })))
        .onConflictDoNothing();
    }
    await this.deps.db
      .update(orders)
      .set({ status: wire.status, filledSize: wire.filled, averagePrice: wire.averagePrice ?? null, fees: wire.fees, updatedAt: new Date() })
      .where(eq(orders.clientOrderId, state.request.clientOrderId));
  }

  private async load(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const [row] = await this.deps.db.select().from(orders).where(eq(orders.clientOrderId, clientOrderId));
    if (!row) return undefined;
    const rows = await this.deps.db.select().from(fillsTable).where(eq(fillsTable.clientOrderId, clientOrderId)).orderBy(fillsTable.seq);
    return {
      clientOrderId,
      status: row.status as OrderStateWire['status'],
      size: row.size,
      filled: row.filledSize,
      averagePrice: row.averagePrice ?? undefined,
      fees: row.fees,
      fills: rows.map((f) => ({ price: f.price, size: f.size, liquidity: f.liquidity as 'taker' | 'maker', fee: f.fee, tsMs: f.filledAt.getTime() })),
    };
  }
}
