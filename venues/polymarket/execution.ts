import { z } from 'zod';
import type { SignedOrder } from '@polymarket/clob-client';
import { ApiError } from '@polymarket/clob-client';
import { Dec } from '../../domain/decimal';
import { DuplicateOrder, ExchangeNotAvailable, InvalidOrder, OrderNotFound, type VenueError } from '../../domain/errors';
import type { ExecutionClient, OrderAmendment, VenueCapabilities } from '../../domain/ports';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import { polymarketErrorFor } from './errors';
import { PolymarketFillLedger } from './fills';
import { signPolymarketOrder, type PolymarketMarketRules, type PolymarketSigningAccount } from './order-signing';
import { parsePolymarketUserMessage, type PolymarketOrderStatus } from './user-messages';
import { POLYMARKET_CAPABILITIES } from './ws-client';

export const POLYMARKET_TRADING_CAPABILITIES: VenueCapabilities = {
  ...POLYMARKET_CAPABILITIES,
  orderTypes: ['limit', 'ioc', 'fok', 'post_only'],
  amend: false,
  // The venue has no client order id, but an order signed from the same client order id has the
  // same hash, which is its venue id: a resend is found before it is sent, and refused if sent.
  idempotentClientOrderIds: true,
  trading: true,
};

/** The calls Kestrel makes on the official `ClobClient` (constructed with `throwOnError`). */
export interface PolymarketClobApi {
  postOrder(order: SignedOrder, orderType?: string, deferExec?: boolean, postOnly?: boolean): Promise<unknown>;
  getOrder(orderID: string): Promise<unknown>;
  cancelOrder(payload: { orderID: string }): Promise<unknown>;
  postHeartbeat(heartbeatId?: string | null): Promise<unknown>;
  /** The account's trades (GET /data/trades): the fills of an order whose user-channel messages were missed (a restart, a reconnect). */
  getTrades?(params: { id?: string }, onlyFirstPage?: boolean): Promise<unknown>;
}

/** Where the venue order id of each client order id is kept: written before the order is sent, so a crash mid-send still finds it. */
export interface PolymarketOrderIdStore {
  get(clientOrderId: string): Promise<{ orderId: string; size: string } | undefined>;
  set(clientOrderId: string, entry: { orderId: string; size: string }): Promise<void>;
}

export class InMemoryOrderIdStore implements PolymarketOrderIdStore {
  private readonly ids = new Map<string, { orderId: string; size: string }>();
  get(clientOrderId: string) {
    return Promise.resolve(this.ids.get(clientOrderId));
  }
  set(clientOrderId: string, entry: { orderId: string; size: string }) {
    this.ids.set(clientOrderId, entry);
    return Promise.resolve();
  }
}

const postResponseSchema = z.object({ success: z.boolean(), errorMsg: z.string().nullish(), orderID: z.string().nullish(), status: z.string().nullish() }).passthrough();
const openOrderSchema = z.object({ id: z.string(), status: z.string(), original_size: z.string(), size_matched: z.string(), price: z.string(), associate_trades: z.array(z.string()).nullish() }).passthrough();

/** A FOK or FAK that found nothing to match is killed: the venue answers it as an error, Kestrel as a cancelled order. */
const KILLED = /FOK_ORDER_NOT_FILLED_ERROR|couldn't be fully filled|no orders found to match/i;

interface TrackedOrder {
  clientOrderId: string;
  orderId: string;
  size: string;
  /** The venue's word: REST status, user-channel status, or our reading of a refusal. */
  venueStatus: PolymarketOrderStatus;
  /** Shares the venue reports matched (order messages, REST); fills from trades take precedence. */
  sizeMatched: string;
  rejectReason?: string;
}

/**
 * Polymarket behind the ExecutionClient port, through the official `@polymarket/clob-client`:
 * orders are signed by its EIP-712 order builder (see order-signing.ts) and sent, looked up and
 * cancelled by its `ClobClient`. Fills and order states come from the user channel
 * (`applyUserMessage`): a trade adds its fill when MATCHED and takes it back if it ends FAILED.
 *
 * Heartbeats: while running, one is sent every `heartbeatMs` (the venue cancels every open order
 * when 10 s pass without one, so open orders die with Kestrel). When a heartbeat fails, trading
 * stops (`submit` refuses, retryably) until a new heartbeat chain is accepted.
 */
export class PolymarketExecutionClient implements ExecutionClient {
  readonly venue = 'polymarket' as const;
  readonly capabilities = POLYMARKET_TRADING_CAPABILITIES;
  private readonly orders = new Map<string, TrackedOrder>();
  private readonly byOrderId = new Map<string, TrackedOrder>();
  private readonly ledger = new PolymarketFillLedger((orderId) => this.byOrderId.has(orderId));
  private readonly listeners = new Set<(state: OrderStateWire) => void>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatId: string | null = null;
  private stoppedBecause: string | undefined;
  private closed = false;
  readonly counters = { posts: 0, lookups: 0, heartbeats: 0, heartbeatFailures: 0, malformedUserMessages: 0 };

  constructor(
    private readonly opts: {
      api: PolymarketClobApi;
      account: PolymarketSigningAccount;
      /** The market's tokens, live tick, neg-risk flag and fee rate. */
      rules: (market: string) => Promise<PolymarketMarketRules>;
      orderIds?: PolymarketOrderIdStore;
      heartbeatMs?: number;
      log?: (line: string) => void;
      /** What else closes with the client (the factory's user channel and order-id store). */
      onClose?: () => Promise<void>;
    },
  ) {}

  private get orderIds(): PolymarketOrderIdStore {
    return (this.opts.orderIds ??= new InMemoryOrderIdStore());
  }

  /** Why trading is stopped (the last heartbeat failed), if it is. */
  get tradingStopped(): string | undefined {
    return this.stoppedBecause;
  }

  /** Starts the heartbeat chain; the first beat is sent at once. */
  async startHeartbeats(): Promise<void> {
    if (this.closed) return;
    await this.beat();
    // Closed while the first beat was on its way: no chain to keep.
    if (this.closed) return;
    this.heartbeatTimer ??= setInterval(() => void this.beat(), this.opts.heartbeatMs ?? 5_000);
  }

  private async beat(): Promise<void> {
    try {
      const answer = (await this.opts.api.postHeartbeat(this.heartbeatId)) as { heartbeat_id?: unknown } | null;
      if (typeof answer?.heartbeat_id !== 'string') throw new Error(`heartbeat answered without a heartbeat_id: ${JSON.stringify(answer).slice(0, 200)}`);
      this.heartbeatId = answer.heartbeat_id;
      this.counters.heartbeats++;
      if (this.stoppedBecause) this.opts.log?.(`polymarket heartbeat accepted again; trading resumes (stopped: ${this.stoppedBecause})`);
      this.stoppedBecause = undefined;
    } catch (err) {
      this.counters.heartbeatFailures++;
      // The venue may cancel everything that rests; until a new chain is accepted nothing is sent.
      this.heartbeatId = null;
      this.stoppedBecause = `heartbeat failed: ${this.venueError(err, 'POST /v1/heartbeats').message}`;
      this.opts.log?.(`polymarket ${this.stoppedBecause}; trading stopped`);
    }
  }

  async submit(order: OrderRequestWire): Promise<OrderStateWire> {
    if (this.stoppedBecause) throw new ExchangeNotAvailable(`Polymarket trading is stopped: ${this.stoppedBecause}`);
    const already = this.orders.get(order.clientOrderId);
    if (already) return this.stateOf(already);
    const signed = await signPolymarketOrder(order, await this.opts.rules(order.market), this.opts.account);
    await this.orderIds.set(order.clientOrderId, { orderId: signed.orderId, size: order.size });
    // A resend after a crash or a lost answer: the venue may have the order already.
    const existing = await this.lookup(order.clientOrderId, signed.orderId, order.size);
    if (existing) return existing;
    let answer: unknown;
    try {
      this.counters.posts++;
      answer = await this.opts.api.postOrder(signed.order, signed.orderType, false, signed.postOnly);
    } catch (err) {
      const error = this.venueError(err, 'POST /order');
      if (KILLED.test(error.message)) return this.track(order.clientOrderId, signed.orderId, order.size, 'CANCELED', '0', error.message);
      if (error instanceof DuplicateOrder) {
        const found = await this.lookup(order.clientOrderId, signed.orderId, order.size);
        if (found) return found;
      }
      throw error;
    }
    const parsed = postResponseSchema.safeParse(answer);
    if (!parsed.success) throw new ExchangeNotAvailable(`POST /order: unreadable answer ${JSON.stringify(answer).slice(0, 300)}`);
    const { success, errorMsg, orderID, status } = parsed.data;
    if (!success) {
      if (KILLED.test(errorMsg ?? '')) return this.track(order.clientOrderId, signed.orderId, order.size, 'CANCELED', '0', errorMsg ?? undefined);
      throw polymarketErrorFor(200, parsed.data, 'POST /order');
    }
    if (orderID && orderID.toLowerCase() !== signed.orderId.toLowerCase()) throw new InvalidOrder(`POST /order: the venue names the order ${orderID}, signed as ${signed.orderId}`);
    // live, delayed and unmatched rest (or wait to); matched filled at once, and the user channel brings the trades.
    const venueStatus: PolymarketOrderStatus = status?.toLowerCase() === 'matched' ? 'MATCHED' : status?.toLowerCase() === 'delayed' ? 'DELAYED' : 'LIVE';
    const placed = this.track(order.clientOrderId, signed.orderId, order.size, venueStatus, venueStatus === 'MATCHED' ? order.size : '0');
    // Matched at once: its fills (prices, fees) are the trades; read them now rather than leave the answer without them.
    if (venueStatus === 'MATCHED' && placed.fills.length === 0 && this.opts.api.getTrades) return (await this.lookup(order.clientOrderId, signed.orderId, order.size)) ?? placed;
    return placed;
  }

  async get(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const tracked = this.orders.get(clientOrderId);
    const stored = tracked ? { orderId: tracked.orderId, size: tracked.size } : await this.orderIds.get(clientOrderId);
    if (!stored) return undefined;
    return this.lookup(clientOrderId, stored.orderId, stored.size);
  }

  async cancel(clientOrderId: string): Promise<OrderStateWire> {
    const tracked = this.orders.get(clientOrderId);
    const stored = tracked ? { orderId: tracked.orderId, size: tracked.size } : await this.orderIds.get(clientOrderId);
    if (!stored) throw new OrderNotFound(`no Polymarket order under client order id ${clientOrderId}`);
    let answer: unknown;
    try {
      answer = await this.opts.api.cancelOrder({ orderID: stored.orderId });
    } catch (err) {
      throw this.venueError(err, 'DELETE /order');
    }
    const result = z.object({ canceled: z.array(z.string()), not_canceled: z.record(z.string(), z.string()) }).safeParse(answer);
    const state = await this.lookup(clientOrderId, stored.orderId, stored.size);
    if (!state) throw new OrderNotFound(`the venue has no order ${stored.orderId} (client order id ${clientOrderId})`);
    if (result.success && result.data.canceled.some((id) => id.toLowerCase() === stored.orderId.toLowerCase())) {
      const order = this.orders.get(clientOrderId)!;
      order.venueStatus = 'CANCELED';
      return this.stateOf(order);
    }
    return state;
  }

  amend(clientOrderId: string, _change: OrderAmendment): Promise<OrderStateWire> {
    return Promise.reject(new InvalidOrder(`Polymarket cannot amend an order (${clientOrderId}): cancel it and place another`));
  }

  decrease(clientOrderId: string, _reduceBy: string): Promise<OrderStateWire> {
    return Promise.reject(new InvalidOrder(`Polymarket cannot decrease an order (${clientOrderId}): cancel it and place another`));
  }

  onOrderUpdate(listener: (state: OrderStateWire) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * One user-channel message: an order message updates its order's status and matched size, a
   * trade message adds, confirms or takes back fills. Messages about orders we do not know are
   * skipped; a malformed one is counted and reported, never thrown.
   */
  applyUserMessage(msg: unknown): { ok: true; updated: string[] } | { ok: false; error: string } {
    const parsed = parsePolymarketUserMessage(msg);
    if (!parsed.ok) {
      this.counters.malformedUserMessages++;
      return parsed;
    }
    const touched = new Set<TrackedOrder>();
    if (parsed.value.kind === 'order') {
      const o = parsed.value.order;
      const tracked = this.byOrderId.get(o.id);
      if (tracked) {
        tracked.venueStatus = o.status.status;
        tracked.sizeMatched = o.size_matched;
        if (o.status.reason) tracked.rejectReason = o.status.reason;
        touched.add(tracked);
      }
    } else if (parsed.value.kind === 'trade') {
      for (const change of this.ledger.apply(parsed.value.trade)) if (change.kind !== 'ignored') touched.add(this.byOrderId.get(change.fill.orderId)!);
    }
    for (const order of touched) this.emit(this.stateOf(order));
    return { ok: true, updated: [...touched].map((o) => o.clientOrderId) };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    await this.opts.onClose?.();
  }

  /** The venue's order under its id, tracked from now on; undefined when the venue has none. */
  private async lookup(clientOrderId: string, orderId: string, size: string): Promise<OrderStateWire | undefined> {
    this.counters.lookups++;
    let answer: unknown;
    try {
      answer = await this.opts.api.getOrder(orderId);
    } catch (err) {
      const error = this.venueError(err, `GET /data/order/${orderId}`);
      if (error instanceof OrderNotFound) return undefined;
      throw error;
    }
    if (answer === null || answer === undefined || answer === '' || (typeof answer === 'object' && Object.keys(answer).length === 0)) return undefined;
    const parsed = openOrderSchema.safeParse(answer);
    if (!parsed.success) throw new ExchangeNotAvailable(`GET /data/order/${orderId}: unreadable answer ${JSON.stringify(answer).slice(0, 300)}`);
    const status = parsed.data.status.toUpperCase();
    const venueStatus = (['LIVE', 'MATCHED', 'DELAYED', 'UNMATCHED', 'CANCELED', 'INVALID'] as const).find((s) => status === s || status.startsWith(`${s}_`)) ?? 'LIVE';
    const state = this.track(clientOrderId, orderId, size, venueStatus, parsed.data.size_matched);
    if (new Dec(parsed.data.size_matched || '0').gt(state.filled) || (new Dec(state.filled).gt(0) && state.fills.length === 0)) await this.readTrades(orderId, parsed.data.associate_trades ?? []);
    return this.stateOf(this.orders.get(clientOrderId)!);
  }

  /**
   * The order's trades from REST that the ledger has not seen (the user channel's messages were
   * missed: sent before a restart, or while disconnected), applied as trade messages. A failure is
   * logged: the order keeps the venue's matched size, and its fills come with the next look.
   */
  private async readTrades(orderId: string, tradeIds: readonly string[]): Promise<void> {
    const api = this.opts.api;
    if (!api.getTrades) return;
    for (const id of tradeIds.filter((t) => !this.ledger.knowsTrade(t, orderId))) {
      try {
        const trades = await api.getTrades({ id }, true);
        for (const trade of Array.isArray(trades) ? (trades as Record<string, unknown>[]) : []) {
          const applied = this.ledger.applyMessage({ event_type: 'trade', ...trade });
          if (!applied.ok) this.opts.log?.(`polymarket trade ${id} of order ${orderId} unreadable: ${applied.error}`);
        }
      } catch (err) {
        this.opts.log?.(`polymarket trades of order ${orderId}: GET /data/trades?id=${id} failed: ${this.venueError(err, 'GET /data/trades').message}`);
      }
    }
  }

  private track(clientOrderId: string, orderId: string, size: string, venueStatus: PolymarketOrderStatus, sizeMatched: string, rejectReason?: string): OrderStateWire {
    const tracked: TrackedOrder = this.orders.get(clientOrderId) ?? { clientOrderId, orderId, size, venueStatus, sizeMatched };
    tracked.venueStatus = venueStatus;
    tracked.sizeMatched = sizeMatched;
    if (rejectReason) tracked.rejectReason = rejectReason;
    this.orders.set(clientOrderId, tracked);
    this.byOrderId.set(orderId, tracked);
    return this.stateOf(tracked);
  }

  /**
   * Kestrel's state of an order: filled from its standing fills (the user channel's trades) when it
   * has any, else from the venue's matched size; a FAILED trade's fill does not count, so an order
   * the venue called matched can come back as cancelled with less (or nothing) filled.
   */
  private stateOf(order: TrackedOrder): OrderStateWire {
    const fills = this.ledger.fillsOf(order.orderId).map((f) => f.fill);
    const everFilled = this.ledger.seen(order.orderId);
    const filled = everFilled ? fills.reduce((sum, f) => sum.plus(f.size), new Dec(0)) : new Dec(order.sizeMatched || '0');
    const size = new Dec(order.size);
    const fees = fills.reduce((sum, f) => sum.plus(f.fee), new Dec(0));
    const notional = fills.reduce((sum, f) => sum.plus(new Dec(f.size).times(f.price)), new Dec(0));
    const open = order.venueStatus === 'LIVE' || order.venueStatus === 'DELAYED' || order.venueStatus === 'UNMATCHED';
    const status: OrderStateWire['status'] = filled.gte(size) ? 'filled' : open ? 'resting' : 'canceled';
    return {
      clientOrderId: order.clientOrderId,
      venueOrderId: order.orderId,
      status,
      size: size.toFixed(6),
      filled: filled.toFixed(6),
      // Six places, as the paper exchange reports it (a fill across levels averages off the tick).
      averagePrice: fills.length && filled.gt(0) ? notional.div(filled).toFixed(6) : undefined,
      fees: fees.toFixed(5),
      fills,
      rejectReason: order.rejectReason,
    };
  }

  private emit(state: OrderStateWire): void {
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (err) {
        this.opts.log?.(`order update listener failed: ${(err as Error).message}`);
      }
    }
  }

  /** The official client's ApiError (or a network failure) as a typed venue error. */
  private venueError(err: unknown, context: string): VenueError {
    if (err instanceof ApiError && err.status !== undefined) {
      const data = err.data as { error?: unknown } | undefined;
      const body = data && typeof data.error === 'object' && data.error !== null ? data.error : (data ?? err.message);
      return polymarketErrorFor(err.status, body, context);
    }
    if (err instanceof Error && 'retryable' in err) return err as VenueError;
    // No answer at all: the outcome is unknown, so the order is looked up before any resend.
    return new ExchangeNotAvailable(`${context}: ${(err as Error)?.message ?? String(err)}`);
  }
}
