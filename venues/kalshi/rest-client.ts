import { z } from 'zod';
import type { Clock } from '../../domain/clock';
import { decimalString } from '../../domain/decimal';
import { AuthenticationError, InvalidOrder } from '../../domain/errors';
import { kalshiErrorFor } from './errors';
import { TokenBucket } from '../../domain/rate-limit/token-bucket';
import { defaultSleep, requestJson, withQuery, type HttpDeps, type Query } from '../http';
import { kalshiAuthHeaders, type KalshiCredentials } from './signing';
import { describeIssues } from '../../domain/validation';

/** Kalshi's default endpoint cost (tokens per request) when GET /account/endpoint_costs lists no other. */
export const DEFAULT_ENDPOINT_COST = 10;

export interface BucketLimit {
  refillPerSecond: number;
  capacity: number;
}

export interface KalshiRestOptions {
  /** e.g. https://external-api.kalshi.com/trade-api/v2 */
  baseUrl: string;
  credentials?: KalshiCredentials;
  clock: Clock;
  limits: { read: BucketLimit; write: BucketLimit };
  /** Non-default costs keyed by `METHOD /path-template`, e.g. `POST /portfolio/events/orders`. */
  endpointCosts?: Record<string, number>;
  maxRetries?: number;
  backoff?: { initialMs: number; maxMs: number };
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Kalshi Trade API v2 REST client: signed requests, client-side token buckets (read/write, with
 * endpoint costs), exponential backoff on 429 / 5xx / network errors, cursor pagination, and zod
 * parsing of every response.
 */
export class KalshiRestClient {
  private readonly buckets: { read: TokenBucket; write: TokenBucket };
  private readonly http: HttpDeps;
  private readonly basePath: string;

  constructor(private readonly opts: KalshiRestOptions) {
    this.buckets = {
      read: new TokenBucket(opts.limits.read.capacity, opts.limits.read.refillPerSecond),
      write: new TokenBucket(opts.limits.write.capacity, opts.limits.write.refillPerSecond),
    };
    this.http = {
      clock: opts.clock,
      fetch: opts.fetch ?? fetch,
      sleep: opts.sleep ?? defaultSleep,
      retry: { maxRetries: opts.maxRetries ?? 5, backoff: opts.backoff ?? { initialMs: 250, maxMs: 8000 } },
      requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    };
    this.basePath = new URL(opts.baseUrl).pathname.replace(/\/$/, '');
  }

  private costOf(method: string, pathTemplate: string): number {
    return this.opts.endpointCosts?.[`${method} ${pathTemplate}`] ?? DEFAULT_ENDPOINT_COST;
  }

  /**
   * One API call. `pathTemplate` names the endpoint for costs and error context
   * (e.g. `/markets/{ticker}/orderbook`); `path` is the concrete path.
   */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pathTemplate: string, path: string, schema: z.ZodType<T>, opts: { query?: Query; body?: unknown; auth?: boolean; idempotent?: boolean } = {}): Promise<T> {
    const context = `${method} ${pathTemplate}`;
    const signed = opts.auth ?? true;
    const credentials = this.opts.credentials;
    if (signed && !credentials) throw new AuthenticationError(`${context} needs Kalshi credentials (KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH)`);
    return requestJson(this.http, {
      method,
      url: withQuery(this.opts.baseUrl, path, opts.query),
      headers: signed ? () => kalshiAuthHeaders(credentials!, this.opts.clock.nowMs(), method, this.basePath + path) : undefined,
      body: opts.body,
      schema,
      context,
      bucket: { bucket: method === 'GET' ? this.buckets.read : this.buckets.write, cost: this.costOf(method, pathTemplate) },
      errorFor: kalshiErrorFor,
      idempotent: opts.idempotent,
    });
  }

  /** Walks a cursor-paginated list endpoint, yielding items page by page. */
  async *paginate<T>(pathTemplate: string, path: string, itemsKey: string, itemSchema: z.ZodType<T>, query: Query = {}, opts: { auth?: boolean; maxPages?: number } = {}): AsyncGenerator<T> {
    const page = z.object({ cursor: z.string().nullish(), [itemsKey]: z.array(itemSchema).nullish() });
    let cursor: string | undefined;
    for (let n = 0; n < (opts.maxPages ?? Infinity); n++) {
      const result = (await this.request('GET', pathTemplate, path, page, { query: { ...query, cursor }, auth: opts.auth })) as { cursor?: string | null } & Record<string, T[] | null | undefined>;
      for (const item of result[itemsKey] ?? []) yield item;
      cursor = result.cursor || undefined;
      if (!cursor) return;
    }
  }

  // --- market data (public) ---
  markets(query: Query = {}) {
    return this.paginate('/markets', '/markets', 'markets', kalshiMarketSchema, { limit: 1000, ...query }, { auth: false });
  }
  events(query: Query = {}) {
    return this.paginate('/events', '/events', 'events', kalshiEventSchema, { limit: 200, ...query }, { auth: false });
  }
  series(query: Query = {}) {
    return this.request('GET', '/series', '/series', z.object({ series: z.array(kalshiSeriesSchema).nullish() }), { query, auth: false });
  }
  async seriesByTicker(ticker: string) {
    return (await this.request('GET', '/series/{series_ticker}', `/series/${encodeURIComponent(ticker)}`, z.object({ series: kalshiSeriesSchema }), { auth: false })).series;
  }
  async event(ticker: string) {
    return (await this.request('GET', '/events/{event_ticker}', `/events/${encodeURIComponent(ticker)}`, z.object({ event: kalshiEventSchema }), { auth: false })).event;
  }
  trades(query: Query = {}) {
    return this.paginate('/markets/trades', '/markets/trades', 'trades', kalshiRestTradeSchema, { limit: 1000, ...query }, { auth: false });
  }
  /** Signed: the spec (v3.22) requires authentication for order books. */
  orderbook(ticker: string, depth?: number) {
    return this.request('GET', '/markets/{ticker}/orderbook', `/markets/${encodeURIComponent(ticker)}/orderbook`, orderbookResponseSchema, { query: { depth } });
  }

  // --- portfolio (signed) ---
  balance() {
    return this.request('GET', '/portfolio/balance', '/portfolio/balance', z.object({ balance: z.number(), portfolio_value: z.number().optional() }).passthrough());
  }
  positions(query: Query = {}) {
    return this.paginate('/portfolio/positions', '/portfolio/positions', 'market_positions', kalshiMarketPositionSchema, query);
  }
  fills(query: Query = {}) {
    return this.paginate('/portfolio/fills', '/portfolio/fills', 'fills', kalshiFillSchema, query);
  }
  orders(query: Query = {}) {
    return this.paginate('/portfolio/orders', '/portfolio/orders', 'orders', kalshiOrderSchema, query);
  }
  async order(orderId: string) {
    return (await this.request('GET', '/portfolio/orders/{order_id}', `/portfolio/orders/${encodeURIComponent(orderId)}`, z.object({ order: kalshiOrderSchema }))).order;
  }
  async accountLimits() {
    const limits = await this.request('GET', '/account/limits', '/account/limits', accountLimitsSchema);
    this.buckets.read.reconfigure(limits.read.bucket_capacity, limits.read.refill_rate);
    this.buckets.write.reconfigure(limits.write.bucket_capacity, limits.write.refill_rate);
    return limits;
  }

  // --- V2 orders (signed) ---
  async createOrder(order: CreateOrderV2) {
    // Not repeated on a timeout or 5xx: the order may exist; the caller looks it up by client order id.
    return this.request('POST', '/portfolio/events/orders', '/portfolio/events/orders', createOrderV2ResponseSchema, { body: validOrder(order), idempotent: false });
  }
  async batchCreateOrders(orders: CreateOrderV2[]) {
    return this.request('POST', '/portfolio/events/orders/batched', '/portfolio/events/orders/batched', z.unknown(), { body: { orders: orders.map(validOrder) }, idempotent: false });
  }
  cancelOrder(orderId: string) {
    return this.request('DELETE', '/portfolio/events/orders/{order_id}', `/portfolio/events/orders/${encodeURIComponent(orderId)}`, z.object({ order_id: z.string(), reduced_by: decimalString }).passthrough());
  }
  amendOrder(orderId: string, amend: { ticker: string; side: 'bid' | 'ask'; price: string; count: string; client_order_id?: string; updated_client_order_id?: string }) {
    return this.request('POST', '/portfolio/events/orders/{order_id}/amend', `/portfolio/events/orders/${encodeURIComponent(orderId)}/amend`, z.object({ order_id: z.string() }).passthrough(), { body: amend });
  }
  async decreaseOrder(orderId: string, reduceBy: string) {
    return this.request('POST', '/portfolio/events/orders/{order_id}/decrease', `/portfolio/events/orders/${encodeURIComponent(orderId)}/decrease`, z.object({ order_id: z.string() }).passthrough(), { body: { reduce_by: decimalString.parse(reduceBy) } });
  }
}

// Response schemas: the fields Kalshi documents as fixed-point strings are validated as decimals;
// everything else passes through so new fields never break parsing.
export const kalshiMarketSchema = z
  .object({
    ticker: z.string(),
    event_ticker: z.string(),
    status: z.string(),
    close_time: z.string().optional(),
    yes_bid_dollars: decimalString.optional(),
    yes_ask_dollars: decimalString.optional(),
    last_price_dollars: decimalString.optional(),
    volume_fp: decimalString.optional(),
    open_interest_fp: decimalString.optional(),
    result: z.string().optional(),
  })
  .passthrough();
// Fee terms: a series' fee_type and fee_multiplier, which an event may override (both, or neither).
export const kalshiEventSchema = z
  .object({ event_ticker: z.string(), series_ticker: z.string().optional(), title: z.string().optional(), fee_type_override: z.string().nullish(), fee_multiplier_override: z.number().nullish() })
  .passthrough();
export const kalshiSeriesSchema = z.object({ ticker: z.string(), title: z.string().optional(), fee_type: z.string().nullish(), fee_multiplier: z.number().nullish() }).passthrough();
export const kalshiRestTradeSchema = z
  .object({ trade_id: z.string(), ticker: z.string(), yes_price_dollars: decimalString, count_fp: decimalString.optional(), count: z.number().optional(), taker_side: z.enum(['yes', 'no']), created_time: z.string() })
  .passthrough();
const levelFp = z.tuple([decimalString, decimalString]);
export const orderbookResponseSchema = z
  .object({ orderbook_fp: z.object({ yes_dollars: z.array(levelFp).nullish(), no_dollars: z.array(levelFp).nullish() }).optional() })
  .passthrough();
const accountLimitsSchema = z.object({
  usage_tier: z.string(),
  read: z.object({ refill_rate: z.number().positive(), bucket_capacity: z.number().positive() }),
  write: z.object({ refill_rate: z.number().positive(), bucket_capacity: z.number().positive() }),
});

export const createOrderV2Schema = z.object({
  ticker: z.string().min(1),
  client_order_id: z.string().min(1),
  side: z.enum(['bid', 'ask']),
  count: decimalString,
  price: decimalString,
  time_in_force: z.enum(['good_till_canceled', 'immediate_or_cancel', 'fill_or_kill']),
  self_trade_prevention_type: z.enum(['taker_at_cross', 'maker']).default('taker_at_cross'),
  post_only: z.boolean().optional(),
  reduce_only: z.boolean().optional(),
  expiration_time: z.number().int().optional(),
});
export type CreateOrderV2 = z.input<typeof createOrderV2Schema>;

/** Orders are checked before they leave: a bad order is an InvalidOrder (non-retryable), never a request. */
function validOrder(order: CreateOrderV2): z.output<typeof createOrderV2Schema> {
  const parsed = createOrderV2Schema.safeParse(order);
  if (!parsed.success) throw new InvalidOrder(`invalid order: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}
export const createOrderV2ResponseSchema = z
  .object({ order_id: z.string(), client_order_id: z.string().optional(), fill_count: decimalString, remaining_count: decimalString, average_fill_price: decimalString.optional(), average_fee_paid: decimalString.optional(), ts_ms: z.number().int() })
  .passthrough();

/** An order as GET /portfolio/orders returns it (V2 fields; the deprecated side/action are not read). */
export const kalshiOrderSchema = z
  .object({
    order_id: z.string(),
    client_order_id: z.string(),
    ticker: z.string(),
    status: z.enum(['resting', 'canceled', 'executed']),
    book_side: z.enum(['bid', 'ask']),
    outcome_side: z.enum(['yes', 'no']),
    yes_price_dollars: decimalString,
    no_price_dollars: decimalString,
    fill_count_fp: decimalString,
    remaining_count_fp: decimalString,
    initial_count_fp: decimalString,
    taker_fees_dollars: decimalString,
    maker_fees_dollars: decimalString,
    created_time: z.string().nullish(),
  })
  .passthrough();
export type KalshiOrder = z.infer<typeof kalshiOrderSchema>;

export const kalshiFillSchema = z
  .object({
    fill_id: z.string(),
    trade_id: z.string(),
    order_id: z.string(),
    market_ticker: z.string(),
    book_side: z.enum(['bid', 'ask']),
    count_fp: decimalString,
    yes_price_dollars: decimalString,
    no_price_dollars: decimalString,
    is_taker: z.boolean(),
    fee_cost: decimalString,
    created_time: z.string().nullish(),
    ts: z.number().int().nullish(),
  })
  .passthrough();
export type KalshiFill = z.infer<typeof kalshiFillSchema>;

/** A market position: `position_fp` is net contracts, YES positive and NO negative. */
export const kalshiMarketPositionSchema = z.object({ ticker: z.string(), position_fp: decimalString, market_exposure_dollars: decimalString.optional(), fees_paid_dollars: decimalString.optional(), resting_orders_count: z.number().int().optional() }).passthrough();
