import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { Dec } from '../../../domain/decimal';
import { ONE_DOLLAR, priceDecimal, sizeDecimal } from '../../../domain/fixed-point';
import { TokenBucket } from '../../../domain/rate-limit/token-bucket';
import { describeIssues } from '../../../domain/validation';
import { KALSHI_BASIC_TIER, KALSHI_REST_PATH } from '../config';
import { kalshiErrorBody as errorBody } from '../errors';
import { DEFAULT_ENDPOINT_COST } from '../rest-client';
import { INVALID_SIGNATURE, verifyKalshiHeaders } from './auth';
import { STATUS_FILTER } from './catalog';
import { ExchangeError, SIGNATURE_WINDOW_MS, type AccountState, type KalshiEmulatorExchange, type MarketState, type NewOrder, type OrderRecord } from './exchange';
import { faultPlanSchema, type EmulatorFaults } from './faults';
import { cents, countFp, dollars, isoTime, noPriceDollars, parseCount, parsePrice, priceDollars, seconds } from './wire';

/** Kalshi's Basic tier: tokens per second refilled, and bucket capacity (one second of budget). */
export interface EmulatorRateLimits {
  tier: string;
  read: { refillPerSecond: number; capacity: number };
  write: { refillPerSecond: number; capacity: number };
}
export const BASIC_TIER: EmulatorRateLimits = { tier: 'basic', ...KALSHI_BASIC_TIER };
/** Non-default costs Kalshi documents (x-mint notes of the OpenAPI), per request or per batch item. */
const ENDPOINT_COSTS: { method: string; path: string; cost: number }[] = [
  { method: 'GET', path: '/portfolio/orders/{order_id}', cost: 2 },
  { method: 'DELETE', path: '/portfolio/events/orders/{order_id}', cost: 2 },
  { method: 'DELETE', path: '/portfolio/events/orders/batched', cost: 2 },
];
const MAX_BODY_BYTES = 1 << 20;

/** One response the emulator sent, for tests that check every response against the OpenAPI. */
export interface ObservedResponse {
  method: string;
  path: string;
  operationId: string | undefined;
  status: number;
  body: unknown;
}

interface RequestContext {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  account: AccountState | undefined;
}

interface Reply {
  status: number;
  body: unknown;
  /** Order ids an order-creating reply executed (for the lost-response fault). */
  createdOrders?: string[];
  /** The order an amend changed (for the lost-amend-response fault). */
  amendedOrder?: string;
}

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  template: string;
  operationId: string;
  signed: boolean;
  bucket: 'read' | 'write';
  /** Tokens; batch endpoints pass a function of the body. */
  cost?: (body: unknown) => number;
  handle(ctx: RequestContext, params: string[]): Reply | Promise<Reply>;
}

class BadRequest extends ExchangeError {
  constructor(message: string, details?: string) {
    super(400, 'invalid_parameters', message, details);
  }
}


// --- query helpers ---------------------------------------------------------------------------

function intParam(q: URLSearchParams, name: string, opts: { min: number; max: number; fallback?: number }): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return opts.fallback;
  if (!/^-?\d+$/.test(raw)) throw new BadRequest(`${name} must be an integer`, `got ${JSON.stringify(raw)}`);
  const v = Number(raw);
  if (v < opts.min || v > opts.max) throw new BadRequest(`${name} must be between ${opts.min} and ${opts.max}`, `got ${raw}`);
  return v;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const raw = q.get(name);
  if (raw === null || raw === '') return false;
  if (raw !== 'true' && raw !== 'false') throw new BadRequest(`${name} must be true or false`, `got ${JSON.stringify(raw)}`);
  return raw === 'true';
}

function enumParam<T extends string>(q: URLSearchParams, name: string, values: readonly T[]): T | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!values.includes(raw as T)) throw new BadRequest(`${name} must be one of ${values.join(', ')}`, `got ${JSON.stringify(raw)}`);
  return raw as T;
}

const listParam = (q: URLSearchParams, name: string): string[] | undefined => {
  const values = q.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return values.length ? values : undefined;
};

/** Cursor pagination over a list in a stable order: the cursor is the offset of the next page. */
function page<T>(items: T[], q: URLSearchParams, limits: { max: number; fallback: number; min?: number }): { items: T[]; cursor: string } {
  let limit = intParam(q, 'limit', { min: limits.min ?? 1, max: limits.max, fallback: limits.fallback })!;
  if (limit === 0) limit = limits.fallback;
  const cursor = q.get('cursor');
  let offset = 0;
  if (cursor) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
    if (!decoded) throw new BadRequest('cursor is not one this endpoint returned', `got ${JSON.stringify(cursor)}`);
    offset = Number(decoded[1]);
  }
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? Buffer.from(`o${offset + limit}`).toString('base64url') : '';
  return { items: slice, cursor: next };
}

// --- body schemas ----------------------------------------------------------------------------

const countText = z.string().refine((s) => parseCount(s) !== undefined, { message: 'expected a positive count with at most 2 decimals, e.g. "10.00"' });
const priceTextSchema = z.string().refine((s) => parsePrice(s) !== undefined, { message: 'expected a dollar price with at most 4 decimals, e.g. "0.5600"' });
const exchangeIndex = z.literal(0).optional();
const subaccount = z.literal(0, { message: 'only subaccount 0 is emulated' }).optional();

const createOrderSchema = z.object({
  ticker: z.string().min(1),
  client_order_id: z.string().max(256).optional(),
  side: z.enum(['bid', 'ask']),
  count: countText,
  price: priceTextSchema,
  time_in_force: z.enum(['fill_or_kill', 'good_till_canceled', 'immediate_or_cancel']),
  self_trade_prevention_type: z.enum(['taker_at_cross', 'maker']),
  post_only: z.boolean().optional(),
  cancel_order_on_pause: z.boolean().optional(),
  reduce_only: z.boolean().optional(),
  subaccount,
  order_group_id: z.string().optional(),
  exchange_index: exchangeIndex,
  expiration_time: z.number().int().positive().optional(),
});
const batchCreateSchema = z.object({ orders: z.array(z.unknown()).min(1) });
const batchCancelSchema = z.object({ orders: z.array(z.object({ order_id: z.string().min(1), subaccount, exchange_index: exchangeIndex, market_ticker: z.string().optional() })).min(1) });
const amendSchema = z.object({ ticker: z.string().min(1), side: z.enum(['bid', 'ask']), price: priceTextSchema, count: countText, client_order_id: z.string().optional(), updated_client_order_id: z.string().optional(), exchange_index: exchangeIndex });
const decreaseSchema = z
  .object({ reduce_by: z.string().nullish(), reduce_to: z.string().nullish(), exchange_index: exchangeIndex })
  .refine((d) => (d.reduce_by === null || d.reduce_by === undefined) !== (d.reduce_to === null || d.reduce_to === undefined), { message: 'exactly one of reduce_by or reduce_to must be provided' });

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new BadRequest('invalid request body', describeIssues(parsed.error.issues, 5));
  return parsed.data;
}

function toNewOrder(o: z.infer<typeof createOrderSchema>): NewOrder {
  if (o.order_group_id) throw new BadRequest('order groups are not emulated');
  return {
    ticker: o.ticker,
    clientOrderId: o.client_order_id,
    side: o.side,
    count: parseCount(o.count)!,
    price: parsePrice(o.price)!,
    timeInForce: o.time_in_force,
    selfTradePrevention: o.self_trade_prevention_type,
    postOnly: o.post_only ?? false,
    reduceOnly: o.reduce_only ?? false,
    cancelOnPause: o.cancel_order_on_pause ?? false,
    expirationMs: o.expiration_time !== undefined ? o.expiration_time * 1000 : undefined,
  };
}

/**
 * Kalshi Trade API v2 over the emulated exchange: routing, request signing, per-account token
 * buckets, Kalshi's error bodies, and the REST faults. Shapes follow openapi-v3.22.0.
 */
export class KalshiRestApi {
  private readonly routes: { route: Route; pattern: RegExp }[];
  private readonly buckets = new Map<string, { read: TokenBucket; write: TokenBucket }>();
  readonly counters = { requests: 0, byStatus: {} as Record<string, number>, unauthorized: 0, rateLimited: 0, badRequests: 0, notFound: 0, internalErrors: 0 };
  /** Requests whose response is withheld (lost-response fault, hang mode), ended on close. */
  private readonly hanging = new Set<ServerResponse>();

  constructor(
    private readonly exchange: KalshiEmulatorExchange,
    private readonly faults: EmulatorFaults,
    private readonly opts: { rateLimits: EmulatorRateLimits; observe?: (r: ObservedResponse) => void; state: () => Record<string, unknown> },
  ) {
    this.routes = this.table().map((route) => ({ route, pattern: new RegExp(`^${route.template.replace(/\{[^}]+\}/g, '([^/]+)')}$`) }));
  }

  private bucketsOf(key: string) {
    let b = this.buckets.get(key);
    if (!b) {
      const { read, write } = this.opts.rateLimits;
      this.buckets.set(key, (b = { read: new TokenBucket(read.capacity, read.refillPerSecond), write: new TokenBucket(write.capacity, write.refillPerSecond) }));
    }
    return b;
  }

  /** Node request handler (everything under the REST base path plus /_emulator/*). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let operationId: string | undefined;
    let path = '';
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.counters.byStatus[status] = (this.counters.byStatus[status] ?? 0) + 1;
      if (status === 400) this.counters.badRequests++;
      if (status === 404) this.counters.notFound++;
      if (status >= 500) this.counters.internalErrors++;
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
      res.end(text);
      this.opts.observe?.({ method, path, operationId, status, body });
    };
    try {
      this.counters.requests++;
      const url = new URL(req.url ?? '/', 'http://emulator');
      path = url.pathname;
      const raw = await readBody(req);
      if (path.startsWith('/_emulator/')) return this.admin(method, path, raw, send);
      if (!path.startsWith(KALSHI_REST_PATH + '/')) return send(404, errorBody('not_found', `no route for ${method} ${path}`));
      const subPath = path.slice(KALSHI_REST_PATH.length);
      const found = this.match(method, subPath);
      if (!found) return send(404, errorBody('not_found', `no route for ${method} ${path}`));
      const { route, params } = found;
      operationId = route.operationId;
      const injected = this.faults.takeRequestFault(`${method} ${path}`);
      if (injected === 429) {
        this.counters.rateLimited++;
        return send(429, errorBody('too_many_requests', 'too many requests (injected fault)'));
      }
      if (injected) return send(injected, errorBody(injected === 503 ? 'service_unavailable' : 'internal_server_error', `injected ${injected}`));

      let account: AccountState | undefined;
      if (route.signed) {
        const verdict = verifyKalshiHeaders(req.headers, method, path, (id) => this.exchange.accounts.get(id)?.publicKey, Date.now(), SIGNATURE_WINDOW_MS);
        if (!verdict.ok) {
          this.counters.unauthorized++;
          return send(401, errorBody(verdict.message === INVALID_SIGNATURE ? 'invalid_signature' : 'unauthorized', verdict.message));
        }
        account = this.exchange.accounts.get(verdict.apiKeyId)!;
      }
      let body: unknown;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (e) {
          return send(400, errorBody('bad_request', 'request body is not valid JSON', (e as Error).message));
        }
      }
      let cost: number;
      try {
        cost = route.cost ? route.cost(body) : DEFAULT_ENDPOINT_COST;
      } catch (e) {
        if (e instanceof ExchangeError) return send(e.status, errorBody(e.code, e.message, e.details));
        throw e;
      }
      const bucketKey = account ? `key:${account.apiKeyId}` : `ip:${req.socket.remoteAddress ?? '?'}`;
      const bucket = this.bucketsOf(bucketKey)[route.bucket];
      const taken = cost <= this.opts.rateLimits[route.bucket].capacity ? bucket.tryTake(cost, Date.now()) : ({ ok: false, waitMs: 0 } as const);
      if (!taken.ok) {
        this.counters.rateLimited++;
        return send(429, errorBody('too_many_requests', `${route.bucket} rate limit exceeded (${this.opts.rateLimits.tier} tier)`, `retry in ${taken.waitMs} ms`));
      }
      const reply = await route.handle({ method, path: subPath, query: url.searchParams, body, account }, params);
      const written = reply.createdOrders?.length ? reply.createdOrders : reply.amendedOrder ? [reply.amendedOrder] : undefined;
      if (written) {
        const lost = this.faults.takeLostResponse(`${method} ${path}`, written, reply.amendedOrder ? 'amend' : 'create');
        if (lost === 'destroy') {
          req.socket.destroy();
          return;
        }
        if (lost === 'hang') {
          this.hanging.add(res);
          res.on('close', () => this.hanging.delete(res));
          return;
        }
      }
      return send(reply.status, reply.body);
    } catch (e) {
      if (e instanceof ExchangeError) return send(e.status, errorBody(e.code, e.message, e.details));
      this.exchange.log(`internal error on ${method} ${path}: ${(e as Error).stack ?? String(e)}`);
      return send(500, errorBody('internal_server_error', 'internal error'));
    }
  }

  /** Ends the responses a "hang" fault withheld (their clients see the connection close). */
  closeHanging(): void {
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
  }

  private match(method: string, subPath: string): { route: Route; params: string[] } | undefined {
    let pathMatched = false;
    for (const { route, pattern } of this.routes) {
      const m = pattern.exec(subPath);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      try {
        return { route, params: m.slice(1).map(decodeURIComponent) };
      } catch {
        throw new BadRequest('malformed percent-encoding in the path', subPath);
      }
    }
    if (pathMatched) throw new ExchangeError(404, 'not_found', `${method} is not supported on ${subPath}`);
    return undefined;
  }

  private admin(method: string, path: string, raw: Buffer, send: (status: number, body: unknown) => void): void {
    if (method === 'GET' && path === '/_emulator/state') return send(200, this.opts.state());
    if (method === 'POST' && path === '/_emulator/faults') {
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8') || '{}');
      } catch (e) {
        return send(400, errorBody('bad_request', 'fault plan is not valid JSON', (e as Error).message));
      }
      const plan = faultPlanSchema.safeParse(json);
      if (!plan.success) return send(400, errorBody('invalid_parameters', 'invalid fault plan', describeIssues(plan.error.issues)));
      return send(200, { pending: this.faults.apply(plan.data), injected: this.faults.injected });
    }
    return send(404, errorBody('not_found', `no admin route for ${method} ${path}`));
  }

  // --- routes ------------------------------------------------------------------------------

  private table(): Route[] {
    const ex = this.exchange;
    const ok = (body: unknown, status = 200): Reply => ({ status, body });
    const read = { bucket: 'read' as const };
    const write = { bucket: 'write' as const };
    const costOf = (method: string, path: string) => ENDPOINT_COSTS.find((c) => c.method === method && c.path === path)?.cost ?? DEFAULT_ENDPOINT_COST;
    const itemsIn = (body: unknown) => {
      const orders = (body as { orders?: unknown })?.orders;
      if (!Array.isArray(orders) || orders.length === 0) throw new BadRequest('orders must be a non-empty array');
      return orders.length;
    };
    const maxBatch = () => Math.floor(this.opts.rateLimits.write.capacity / DEFAULT_ENDPOINT_COST);
    return [
      { method: 'GET', template: '/exchange/status', operationId: 'GetExchangeStatus', signed: false, ...read, handle: () => ok({ exchange_active: true, trading_active: !ex.tradingPaused, exchange_estimated_resume_time: null }) },
      { method: 'GET', template: '/account/limits', operationId: 'GetAccountApiLimits', signed: true, ...read, handle: () => ok(this.limitsBody()) },
      { method: 'GET', template: '/account/endpoint_costs', operationId: 'GetAccountEndpointCosts', signed: false, ...read, handle: () => ok({ default_cost: DEFAULT_ENDPOINT_COST, endpoint_costs: ENDPOINT_COSTS }) },
      { method: 'GET', template: '/series', operationId: 'GetSeriesList', signed: false, ...read, handle: (c) => ok({ series: this.seriesList(boolParam(c.query, 'include_volume')).filter((s) => !c.query.get('category') || s.category === c.query.get('category')) }) },
      {
        method: 'GET', template: '/series/{series_ticker}', operationId: 'GetSeries', signed: false, ...read,
        handle: (c, [ticker]) => {
          const series = this.seriesList(boolParam(c.query, 'include_volume')).find((s) => s.ticker === ticker);
          if (!series) throw new ExchangeError(404, 'not_found', `series ${ticker} not found`);
          return ok({ series });
        },
      },
      { method: 'GET', template: '/events', operationId: 'GetEvents', signed: false, ...read, handle: (c) => ok(this.eventsList(c.query)) },
      {
        method: 'GET', template: '/events/{event_ticker}', operationId: 'GetEvent', signed: false, ...read,
        handle: (c, [ticker]) => {
          const markets = [...ex.markets.values()].filter((m) => m.listed.eventTicker === ticker);
          if (!markets.length) throw new ExchangeError(404, 'not_found', `event ${ticker} not found`);
          const marketsJson = markets.map((m) => this.marketJson(m));
          return ok({ event: { ...this.eventJson(markets[0]!), ...(boolParam(c.query, 'with_nested_markets') ? { markets: marketsJson } : {}) }, markets: marketsJson });
        },
      },
      { method: 'GET', template: '/markets', operationId: 'GetMarkets', signed: false, ...read, handle: (c) => ok(this.marketsList(c.query)) },
      { method: 'GET', template: '/markets/trades', operationId: 'GetTrades', signed: false, ...read, handle: (c) => ok(this.tradesList(c.query)) },
      { method: 'GET', template: '/markets/{ticker}', operationId: 'GetMarket', signed: false, ...read, handle: (_c, [ticker]) => ok({ market: this.marketJson(ex.market(ticker!)) }) },
      {
        // The spec lists this endpoint with kalshiAccess* security: it is signed.
        method: 'GET', template: '/markets/{ticker}/orderbook', operationId: 'GetMarketOrderbook', signed: true, ...read,
        handle: (c, [ticker]) => ok({ orderbook_fp: this.orderbookJson(ex.market(ticker!), intParam(c.query, 'depth', { min: 0, max: 100, fallback: 0 })!) }),
      },
      { method: 'GET', template: '/portfolio/balance', operationId: 'GetBalance', signed: true, ...read, handle: (c) => ok(this.balanceBody(c.account!)) },
      { method: 'GET', template: '/portfolio/positions', operationId: 'GetPositions', signed: true, ...read, handle: (c) => ok(this.positionsBody(c.account!, c.query)) },
      { method: 'GET', template: '/portfolio/fills', operationId: 'GetFills', signed: true, ...read, handle: (c) => ok(this.fillsBody(c.account!, c.query)) },
      { method: 'GET', template: '/portfolio/orders', operationId: 'GetOrders', signed: true, ...read, handle: (c) => ok(this.ordersBody(c.account!, c.query)) },
      { method: 'GET', template: '/portfolio/orders/{order_id}', operationId: 'GetOrder', signed: true, ...read, cost: () => costOf('GET', '/portfolio/orders/{order_id}'), handle: (c, [id]) => ok({ order: this.orderJson(ex.order(c.account!.apiKeyId, id!)) }) },
      {
        method: 'POST', template: '/portfolio/events/orders', operationId: 'CreateOrderV2', signed: true, ...write,
        handle: (c) => {
          const order = ex.createOrder(c.account!.apiKeyId, toNewOrder(parseBody(createOrderSchema, c.body)));
          return { status: 201, body: this.createdBody(order), createdOrders: [order.orderId] };
        },
      },
      {
        method: 'POST', template: '/portfolio/events/orders/batched', operationId: 'BatchCreateOrdersV2', signed: true, ...write,
        cost: (body) => itemsIn(body) * DEFAULT_ENDPOINT_COST,
        handle: (c) => {
          const { orders } = parseBody(batchCreateSchema, c.body);
          if (orders.length > maxBatch()) throw new BadRequest(`at most ${maxBatch()} orders per batch at the ${this.opts.rateLimits.tier} tier`);
          const created: string[] = [];
          const results = orders.map((item) => {
            try {
              const order = ex.createOrder(c.account!.apiKeyId, toNewOrder(parseBody(createOrderSchema, item)));
              created.push(order.orderId);
              return { ...this.createdBody(order), error: null };
            } catch (e) {
              if (!(e instanceof ExchangeError)) throw e;
              const clientOrderId = (item as { client_order_id?: unknown })?.client_order_id;
              return { client_order_id: typeof clientOrderId === 'string' ? clientOrderId : null, fill_count: null, remaining_count: null, average_fill_price: null, average_fee_paid: null, ts_ms: null, error: errorBody(e.code, e.message, e.details).error };
            }
          });
          return { status: 201, body: { orders: results }, createdOrders: created };
        },
      },
      {
        method: 'DELETE', template: '/portfolio/events/orders/batched', operationId: 'BatchCancelOrdersV2', signed: true, ...write,
        cost: (body) => itemsIn(body) * costOf('DELETE', '/portfolio/events/orders/batched'),
        handle: (c) => {
          const { orders } = parseBody(batchCancelSchema, c.body);
          if (orders.length > maxBatch() * 5) throw new BadRequest(`at most ${maxBatch() * 5} cancels per batch at the ${this.opts.rateLimits.tier} tier`);
          return ok({
            orders: orders.map(({ order_id }) => {
              try {
                const { order, reducedBy } = ex.cancelOrder(c.account!.apiKeyId, order_id);
                return { order_id, client_order_id: order.clientOrderId, reduced_by: countFp(reducedBy), ts_ms: ex.nowMs(), error: null };
              } catch (e) {
                if (!(e instanceof ExchangeError)) throw e;
                return { order_id, client_order_id: null, reduced_by: '0.00', ts_ms: null, error: errorBody(e.code, e.message, e.details).error };
              }
            }),
          });
        },
      },
      {
        method: 'DELETE', template: '/portfolio/events/orders/{order_id}', operationId: 'CancelOrderV2', signed: true, ...write,
        cost: () => costOf('DELETE', '/portfolio/events/orders/{order_id}'),
        handle: (c, [id]) => {
          const { order, reducedBy } = ex.cancelOrder(c.account!.apiKeyId, id!);
          return ok({ order_id: order.orderId, client_order_id: order.clientOrderId, reduced_by: countFp(reducedBy), ts_ms: ex.nowMs() });
        },
      },
      {
        method: 'POST', template: '/portfolio/events/orders/{order_id}/amend', operationId: 'AmendOrderV2', signed: true, ...write,
        handle: (c, [id]) => {
          const a = parseBody(amendSchema, c.body);
          const { order, fillsBefore } = ex.amendOrder(c.account!.apiKeyId, id!, { ticker: a.ticker, side: a.side, price: parsePrice(a.price)!, count: parseCount(a.count)!, updatedClientOrderId: a.updated_client_order_id });
          return { ...ok({ order_id: order.orderId, client_order_id: order.clientOrderId, remaining_count: countFp(remainingOf(order)), fill_count: countFp(order.filled - fillsBefore), ...this.averages(order, fillsBefore), ts_ms: ex.nowMs() }), amendedOrder: order.orderId };
        },
      },
      {
        method: 'POST', template: '/portfolio/events/orders/{order_id}/decrease', operationId: 'DecreaseOrderV2', signed: true, ...write,
        handle: (c, [id]) => {
          const d = parseBody(decreaseSchema, c.body);
          const amount = (text: string | null | undefined, what: string) => {
            if (text === null || text === undefined) return undefined;
            const units = /^\d+(\.\d{1,2})?$/.test(text) ? parseCount(text) ?? 0 : undefined;
            if (units === undefined) throw new BadRequest(`${what} must be a count with at most 2 decimals`, `got ${JSON.stringify(text)}`);
            return units;
          };
          const order = ex.decreaseOrder(c.account!.apiKeyId, id!, { reduceBy: amount(d.reduce_by, 'reduce_by'), reduceTo: amount(d.reduce_to, 'reduce_to') });
          return ok({ order_id: order.orderId, client_order_id: order.clientOrderId, remaining_count: countFp(remainingOf(order)), ts_ms: ex.nowMs() });
        },
      },
    ];
  }

  // --- response bodies ---------------------------------------------------------------------

  private limitsBody() {
    const { tier, read, write } = this.opts.rateLimits;
    return { usage_tier: tier, read: { refill_rate: read.refillPerSecond, bucket_capacity: read.capacity }, write: { refill_rate: write.refillPerSecond, bucket_capacity: write.capacity }, grants: [] };
  }

  marketJson(m: MarketState): Record<string, unknown> {
    const r = m.listed.recorded;
    const top = m.book.stale ? {} : m.book.top();
    const bid = top.yesBid?.price ?? 0;
    const ask = top.yesAsk?.price ?? ONE_DOLLAR;
    const settled = m.status === 'finalized';
    const pick = (...keys: string[]) => Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
    return {
      ticker: m.listed.ticker,
      event_ticker: m.listed.eventTicker,
      market_type: r.market_type ?? 'binary',
      ...pick('title', 'yes_sub_title', 'no_sub_title', 'created_time', 'open_time', 'close_time', 'expected_expiration_time', 'expiration_time', 'latest_expiration_time', 'settlement_timer_seconds', 'notional_value_dollars', 'can_close_early', 'rules_primary', 'rules_secondary', 'price_level_structure', 'price_ranges', 'strike_type', 'floor_strike', 'cap_strike', 'custom_strike', 'occurrence_datetime'),
      updated_time: isoTime(this.exchange.nowMs()),
      status: m.status,
      yes_bid_dollars: priceDollars(bid),
      yes_bid_size_fp: countFp(top.yesBid?.size ?? 0),
      yes_ask_dollars: priceDollars(ask),
      yes_ask_size_fp: countFp(top.yesAsk?.size ?? 0),
      no_bid_dollars: noPriceDollars(ask),
      no_ask_dollars: noPriceDollars(bid),
      last_price_dollars: priceDollars(m.lastPrice ?? 0),
      // The recording has no prior-day values.
      previous_yes_bid_dollars: '0.0000',
      previous_yes_ask_dollars: '0.0000',
      previous_price_dollars: '0.0000',
      volume_fp: countFp(m.volume),
      volume_24h_fp: countFp(m.volume),
      liquidity_dollars: '0.0000',
      // Open interest is only known from the recorded end-of-life metadata.
      open_interest_fp: m.status === 'closed' || settled ? String(r.open_interest_fp ?? '0.00') : '0.00',
      result: settled ? (m.listed.result ?? '') : '',
      fractional_trading_enabled: true,
      expiration_value: settled ? String(r.expiration_value ?? '') : '',
      ...(settled ? pick('settlement_value_dollars', 'settlement_ts') : {}),
    };
  }

  private eventJson(m: MarketState): Record<string, unknown> {
    const e = m.listed.event;
    return { ...e, event_ticker: m.listed.eventTicker, series_ticker: m.listed.seriesTicker, sub_title: e.sub_title ?? '', title: e.title ?? '', collateral_return_type: e.collateral_return_type ?? '', mutually_exclusive: e.mutually_exclusive ?? false, available_on_brokers: e.available_on_brokers ?? false, settlement_sources: e.settlement_sources ?? [] };
  }

  private seriesList(includeVolume: boolean) {
    const bySeries = new Map<string, MarketState[]>();
    for (const m of this.exchange.markets.values()) bySeries.set(m.listed.seriesTicker, [...(bySeries.get(m.listed.seriesTicker) ?? []), m]);
    return [...bySeries.entries()].map(([ticker, markets]) => {
      const first = markets[0]!.listed;
      const cadence = (first.event.product_metadata as { cadence?: unknown } | undefined)?.cadence;
      return {
        ticker,
        frequency: typeof cadence === 'string' ? cadence : 'custom',
        title: String(first.recorded.title ?? ticker),
        category: String(first.event.category ?? ''),
        tags: [] as string[],
        settlement_sources: (first.event.settlement_sources as unknown[]) ?? [],
        contract_url: '',
        contract_terms_url: '',
        // The emulator charges Kalshi's general schedule: taker and maker fees, multiplier 1.
        fee_type: 'quadratic_with_maker_fees',
        fee_multiplier: 1,
        additional_prohibitions: [] as string[],
        ...(includeVolume ? { volume_fp: countFp(markets.reduce((n, m) => n + m.volume, 0)) } : {}),
      };
    });
  }

  private filteredMarkets(q: URLSearchParams): MarketState[] {
    const status = enumParam(q, 'status', ['unopened', 'open', 'paused', 'closed', 'settled'] as const);
    const series = q.get('series_ticker') || undefined;
    const event = q.get('event_ticker') || undefined;
    const tickers = listParam(q, 'tickers');
    const minClose = intParam(q, 'min_close_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const maxClose = intParam(q, 'max_close_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    return [...this.exchange.markets.values()].filter(
      (m) =>
        (!status || (status !== 'paused' && m.status === STATUS_FILTER[status])) &&
        (!series || m.listed.seriesTicker === series) &&
        (!event || m.listed.eventTicker === event) &&
        (!tickers || tickers.includes(m.listed.ticker)) &&
        (minClose === undefined || seconds(m.listed.closeMs) >= minClose) &&
        (maxClose === undefined || seconds(m.listed.closeMs) <= maxClose),
    );
  }

  private marketsList(q: URLSearchParams) {
    const { items, cursor } = page(this.filteredMarkets(q), q, { max: 1000, fallback: 100, min: 0 });
    return { markets: items.map((m) => this.marketJson(m)), cursor };
  }

  private eventsList(q: URLSearchParams) {
    const status = enumParam(q, 'status', ['unopened', 'open', 'closed', 'settled'] as const);
    const series = q.get('series_ticker') || undefined;
    const tickers = listParam(q, 'tickers');
    const nested = boolParam(q, 'with_nested_markets');
    const byEvent = new Map<string, MarketState[]>();
    for (const m of this.exchange.markets.values()) byEvent.set(m.listed.eventTicker, [...(byEvent.get(m.listed.eventTicker) ?? []), m]);
    const events = [...byEvent.values()].filter((ms) => (!status || ms.some((m) => m.status === STATUS_FILTER[status])) && (!series || ms[0]!.listed.seriesTicker === series) && (!tickers || tickers.includes(ms[0]!.listed.eventTicker)));
    const { items, cursor } = page(events, q, { max: 200, fallback: 200 });
    return { events: items.map((ms) => ({ ...this.eventJson(ms[0]!), ...(nested ? { markets: ms.map((m) => this.marketJson(m)) } : {}) })), cursor };
  }

  private tradesList(q: URLSearchParams) {
    const ticker = q.get('ticker') || undefined;
    const minTs = intParam(q, 'min_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const maxTs = intParam(q, 'max_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const block = q.get('is_block_trade');
    if (block !== null && block !== 'true' && block !== 'false') throw new BadRequest('is_block_trade must be true or false');
        const markets = ticker ? [this.exchange.market(ticker)] : [...this.exchange.markets.values()];
    // Newest first, as Kalshi lists them; no recorded trade is a block trade.
    const trades = block === 'true' ? [] : markets.flatMap((m) => m.trades).filter((t) => (minTs === undefined || seconds(t.tsMs) >= minTs) && (maxTs === undefined || seconds(t.tsMs) <= maxTs));
    trades.sort((a, b) => b.tsMs - a.tsMs);
    const { items, cursor } = page(trades, q, { max: 1000, fallback: 100, min: 0 });
    return {
      trades: items.map((t) => ({ trade_id: t.tradeId, ticker: t.ticker, count_fp: countFp(t.count), yes_price_dollars: priceDollars(t.yesPrice), no_price_dollars: noPriceDollars(t.yesPrice), taker_side: t.takerSide, taker_outcome_side: t.takerSide, taker_book_side: t.takerSide === 'yes' ? 'bid' : 'ask', created_time: isoTime(t.tsMs), is_block_trade: false })),
      cursor,
    };
  }

  private orderbookJson(m: MarketState, depth: number) {
    const side = (s: 'yes' | 'no') => {
      if (m.book.stale) return [];
      const levels = depth > 0 ? m.book.topLevels(s, depth) : m.book.levels(s);
      // Ascending by price, as Kalshi lists them (best bid last).
      return levels.reverse().map((l) => [priceDollars(l.price), countFp(l.size)]);
    };
    return { yes_dollars: side('yes'), no_dollars: side('no') };
  }

  private balanceBody(a: AccountState) {
    let value = new Dec(0);
    for (const p of a.positions.values()) {
      if (p.position === 0) continue;
      const top = this.exchange.markets.get(p.ticker)?.book.top() ?? {};
      // Marked at the price the position could be sold at now: YES at the YES bid, NO at the NO bid.
      const mark = p.position > 0 ? (top.yesBid?.price ?? 0) : top.yesAsk ? ONE_DOLLAR - top.yesAsk.price : 0;
      value = value.plus(sizeDecimal(Math.abs(p.position)).times(priceDecimal(mark)));
    }
    return { balance: cents(a.balance), balance_dollars: dollars(a.balance), portfolio_value: cents(value), updated_ts: seconds(a.updatedMs) };
  }

  private positionsBody(a: AccountState, q: URLSearchParams) {
    const ticker = q.get('ticker') || undefined;
    const event = q.get('event_ticker') || undefined;
    const countFilter = listParam(q, 'count_filter');
    if (countFilter?.some((f) => f !== 'position' && f !== 'total_traded')) throw new BadRequest('count_filter accepts position and total_traded');
    const positions = [...a.positions.values()].filter((p) => {
      const m = this.exchange.markets.get(p.ticker);
      if (ticker && p.ticker !== ticker) return false;
      if (event && m?.listed.eventTicker !== event) return false;
      if (countFilter && !countFilter.some((f) => (f === 'position' ? p.position !== 0 : !p.totalTraded.isZero()))) return false;
      return true;
    });
    const { items, cursor } = page(positions, q, { max: 1000, fallback: 100 });
    const events = new Map<string, { cost: Dec; shares: number; exposure: Dec; pnl: Dec; fees: Dec }>();
    for (const p of positions) {
      const key = this.exchange.markets.get(p.ticker)!.listed.eventTicker;
      const e = events.get(key) ?? { cost: new Dec(0), shares: 0, exposure: new Dec(0), pnl: new Dec(0), fees: new Dec(0) };
      events.set(key, { cost: e.cost.plus(p.totalTraded), shares: e.shares + p.volume, exposure: e.exposure.plus(p.cost), pnl: e.pnl.plus(p.realizedPnl), fees: e.fees.plus(p.fees) });
    }
    return {
      cursor,
      market_positions: items.map((p) => ({ ticker: p.ticker, total_traded_dollars: dollars(p.totalTraded), position_fp: countFp(p.position), market_exposure_dollars: dollars(p.cost), realized_pnl_dollars: dollars(p.realizedPnl), resting_orders_count: this.exchange.restingOrderCount(a, p.ticker), fees_paid_dollars: dollars(p.fees), last_updated_ts: isoTime(p.lastUpdatedMs) })),
      event_positions: [...events.entries()].map(([event_ticker, e]) => ({ event_ticker, total_cost_dollars: dollars(e.cost), total_cost_shares_fp: countFp(e.shares), event_exposure_dollars: dollars(e.exposure), realized_pnl_dollars: dollars(e.pnl), fees_paid_dollars: dollars(e.fees) })),
    };
  }

  private fillsBody(a: AccountState, q: URLSearchParams) {
    const ticker = q.get('ticker') || undefined;
    const orderId = q.get('order_id') || undefined;
    const minTs = intParam(q, 'min_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const maxTs = intParam(q, 'max_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    intParam(q, 'subaccount', { min: 0, max: 0 });
    const fills = a.fills.filter((f) => (!ticker || f.ticker === ticker) && (!orderId || f.orderId === orderId) && (minTs === undefined || seconds(f.tsMs) >= minTs) && (maxTs === undefined || seconds(f.tsMs) <= maxTs)).reverse();
    const { items, cursor } = page(fills, q, { max: 1000, fallback: 100 });
    return {
      fills: items.map((f) => ({
        fill_id: f.fillId,
        trade_id: f.tradeId,
        order_id: f.orderId,
        client_order_id: f.clientOrderId,
        ticker: f.ticker,
        market_ticker: f.ticker,
        side: 'yes',
        action: f.side === 'bid' ? 'buy' : 'sell',
        outcome_side: f.side === 'bid' ? 'yes' : 'no',
        book_side: f.side,
        count_fp: countFp(f.count),
        yes_price_dollars: priceDollars(f.price),
        no_price_dollars: noPriceDollars(f.price),
        is_taker: f.isTaker,
        created_time: isoTime(f.tsMs),
        fee_cost: dollars(f.fee),
        ts: seconds(f.tsMs),
      })),
      cursor,
    };
  }

  private ordersBody(a: AccountState, q: URLSearchParams) {
    const ticker = q.get('ticker') || undefined;
    const events = listParam(q, 'event_ticker');
    const status = enumParam(q, 'status', ['resting', 'canceled', 'executed'] as const);
    const minTs = intParam(q, 'min_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const maxTs = intParam(q, 'max_ts', { min: 0, max: Number.MAX_SAFE_INTEGER });
    intParam(q, 'subaccount', { min: 0, max: 0 });
    const orders = [...a.orders.values()]
      .filter((o) => (!ticker || o.ticker === ticker) && (!events || events.includes(this.exchange.markets.get(o.ticker)!.listed.eventTicker)) && (!status || o.status === status) && (minTs === undefined || seconds(o.createdMs) >= minTs) && (maxTs === undefined || seconds(o.createdMs) <= maxTs))
      .reverse();
    const { items, cursor } = page(orders, q, { max: 1000, fallback: 100 });
    return { orders: items.map((o) => this.orderJson(o)), cursor };
  }

  orderJson(o: OrderRecord): Record<string, unknown> {
    const wire = this.exchange.userOrderMsg(o);
    return {
      order_id: o.orderId,
      user_id: wire.user_id,
      client_order_id: o.clientOrderId,
      ticker: o.ticker,
      side: 'yes',
      action: o.side === 'bid' ? 'buy' : 'sell',
      outcome_side: o.side === 'bid' ? 'yes' : 'no',
      book_side: o.side,
      type: 'limit',
      status: o.status,
      yes_price_dollars: priceDollars(o.price),
      no_price_dollars: noPriceDollars(o.price),
      fill_count_fp: countFp(o.filled),
      remaining_count_fp: countFp(remainingOf(o)),
      initial_count_fp: countFp(o.initialCount),
      taker_fees_dollars: dollars(o.takerFees),
      maker_fees_dollars: dollars(o.makerFees),
      taker_fill_cost_dollars: dollars(o.takerFillCost),
      maker_fill_cost_dollars: dollars(o.makerFillCost),
      expiration_time: o.expirationMs !== undefined ? isoTime(o.expirationMs) : null,
      created_time: isoTime(o.createdMs),
      last_update_time: isoTime(o.lastUpdateMs),
      self_trade_prevention_type: o.selfTradePrevention,
      order_group_id: null,
      cancel_order_on_pause: o.cancelOnPause,
    };
  }

  private averages(o: OrderRecord, fillsBefore: number): Record<string, string> {
    const filled = o.filled - fillsBefore;
    if (filled <= 0) return {};
    const account = this.exchange.accounts.get(o.apiKeyId)!;
    const fills = account.fills.filter((f) => f.orderId === o.orderId);
    // Fills of this request are the last ones of the order, summing to `filled`.
    let n = 0;
    let notional = new Dec(0);
    let fees = new Dec(0);
    for (let i = fills.length - 1; i >= 0 && n < filled; i--) {
      n += fills[i]!.count;
      notional = notional.plus(sizeDecimal(fills[i]!.count).times(priceDecimal(fills[i]!.price)));
      fees = fees.plus(fills[i]!.fee);
    }
    const count = sizeDecimal(filled);
    return { average_fill_price: notional.div(count).toFixed(4), average_fee_paid: fees.div(count).toFixed(4) };
  }

  private createdBody(o: OrderRecord) {
    return { order_id: o.orderId, client_order_id: o.clientOrderId, fill_count: countFp(o.filled), remaining_count: countFp(remainingOf(o)), ...this.averages(o, 0), ts_ms: this.exchange.nowMs() };
  }
}

const remainingOf = (o: OrderRecord): number => (o.status === 'resting' ? o.initialCount - o.filled : 0);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ExchangeError(413, 'request_too_large', `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
