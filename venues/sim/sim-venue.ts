import type { Clock } from '../../domain/clock';
import { InvalidOrder, OrderNotFound } from '../../domain/errors';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import type { UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook } from '../../domain/market-data/order-book';
import type { ExecutionClient, OrderAmendment, VenueCapabilities } from '../../domain/ports';
import { frozenBook, orderStateWire, type MatchingBook, type SimOrderRequest, type SimOrderState } from '../../domain/sim/matching';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { defaultSleep } from '../http';
import type { SimStore } from './sim-store';

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
 * The paper exchange as an ExecutionClient: the matching engine over live (replayed or real) books,
 * its orders and consumed liquidity in a store every process shares (sim-store.ts), so one paper
 * exchange serves all of them and a restart loses no resting order. Kestrel's own order records
 * (the `recorded` lookup) answer for orders the store no longer has, so a retried id returns its
 * order instead of a second one.
 *
 * This process's calls run one at a time in call order (market events, orders, lookups), as they
 * did when matching was synchronous: an order sent after a batch was applied meets the book after
 * that batch's matching. Each call matches against the book as it was when the call was made.
 */
export class SimVenue implements ExecutionClient {
  readonly venue = 'sim' as const;
  readonly capabilities = SIM_CAPABILITIES;
  private readonly listeners = new Set<(state: OrderStateWire) => void>();
  /** What each order this process sent was sent as (an amendment's latency wait needs its position). */
  private readonly requests = new Map<string, OrderRequestWire>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: SimStore,
    private readonly deps: {
      books: BookSource;
      clock: Clock;
      latencyMs: number;
      /** Kestrel's record of an order (orders/fills tables), for orders the store does not have. */
      recorded: (clientOrderId: string) => Promise<OrderStateWire | undefined>;
      /** How the order's latency is waited out (default: wall time; a lockstep replay waits in market time). */
      orderLatency?: (ms: number, order: OrderRequestWire) => Promise<void>;
      /** A book `books` does not hold (another process owns its partition): the owner's latest copy, e.g. from Redis. */
      sharedBook?: (market: string) => Promise<MatchingBook | undefined>;
      log?: (line: string) => void;
    },
  ) {}

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => {});
    return run;
  }

  /** The market's book as this process holds it now, copied: the store may run a change again after the live book moved. */
  private localBook(market: string): MatchingBook | undefined {
    const live = this.deps.books.book(market);
    return live && frozenBook(live);
  }

  /** The book an order meets: this process's own, else the partition owner's shared copy. */
  private async bookNow(market: string): Promise<MatchingBook | undefined> {
    return this.localBook(market) ?? (await this.deps.sharedBook?.(market));
  }

  async submit(req: OrderRequestWire): Promise<OrderStateWire> {
    const known = await this.serial(() => this.store.order(req.clientOrderId));
    if (known) return this.wire(known);
    const before = await this.fromEarlierProcess(req.clientOrderId);
    if (before) return before;
    // What a venue refuses outright (Kalshi: 400) is an error, not an order.
    if (!(Number(req.size) > 0)) throw new InvalidOrder(`order ${req.clientOrderId}: size must be positive, got ${req.size}`);
    if (!(Number(req.limitPrice) > 0 && Number(req.limitPrice) < 1)) throw new InvalidOrder(`order ${req.clientOrderId}: limit price must be inside (0, 1), got ${req.limitPrice}`);
    if (this.deps.latencyMs > 0) await (this.deps.orderLatency ?? defaultSleep)(this.deps.latencyMs, req);
    this.requests.set(req.clientOrderId, req);
    const request: SimOrderRequest = { clientOrderId: req.clientOrderId, market: req.market, outcome: req.outcome, action: req.action, limitPrice: priceUnits(req.limitPrice), size: sizeUnits(req.size), tif: req.tif, postOnly: req.postOnly };
    const state = await this.serial(async () => {
      const book = await this.bookNow(req.market);
      const nowMs = this.deps.clock.nowMs();
      return this.store.update(req.market, req.clientOrderId, (engine) => {
        // A concurrent submit of the same id (a retry on another process) already placed it: no second order.
        const existing = engine.orders.get(req.clientOrderId);
        if (existing) return existing;
        if (book) return engine.submit(request, book, nowMs);
        const rejected: SimOrderState = { request, status: 'rejected', filled: 0, fills: [], queueAhead: 0, rejectReason: `no market data for ${req.market}`, createdMs: nowMs };
        engine.orders.set(req.clientOrderId, rejected);
        return rejected;
      });
    });
    return this.wire(state);
  }

  /** Current state; resting orders advance as market data arrives (see onMarketEvents). */
  async get(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const stored = await this.serial(() => this.store.order(clientOrderId));
    return stored ? this.wire(stored) : this.fromEarlierProcess(clientOrderId);
  }

  async cancel(clientOrderId: string): Promise<OrderStateWire> {
    const state = await this.serial(async () => {
      const stored = await this.store.order(clientOrderId);
      return stored && this.store.update(stored.request.market, clientOrderId, (engine) => engine.cancel(clientOrderId)!);
    });
    if (state) return this.wire(state);
    const before = await this.fromEarlierProcess(clientOrderId);
    if (!before) throw new OrderNotFound(`paper exchange has no order ${clientOrderId}`);
    return before;
  }

  async amend(clientOrderId: string, change: OrderAmendment): Promise<OrderStateWire> {
    const stored = await this.serial(() => this.store.order(clientOrderId));
    if (!stored) return this.cancel(clientOrderId);
    // An amendment travels to the exchange like a new order does.
    const sent = this.requests.get(clientOrderId);
    if (this.deps.latencyMs > 0 && sent) await (this.deps.orderLatency ?? defaultSleep)(this.deps.latencyMs, sent);
    const market = stored.request.market;
    const amended = await this.serial(async () => {
      const book = await this.bookNow(market);
      const nowMs = this.deps.clock.nowMs();
      return this.store.update(market, clientOrderId, (engine) => engine.amend(clientOrderId, { limitPrice: priceUnits(change.limitPrice), size: sizeUnits(change.size) }, book, nowMs)!);
    });
    return this.wire(amended);
  }

  async decrease(clientOrderId: string, reduceBy: string): Promise<OrderStateWire> {
    const reduce = sizeUnits(reduceBy);
    const state = await this.serial(async () => {
      const stored = await this.store.order(clientOrderId);
      return stored && this.store.update(stored.request.market, clientOrderId, (engine) => engine.decrease(clientOrderId, reduce)!);
    });
    return state ? this.wire(state) : this.cancel(clientOrderId);
  }

  onOrderUpdate(listener: (state: OrderStateWire) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.queue;
    await this.store.close();
  }

  /**
   * Feeds applied market events to resting orders (queue position, crossing books) and pushes the
   * orders that filled. The books are read now, as the batch left them; the matching itself runs in
   * turn with this process's other calls. Resolves when it is done (a failure is logged: the batch
   * is applied either way, and its resting orders meet the next one).
   */
  onMarketEvents(events: readonly UnitEvent[]): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const byMarket = new Map<string, UnitEvent[]>();
    const books = new Map<string, MatchingBook>();
    for (const e of events) {
      const list = byMarket.get(e.m);
      if (list) list.push(e);
      else byMarket.set(e.m, [e]);
      if (e.t !== 'trade' && !books.has(e.m)) {
        // Market events reach the process that applied them to its books: the local book is the one.
        const book = this.localBook(e.m);
        if (book) books.set(e.m, book);
      }
    }
    return this.serial(async () => {
      for (const market of await this.store.marketsWithRestingOrders([...byMarket.keys()])) {
        const filled = await this.store.update(market, undefined, (engine) => {
          const fills = engine.onMarketEvents(byMarket.get(market)!, (m) => books.get(m), nowMs);
          return [...new Set(fills.map((f) => f.clientOrderId))].map((id) => orderStateWire(engine.orders.get(id)!));
        });
        for (const state of filled) this.emit(state);
      }
    }).catch((err: Error) => this.deps.log?.(`paper exchange: matching ${events.length} market events failed: ${err.message}`));
  }

  private wire(state: SimOrderState): OrderStateWire {
    return { ...orderStateWire(state), venueOrderId: `sim-${state.request.clientOrderId}` };
  }

  private emit(state: OrderStateWire): void {
    for (const listener of this.listeners) listener({ ...state, venueOrderId: `sim-${state.clientOrderId}` });
  }

  /** An order Kestrel recorded that the store no longer has (its state was lost): it rests nowhere any more. */
  private async fromEarlierProcess(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const stored = await this.deps.recorded(clientOrderId);
    if (!stored) return undefined;
    return stored.status === 'resting' ? { ...stored, status: 'canceled' } : stored;
  }
}
