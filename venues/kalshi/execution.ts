import { Dec } from '../../domain/decimal';
import { DuplicateOrder, InvalidOrder, NetworkError, OrderNotFound } from '../../domain/errors';
import type { ExecutionClient, OrderAmendment, VenueCapabilities } from '../../domain/ports';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import type { CreateOrderV2, KalshiFill, KalshiOrder, KalshiRestClient } from './rest-client';

export const KALSHI_CAPABILITIES: VenueCapabilities = {
  venue: 'kalshi',
  sequencedMarketData: true,
  bookUpdates: 'deltas',
  orderTypes: ['limit', 'ioc', 'fok', 'post_only'],
  amend: true,
  batchOrders: true,
  idempotentClientOrderIds: true,
  trading: true,
};

/** What Kestrel knows of one of its orders (the request it sent), to find it at the venue again. */
export interface KalshiOrderRef {
  market: string;
  outcome: 'yes' | 'no';
  action: 'buy' | 'sell';
  venueOrderId?: string;
}

const TIF = { gtc: 'good_till_canceled', ioc: 'immediate_or_cancel', fok: 'fill_or_kill' } as const;
const ONE = new Dec(1);

/**
 * Kalshi quotes every event-market order on the YES book: buying YES or selling NO is a `bid`,
 * selling YES or buying NO an `ask`, and a NO price p is the YES price 1 − p.
 */
export function yesBookOrder(outcome: 'yes' | 'no', action: 'buy' | 'sell', limitPrice: string): { side: 'bid' | 'ask'; price: string } {
  const bid = (outcome === 'yes') === (action === 'buy');
  const price = outcome === 'yes' ? new Dec(limitPrice) : ONE.minus(limitPrice);
  return { side: bid ? 'bid' : 'ask', price: price.toFixed(4) };
}

/** Kalshi counts contracts with two decimals (fractional markets); a finer size cannot be sent. */
function kalshiCount(size: string): string {
  const d = new Dec(size);
  if (!d.eq(d.toDecimalPlaces(2))) throw new InvalidOrder(`size ${size} has more than 2 decimals (Kalshi's contract grid)`);
  return d.toFixed(2);
}

export function toCreateOrderV2(req: OrderRequestWire): CreateOrderV2 {
  const { side, price } = yesBookOrder(req.outcome, req.action, req.limitPrice);
  return {
    ticker: req.market,
    client_order_id: req.clientOrderId,
    side,
    count: kalshiCount(req.size),
    price,
    time_in_force: TIF[req.tif],
    self_trade_prevention_type: 'taker_at_cross',
    post_only: req.postOnly,
    reduce_only: req.reduceOnly,
  };
}

/** A Kalshi order and its fills in Kestrel's order model, prices in the held outcome's terms. */
export function fromKalshiOrder(clientOrderId: string, outcome: 'yes' | 'no', order: KalshiOrder, fills: readonly KalshiFill[]): OrderStateWire {
  const filled = new Dec(order.fill_count_fp);
  const ours = fills.filter((f) => f.order_id === order.order_id).sort((a, b) => fillTimeMs(a) - fillTimeMs(b) || a.fill_id.localeCompare(b.fill_id));
  const price = (f: KalshiFill) => (outcome === 'yes' ? f.yes_price_dollars : f.no_price_dollars);
  const notional = ours.reduce((n, f) => n.plus(new Dec(f.count_fp).times(price(f))), new Dec(0));
  const fillCount = ours.reduce((n, f) => n.plus(f.count_fp), new Dec(0));
  const status = order.status === 'resting' ? 'resting' : order.status === 'executed' ? 'filled' : 'canceled';
  const size = order.status === 'resting' ? filled.plus(order.remaining_count_fp) : Dec.max(new Dec(order.initial_count_fp), filled);
  return {
    clientOrderId,
    venueOrderId: order.order_id,
    status,
    size: size.toFixed(6),
    filled: filled.toFixed(6),
    averagePrice: fillCount.gt(0) ? notional.div(fillCount).toFixed(6) : undefined,
    // The venue's own fee figures (taker + maker), never our formula.
    fees: new Dec(order.taker_fees_dollars).plus(order.maker_fees_dollars).toFixed(6),
    fills: ours.map((f) => ({ price: new Dec(price(f)).toFixed(4), size: new Dec(f.count_fp).toFixed(6), liquidity: f.is_taker ? 'taker' : 'maker', fee: new Dec(f.fee_cost).toFixed(6), tsMs: fillTimeMs(f) })),
  };
}

function fillTimeMs(f: KalshiFill): number {
  if (typeof f.ts === 'number') return f.ts * 1000;
  const parsed = f.created_time ? Date.parse(f.created_time) : NaN;
  return Number.isFinite(parsed) ? parsed : 0;
}

/**
 * Kalshi behind the ExecutionClient port, on the V2 order endpoints. Every call is keyed by the
 * client order id; the venue order id is learned from the venue. A create whose outcome is unknown
 * (timeout, 5xx, connection lost) or refused as a duplicate is looked up before anything else
 * happens, so retries never make a second venue order. Order updates are pushed by polling the
 * orders that rest (`pollMs`).
 */
export class KalshiExecutionClient implements ExecutionClient {
  readonly venue = 'kalshi' as const;
  readonly capabilities = KALSHI_CAPABILITIES;
  private readonly refs = new Map<string, KalshiOrderRef>();
  private readonly listeners = new Set<(state: OrderStateWire) => void>();
  private readonly watched = new Map<string, string>();
  private poller: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly rest: KalshiRestClient,
    private readonly deps: {
      /** Kestrel's record of an order it sent (after a restart the in-memory refs are gone). */
      orderRef: (clientOrderId: string) => Promise<KalshiOrderRef | undefined>;
      pollMs?: number;
      log?: (line: string) => void;
    },
  ) {}

  async submit(req: OrderRequestWire): Promise<OrderStateWire> {
    this.refs.set(req.clientOrderId, { market: req.market, outcome: req.outcome, action: req.action });
    const body = toCreateOrderV2(req);
    try {
      const created = await this.rest.createOrder(body);
      this.refs.get(req.clientOrderId)!.venueOrderId = created.order_id;
    } catch (err) {
      if (!(err instanceof NetworkError) && !(err instanceof DuplicateOrder)) throw err;
      // The venue may have the order: find it before anything is sent again.
      const existing = await this.get(req.clientOrderId);
      if (existing) {
        this.deps.log?.(`order ${req.clientOrderId}: ${err.constructor.name} on create, found at the venue as ${existing.venueOrderId} (${existing.status})`);
        return this.track(existing);
      }
      throw err;
    }
    const state = await this.get(req.clientOrderId);
    if (!state) throw new NetworkError(`order ${req.clientOrderId} was accepted but cannot be read back`);
    return this.track(state);
  }

  async get(clientOrderId: string): Promise<OrderStateWire | undefined> {
    const ref = this.refs.get(clientOrderId) ?? (await this.deps.orderRef(clientOrderId));
    if (!ref) return undefined;
    this.refs.set(clientOrderId, ref);
    const order = ref.venueOrderId ? await this.rest.order(ref.venueOrderId).catch((err: unknown) => (err instanceof OrderNotFound ? undefined : Promise.reject(err))) : await this.findByClientOrderId(clientOrderId, ref);
    if (!order) return undefined;
    ref.venueOrderId = order.order_id;
    const fills: KalshiFill[] = [];
    if (new Dec(order.fill_count_fp).gt(0)) for await (const f of this.rest.fills({ order_id: order.order_id })) fills.push(f);
    return fromKalshiOrder(clientOrderId, ref.outcome, order, fills);
  }

  async cancel(clientOrderId: string): Promise<OrderStateWire> {
    const state = await this.known(clientOrderId);
    if (state.status !== 'resting') return state;
    await this.rest.cancelOrder(state.venueOrderId!).catch((err: unknown) => {
      // Filled or canceled meanwhile: the state read below says which.
      if (!(err instanceof OrderNotFound)) throw err;
    });
    return this.track(await this.known(clientOrderId));
  }

  async amend(clientOrderId: string, change: OrderAmendment): Promise<OrderStateWire> {
    const state = await this.known(clientOrderId);
    if (state.status !== 'resting') return state;
    const ref = this.refs.get(clientOrderId)!;
    const { side, price } = yesBookOrder(ref.outcome, ref.action, change.limitPrice);
    await this.rest.amendOrder(state.venueOrderId!, { ticker: ref.market, side, price, count: kalshiCount(change.size) });
    return this.track(await this.known(clientOrderId));
  }

  async decrease(clientOrderId: string, reduceBy: string): Promise<OrderStateWire> {
    const state = await this.known(clientOrderId);
    if (state.status !== 'resting') return state;
    await this.rest.decreaseOrder(state.venueOrderId!, kalshiCount(reduceBy));
    return this.track(await this.known(clientOrderId));
  }

  onOrderUpdate(listener: (state: OrderStateWire) => void): () => void {
    this.listeners.add(listener);
    this.poller ??= setInterval(() => void this.poll(), this.deps.pollMs ?? 1000);
    this.poller.unref();
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.poller);
    this.poller = undefined;
    this.listeners.clear();
  }

  private async known(clientOrderId: string): Promise<OrderStateWire> {
    const state = await this.get(clientOrderId);
    if (!state) throw new OrderNotFound(`Kalshi has no order ${clientOrderId}`);
    return state;
  }

  /**
   * Without its venue id (the create's answer was lost), an order is found among our orders in its
   * market (no time filter: the venue's clock need not be ours).
   */
  private async findByClientOrderId(clientOrderId: string, ref: KalshiOrderRef): Promise<KalshiOrder | undefined> {
    for await (const order of this.rest.orders({ ticker: ref.market })) if (order.client_order_id === clientOrderId) return order;
    return undefined;
  }

  private track(state: OrderStateWire): OrderStateWire {
    const fingerprint = `${state.status}|${state.filled}`;
    if (state.status === 'resting') this.watched.set(state.clientOrderId, fingerprint);
    else this.watched.delete(state.clientOrderId);
    return state;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.listeners.size === 0) return;
    this.polling = true;
    try {
      for (const [id, before] of [...this.watched]) {
        const state = await this.get(id).catch((err: Error) => void this.deps.log?.(`polling order ${id} failed: ${err.message}`));
        if (!state) continue;
        this.track(state);
        if (`${state.status}|${state.filled}` !== before) for (const listener of this.listeners) listener(state);
      }
    } finally {
      this.polling = false;
    }
  }
}
