import type { Clock } from '../../domain/clock';
import { InvalidOrder, OrderNotFound } from '../../domain/errors';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook } from '../../domain/market-data/order-book';
import type { ExecutionClient, OrderAmendment, VenueCapabilities } from '../../domain/ports';
import { orderStateWire, type SimMatchingEngine, type SimOrderRequest, type SimOrderState } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { defaultSleep } from '../http';

export interface BookSource {
  book(market: string): BinaryOrderBook | undefined;
}

export const SIM_CAPABILITIES: VenueCapabilities = {
  venue: 'sim',
  sequencedMarketData: false,
  bookUpdates: 'deltas',
  orderTypes: ['limit', 'ioc', 'fok', 'post_only'],
  amend: true,
  batchOrders: false,
  idempotentClientOrderIds: true,
  trading: true,
};

/**
 * The paper exchange as an ExecutionClient: the matching engine over live (replayed or real) books.
 * Orders live in the engine; Kestrel's own order records (the `recorded` lookup) stand in for the
 * venue's memory after a process restart, so a retried id returns its order instead of a second one.
 */
export class SimVenue implements ExecutionClient {
  readonly venue = 'sim' as const;
  readonly capabilities = SIM_CAPABILITIES;
  private readonly listeners = new Set<(state: OrderStateWire) => void>();
  /** What each order was sent as (an amendment's latency wait needs its position). */
  private readonly requests = new Map<string, OrderRequestWire>();

  constructor(
    readonly engine: SimMatchingEngine,
    private readonly deps: {
      books: BookSource;
      clock: Clock;
      latencyMs: number;
      /** Kestrel's record of an order (orders/fills tables), for orders this process's engine never saw. */
      recorded: (clientOrderId: string) => Promise<OrderStateWire | undefined>;
      /** How the order's latency is waited out (default: wall time; a lockstep replay waits in market time). */
      orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
    },
  ) {}

  async submit(req: OrderRequestWire): Promise<OrderStateWire> {
    const known = this.engine.orders.get(req.clientOrderId);
    if (known) return orderStateWire(known);
    const before = await this.fromEarlierProcess(req.clientOrderId);
    if (before) return before;
    // What a venue refuses outright (Kalshi: 400) is an error, not an order.
    if (!(Number(req.size) > 0)) throw new InvalidOrder(`order ${req.clientOrderId}: size must be positive, got ${req.size}`);
    if (!(Number(req.limitPrice) > 0 && Number(req.limitPrice) < 1)) throw new InvalidOrder(`order ${req.clientOrderId}: limit price must be inside (0, 1), got ${req.limitPrice}`);
    if (this.deps.latencyMs > 0) await (this.deps.orderLatency ?? defaultSleep)(this.deps.latencyMs, req);
    this.requests.set(req.clientOrderId, req);
    const request: SimOrderRequest = { clientOrderId: req.clientOrderId, market: req.market, outcome: req.outcome, action: req.action, limitPrice: priceUnits(req.limitPrice), size: sizeUnits(req.size), tif: req.tif, postOnly: req.postOnly };
    const book = this.deps.books.book(req.market);
    const nowMs = this.deps.clock.nowMs();
    if (!book) {
      const rejected: SimOrderState = { request, status: 'rejected', filled: 0, fills: [], queueAhead: 0, rejectReason: `no market data for ${req.market}`, createdMs: nowMs };
      this.engine.orders.set(req.clientOrderId, rejected);
      return this.wire(rejected);
    }
    return this.wire(this.engine.submit(request, book, nowMs));
  }

  /** Current state; resting orders advance as market data arrives (see onMarketEvents). */
  async get(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const live = this.engine.orders.get(clientOrderId);
    return live ? this.wire(live) : this.fromEarlierProcess(clientOrderId);
  }

  async cancel(clientOrderId: string): Promise<OrderStateWire> {
    const live = this.engine.cancel(clientOrderId);
    if (live) return this.wire(live);
    const before = await this.fromEarlierProcess(clientOrderId);
    if (!before) throw new OrderNotFound(`paper exchange has no order ${clientOrderId}`);
    return before;
  }

  async amend(clientOrderId: string, change: OrderAmendment): Promise<OrderStateWire> {
    const live = this.engine.orders.get(clientOrderId);
    if (!live) return this.cancel(clientOrderId);
    // An amendment travels to the exchange like a new order does.
    const sent = this.requests.get(clientOrderId);
    if (this.deps.latencyMs > 0 && sent) await (this.deps.orderLatency ?? defaultSleep)(this.deps.latencyMs, sent);
    const amended = this.engine.amend(clientOrderId, { limitPrice: priceUnits(change.limitPrice), size: sizeUnits(change.size) }, this.deps.books.book(live.request.market), this.deps.clock.nowMs())!;
    return this.wire(amended);
  }

  async decrease(clientOrderId: string, reduceBy: string): Promise<OrderStateWire> {
    const live = this.engine.decrease(clientOrderId, sizeUnits(reduceBy));
    return live ? this.wire(live) : this.cancel(clientOrderId);
  }

  onOrderUpdate(listener: (state: OrderStateWire) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Feeds applied market events to resting orders (queue position, crossing books); pushes the orders that filled. */
  onMarketEvents(events: readonly UnitEvent[]): void {
    const fills = this.engine.onMarketEvents(events, (m) => this.deps.books.book(m), this.deps.clock.nowMs());
    if (fills.length === 0 || this.listeners.size === 0) return;
    for (const id of new Set(fills.map((f) => f.clientOrderId))) {
      const state = this.engine.orders.get(id);
      if (state) this.emit(orderStateWire(state));
    }
  }

  private wire(state: SimOrderState): OrderStateWire {
    return { ...orderStateWire(state), venueOrderId: `sim-${state.request.clientOrderId}` };
  }

  private emit(state: OrderStateWire): void {
    for (const listener of this.listeners) listener({ ...state, venueOrderId: `sim-${state.clientOrderId}` });
  }

  /** An order a previous process took: it no longer rests anywhere (the engine restarted without it). */
  private async fromEarlierProcess(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const stored = await this.deps.recorded(clientOrderId);
    if (!stored) return undefined;
    return stored.status === 'resting' ? { ...stored, status: 'canceled' } : stored;
  }
}
