import { Dec } from '../../domain/decimal';
import { DuplicateOrder, InvalidOrder, NetworkError, OrderNotFound } from '../../domain/errors';
import { kalshiOrderFeeDifferences, type FeeDifference, type KalshiFeeTerms } from '../../domain/fees';
import { CENT_GRID, snapToPriceGrid, type PriceRange } from '../../domain/trading/price-grid';
import type { ExecutionClient, OrderAmendment, VenueCapabilities } from '../../domain/ports';
import type { OrderRequestWire, OrderStateWire } from '../../domain/trading/wire';
import type { Clock } from '../../domain/clock';
import type { CreateOrderV2, KalshiFill, KalshiOrder, KalshiRestClient } from './rest-client';
import type { KalshiCredentials } from './signing';
import { toInstrument } from './providers';
import { KalshiWsClient } from './ws-client';
import type { KalshiChannelMessage } from './ws-messages';

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

/** Kalshi's order status in Kestrel's terms: an order that no longer rests and did not execute was canceled. */
function orderStatus(status: string): 'resting' | 'filled' | 'canceled' {
  return status === 'resting' ? 'resting' : status === 'executed' ? 'filled' : 'canceled';
}

/** A Kalshi order and its fills in Kestrel's order model, prices in the held outcome's terms. */
export function fromKalshiOrder(clientOrderId: string, outcome: 'yes' | 'no', order: KalshiOrder, fills: readonly KalshiFill[]): OrderStateWire {
  const filled = new Dec(order.fill_count_fp);
  const ours = fills.filter((f) => f.order_id === order.order_id).sort((a, b) => fillTimeMs(a) - fillTimeMs(b) || a.fill_id.localeCompare(b.fill_id));
  const price = (f: KalshiFill) => (outcome === 'yes' ? f.yes_price_dollars : f.no_price_dollars);
  const notional = ours.reduce((n, f) => n.plus(new Dec(f.count_fp).times(price(f))), new Dec(0));
  const fillCount = ours.reduce((n, f) => n.plus(f.count_fp), new Dec(0));
  const status = orderStatus(order.status);
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

/** What the execution client hears from a source of pushed order news (Kalshi's private channels). */
export interface KalshiOrderFeedHandlers {
  onMessage(message: KalshiChannelMessage): void;
  onMalformed(raw: string, error: string): void;
  /** Pushed news flows: after the first subscribe, and again after every reconnect (anything meanwhile was missed). */
  onUp(): void;
  /** Pushed news stopped (connection lost, or a subscription could not be restored). */
  onDown(reason: string): void;
}

/** Kalshi's `fill` and `user_orders` channels, or a stand-in for them in tests. */
export interface KalshiOrderFeed {
  /** Starts connecting; never throws: failures are `onDown` and retried until `close`. */
  start(handlers: KalshiOrderFeedHandlers): Promise<void>;
  close(): Promise<void>;
}

const ORDER_CHANNELS = ['fill', 'user_orders'];

/**
 * The private order channels over Kalshi's signed WebSocket (every market: no ticker filter). The
 * WS client reconnects and resubscribes by itself; a first connect or a restore that fails is
 * retried here from a fresh client, with backoff.
 */
export class KalshiWsOrderFeed implements KalshiOrderFeed {
  private ws: KalshiWsClient | undefined;
  private handlers: KalshiOrderFeedHandlers | undefined;
  private retry: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly opts: {
      url: string;
      credentials: KalshiCredentials;
      clock: Clock;
      log?: (line: string) => void;
      reconnect?: { initialMs: number; maxMs: number };
      heartbeatTimeoutMs?: number;
    },
  ) {}

  /** The underlying client's counters (connects, messages, malformed), for tests and metrics. */
  get counters() {
    return this.ws?.counters;
  }

  async start(handlers: KalshiOrderFeedHandlers): Promise<void> {
    this.handlers = handlers;
    this.closed = false;
    await this.open();
  }

  private async open(): Promise<void> {
    const h = this.handlers!;
    const ws = new KalshiWsClient({
      url: this.opts.url,
      credentials: this.opts.credentials,
      clock: this.opts.clock,
      reconnect: this.opts.reconnect,
      heartbeatTimeoutMs: this.opts.heartbeatTimeoutMs,
      // Order channels carry no book data.
      onEvent: () => {},
      onOther: (message) => h.onMessage(message),
      onMalformed: (raw, error) => h.onMalformed(raw, error),
      onDisconnect: (reason) => h.onDown(reason),
      onRestored: (failed) => {
        if (failed === 0) return h.onUp();
        h.onDown(`${failed} order channel subscription(s) could not be restored`);
        this.replace(ws, 'restoring the subscription failed');
      },
      log: (line) => this.opts.log?.(`kalshi order feed: ${line}`),
    });
    this.ws = ws;
    try {
      await ws.connect();
      await ws.subscribe(ORDER_CHANNELS, []);
      this.attempt = 0;
      if (this.closed || ws !== this.ws) return;
      h.onUp();
    } catch (err) {
      if (this.closed || ws !== this.ws) return;
      h.onDown((err as Error).message);
      this.replace(ws, (err as Error).message);
    }
  }

  /** Drops a client that did not get (or lost) its subscription and opens a fresh one later. */
  private replace(ws: KalshiWsClient, reason: string): void {
    if (this.closed || this.retry || ws !== this.ws) return;
    void ws.close().catch(() => {});
    const { initialMs, maxMs } = this.opts.reconnect ?? { initialMs: 500, maxMs: 30_000 };
    const wait = Math.min(maxMs, initialMs * 2 ** this.attempt++);
    this.opts.log?.(`kalshi order feed: ${reason}; trying again in ${wait} ms`);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (!this.closed) void this.open();
    }, wait);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    await this.ws?.close();
  }
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
 * happens, so retries never make a second venue order.
 *
 * Order updates reach `onOrderUpdate` listeners two ways. With an `orderFeed` (Kalshi's `fill` and
 * `user_orders` WebSocket channels), a message about one of our orders (by venue order id) makes
 * the client re-read that order by REST (order + fills: the venue's fees) and emit it at once. REST
 * polling of resting orders is the fallback: every `pollMs` while the feed is down (or absent),
 * every `feedPollMs` while it is up, and once right after every (re)connect for what was missed.
 * Push and poll share one fingerprint per order, so the same state is never emitted twice.
 */
export class KalshiExecutionClient implements ExecutionClient {
  readonly venue = 'kalshi' as const;
  readonly capabilities = KALSHI_CAPABILITIES;
  private readonly refs = new Map<string, KalshiOrderRef>();
  private readonly listeners = new Set<(state: OrderStateWire) => void>();
  /** Fingerprints of the resting orders the poll re-reads. */
  private readonly watched = new Map<string, string>();
  /** Fingerprints of orders that ended, so a late push or poll does not emit them again. */
  private readonly finished = new Map<string, string>();
  /** Venue order id → client order id, for pushed messages (fills no longer carry our id). */
  private readonly byVenueId = new Map<string, string>();
  /** One re-read per order at a time; a message arriving meanwhile asks for one more. */
  private readonly refreshing = new Map<string, { again: boolean; news: string | undefined; done: Promise<void> }>();
  /** Orders being submitted, and the latest pushed news of them meanwhile (`newsFingerprint`). */
  private readonly submitting = new Map<string, string | undefined>();
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private closed = false;
  private feed: 'none' | 'connecting' | 'up' | 'down' = 'none';
  /** Pushed-order figures: messages used, ignored (not our orders), malformed; states emitted by each path. */
  readonly orderFeedCounters = { messages: 0, ignored: 0, current: 0, malformed: 0, pushEmits: 0, pollEmits: 0, feedUps: 0, feedDowns: 0 };

  constructor(
    private readonly rest: KalshiRestClient,
    private readonly deps: {
      /** Kestrel's record of an order it sent (after a restart the in-memory refs are gone). */
      orderRef: (clientOrderId: string) => Promise<KalshiOrderRef | undefined>;
      pollMs?: number;
      /** Pushed order news; started by the first `onOrderUpdate`, closed by `close`. */
      orderFeed?: KalshiOrderFeed;
      /** The safety-net poll while the feed is up (default 5 × pollMs). */
      feedPollMs?: number;
      log?: (line: string) => void;
      /** Our fee schedule: each fill's venue fee is checked against it once (balance rounding and the order's rebates included), and a difference above $0.0001 reported. */
      fees?: KalshiFeeTerms;
      onFeeDifference?: (difference: FeeDifference & { clientOrderId: string }) => void;
    },
  ) {}

  /** Fills whose fee differed from our formula, since start. */
  feeDifferences = 0;
  private readonly feeChecked = new Set<string>();
  private readonly grids = new Map<string, readonly PriceRange[]>();

  async submit(req: OrderRequestWire): Promise<OrderStateWire> {
    // Pushed news of an order being submitted waits for the submit's own read (no second read meanwhile).
    this.submitting.set(req.clientOrderId, undefined);
    try {
      return await this.submitOnce(req);
    } finally {
      const news = this.submitting.get(req.clientOrderId);
      this.submitting.delete(req.clientOrderId);
      // News the submit's own read did not reflect (a fill right after the create) is read now.
      if (news !== undefined && news !== this.knownFingerprint(req.clientOrderId)) void this.refresh(req.clientOrderId, 'push');
    }
  }

  private async submitOnce(req: OrderRequestWire): Promise<OrderStateWire> {
    this.refs.set(req.clientOrderId, { market: req.market, outcome: req.outcome, action: req.action });
    const body = toCreateOrderV2(req);
    body.price = await this.onGrid(req.market, body.side, body.price, req.clientOrderId);
    try {
      const created = await this.rest.createOrder(body);
      this.refs.get(req.clientOrderId)!.venueOrderId = created.order_id;
      this.learnVenueId(created.order_id, req.clientOrderId);
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
    this.learnVenueId(order.order_id, clientOrderId);
    const fills: KalshiFill[] = [];
    if (new Dec(order.fill_count_fp).gt(0)) for await (const f of this.rest.fills({ order_id: order.order_id })) fills.push(f);
    this.auditFees(clientOrderId, ref, fills);
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
    const onGrid = await this.onGrid(ref.market, side, price, clientOrderId);
    await this.rest.amendOrder(state.venueOrderId!, { ticker: ref.market, side, price: onGrid, count: kalshiCount(change.size) }).catch(async (err: unknown) => {
      // Filled or canceled meanwhile (the venue refuses to amend an order that no longer rests): the read below says which.
      if (!(err instanceof OrderNotFound || err instanceof InvalidOrder) || (await this.known(clientOrderId)).status === 'resting') throw err;
    });
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
    this.closed = false;
    if (!this.poller) this.schedulePoll();
    if (this.deps.orderFeed && this.feed === 'none') this.startFeed(this.deps.orderFeed);
    return () => this.listeners.delete(listener);
  }

  /** Whether pushed order news is flowing ('none': no feed, or no listener yet). */
  get orderFeedStatus(): 'none' | 'connecting' | 'up' | 'down' {
    return this.feed;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.poller);
    this.poller = undefined;
    this.listeners.clear();
    await this.deps.orderFeed?.close().catch((err: Error) => this.deps.log?.(`closing the Kalshi order feed failed: ${err.message}`));
    if (this.feed !== 'none') this.feed = 'down';
    // Re-reads in flight finish before the caller closes what they use.
    await Promise.allSettled([...this.refreshing.values()].map((r) => r.done));
  }

  private startFeed(feed: KalshiOrderFeed): void {
    this.feed = 'connecting';
    void feed
      .start({
        onMessage: (message) => this.onFeedMessage(message),
        onMalformed: (raw, error) => {
          this.orderFeedCounters.malformed++;
          this.deps.log?.(`kalshi order feed: malformed message (${error}): ${raw.slice(0, 300)}`);
        },
        onUp: () => {
          if (this.closed) return;
          this.orderFeedCounters.feedUps++;
          this.feed = 'up';
          // Whatever changed before the subscription was live (or while disconnected) is read now.
          void this.pollNow();
        },
        onDown: (reason) => {
          if (this.closed) return;
          if (this.feed === 'up') this.deps.log?.(`kalshi order feed down (${reason}); polling every ${this.deps.pollMs ?? 1000} ms`);
          this.orderFeedCounters.feedDowns++;
          this.feed = 'down';
          this.schedulePoll();
        },
      })
      .catch((err: Error) => {
        this.feed = 'down';
        this.deps.log?.(`kalshi order feed failed to start: ${err.message}`);
      });
  }

  private onFeedMessage(message: KalshiChannelMessage): void {
    if (this.closed || (message.type !== 'fill' && message.type !== 'user_order')) return;
    let clientOrderId = this.byVenueId.get(message.msg.order_id);
    // An order whose create answer is still on its way is known by our id (user_order carries it; fills no longer do).
    if (clientOrderId === undefined && message.type === 'user_order' && message.msg.client_order_id && this.refs.has(message.msg.client_order_id)) clientOrderId = message.msg.client_order_id;
    if (clientOrderId === undefined) {
      // Not an order this process knows: reconciliation deals with those.
      this.orderFeedCounters.ignored++;
      return;
    }
    this.orderFeedCounters.messages++;
    const news = newsFingerprint(message);
    if (this.submitting.has(clientOrderId)) this.submitting.set(clientOrderId, news);
    // An order update that says what we last saw (the create notice, a cancel we made) needs no read.
    else if (news !== this.knownFingerprint(clientOrderId)) void this.refresh(clientOrderId, 'push', news);
    else this.orderFeedCounters.current++;
  }

  private knownFingerprint(clientOrderId: string): string | undefined {
    return this.watched.get(clientOrderId) ?? this.finished.get(clientOrderId);
  }

  private learnVenueId(venueOrderId: string, clientOrderId: string): void {
    if (this.byVenueId.get(venueOrderId) === clientOrderId) return;
    // Bounded like the fee set: an order's id only has to outlive its life at the venue.
    if (this.byVenueId.size >= 100_000) this.byVenueId.delete(this.byVenueId.keys().next().value!);
    this.byVenueId.set(venueOrderId, clientOrderId);
  }

  /**
   * The YES-book price moved onto the market's price grid (`price_ranges`: cent, deci-cent tails, …),
   * never to a worse price: a bid down, an ask up. The grid is read once per market.
   */
  private async onGrid(market: string, side: 'bid' | 'ask', price: string, clientOrderId: string): Promise<string> {
    let grid = this.grids.get(market);
    if (!grid) {
      for await (const m of this.rest.markets({ tickers: market })) if (m.ticker === market) grid = toInstrument(m).priceGrid;
      // A market the venue does not list cannot take the order; the cent grid lets the venue say so.
      grid ??= CENT_GRID;
      this.grids.set(market, grid);
    }
    const snapped = snapToPriceGrid(new Dec(price), side, grid);
    if (!snapped) throw new InvalidOrder(`${side} at ${price}: not a price on ${market}'s grid (prices are between $0 and $1, on its ticks)`);
    const text = snapped.toFixed(4);
    if (text !== new Dec(price).toFixed(4)) this.deps.log?.(`order ${clientOrderId}: ${side} ${price} is off ${market}'s price grid; sent at ${text}`);
    return text;
  }

  /** The venue's fees are what we book; our formula is the check on them (a schedule change, a series multiplier we lack). */
  private auditFees(clientOrderId: string, ref: KalshiOrderRef, fills: readonly KalshiFill[]): void {
    const terms = this.deps.fees;
    if (!terms || fills.every((f) => this.feeChecked.has(f.fill_id))) return;
    // An order's fills share its fee accumulator: the expected fee of a fill depends on the fills before it.
    const inOrder = [...fills].sort((a, b) => fillTimeMs(a) - fillTimeMs(b) || a.fill_id.localeCompare(b.fill_id));
    const price = (f: KalshiFill) => new Dec(ref.outcome === 'yes' ? f.yes_price_dollars : f.no_price_dollars);
    const differences = kalshiOrderFeeDifferences(
      inOrder.map((f) => ({ fillId: f.fill_id, liquidity: f.is_taker ? 'taker' : 'maker', action: ref.action, contracts: new Dec(f.count_fp), price: price(f), fee: new Dec(f.fee_cost) })),
      terms,
    );
    for (const f of inOrder) {
      if (this.feeChecked.has(f.fill_id)) continue;
      // Fill ids are unique; the set only has to outlive the polls of one order.
      if (this.feeChecked.size >= 100_000) this.feeChecked.clear();
      this.feeChecked.add(f.fill_id);
      const difference = differences.find((d) => d.fillId === f.fill_id);
      if (!difference) continue;
      this.feeDifferences++;
      this.deps.log?.(`order ${clientOrderId}: Kalshi charged ${difference.venueFee} on fill ${f.fill_id} (${difference.contracts} @ ${difference.price}, ${difference.liquidity}); our formula says ${difference.expectedFee}`);
      this.deps.onFeeDifference?.({ ...difference, clientOrderId });
    }
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
    const id = state.clientOrderId;
    const fp = fingerprint(state);
    if (state.status === 'resting') {
      this.watched.set(id, fp);
      this.finished.delete(id);
    } else {
      this.watched.delete(id);
      if (this.finished.size >= 10_000) this.finished.delete(this.finished.keys().next().value!);
      this.finished.set(id, fp);
    }
    return state;
  }

  /**
   * Emits a state read by push or poll unless it is the one last seen, or older than it (reads of
   * one order are serialized, but `submit`/`cancel` read concurrently with them).
   */
  private publish(state: OrderStateWire, source: 'push' | 'poll'): void {
    const before = this.knownFingerprint(state.clientOrderId);
    const fp = fingerprint(state);
    if (before === fp || (before !== undefined && isOlder(state, before))) return;
    this.track(state);
    if (this.closed) return;
    this.orderFeedCounters[source === 'push' ? 'pushEmits' : 'pollEmits']++;
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (err) {
        this.deps.log?.(`order update listener failed on ${state.clientOrderId}: ${(err as Error).message}`);
      }
    }
  }

  /**
   * Re-reads one order and publishes it. A request while a read is in flight runs one more read
   * after it, unless its news (`newsFingerprint`) is what that read found: a fill and its
   * user_order arrive together, and one read answers both.
   */
  private refresh(clientOrderId: string, source: 'push' | 'poll', news?: string): Promise<void> {
    const running = this.refreshing.get(clientOrderId);
    if (running) {
      running.again = true;
      running.news = news;
      return running.done;
    }
    const entry = { again: false, news: undefined as string | undefined, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          entry.news = undefined;
          const state = await this.get(clientOrderId).catch((err: Error) => void this.deps.log?.(`reading order ${clientOrderId} (${source}) failed: ${err.message}`));
          if (state) this.publish(state, source);
          if (entry.again && entry.news !== undefined && entry.news === this.knownFingerprint(clientOrderId)) entry.again = false;
        } while (entry.again && !this.closed);
      } finally {
        this.refreshing.delete(clientOrderId);
      }
    })();
    this.refreshing.set(clientOrderId, entry);
    return entry.done;
  }

  /** The next poll: `pollMs` while no feed is up, the slower safety net while one is. */
  private schedulePoll(): void {
    clearTimeout(this.poller);
    if (this.closed) return;
    const pollMs = this.deps.pollMs ?? 1000;
    const every = this.feed === 'up' ? (this.deps.feedPollMs ?? pollMs * 5) : pollMs;
    this.poller = setTimeout(() => void this.poll().finally(() => this.poller && this.schedulePoll()), every);
    this.poller.unref();
  }

  /** Polls now (after a reconnect), and restarts the timer at the rate the feed's state calls for. */
  private async pollNow(): Promise<void> {
    this.schedulePoll();
    await this.poll();
  }

  private async poll(): Promise<void> {
    if (this.listeners.size === 0 || this.closed) return;
    if (this.polling) {
      // A poll asked for now (a reconnect) must not be lost to one already halfway through.
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        for (const id of [...this.watched.keys()]) await this.refresh(id, 'poll');
      } while (this.pollAgain && !this.closed);
    } finally {
      this.polling = false;
    }
  }
}

function fingerprint(state: OrderStateWire): string {
  return `${state.status}|${state.filled}`;
}

/** The state a pushed message reports, as a fingerprint; a fill does not say the order's state ('?'). */
function newsFingerprint(message: Extract<KalshiChannelMessage, { type: 'fill' | 'user_order' }>): string {
  if (message.type === 'fill') return '?';
  return `${orderStatus(message.msg.status)}|${new Dec(message.msg.fill_count_fp).toFixed(6)}`;
}

/** A read that predates `before`: fewer contracts filled, or resting again after the order ended. */
function isOlder(state: OrderStateWire, before: string): boolean {
  const [status, filled] = before.split('|') as [string, string];
  return new Dec(state.filled).lt(filled) || (status !== 'resting' && state.status === 'resting');
}
