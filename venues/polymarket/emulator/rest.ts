import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AuthError, verifyOrderSignature, type EmulatorAuth, type WireOrder } from './auth';
import { OrderRefused, type PolymarketEmulatorExchange } from './exchange';

/** Pagination: the client reads pages until this cursor. */
const END_CURSOR = 'LTE=';
const MAX_BODY_BYTES = 1024 * 1024;

const uint = z.string().regex(/^\d{1,78}$/);
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const orderBodySchema = z.object({
  order: z.object({
    salt: z.union([z.number().int().nonnegative(), uint]),
    maker: address,
    signer: address,
    taker: address,
    tokenId: uint,
    makerAmount: uint,
    takerAmount: uint,
    side: z.enum(['BUY', 'SELL']),
    expiration: uint,
    nonce: uint,
    feeRateBps: uint,
    signatureType: z.number().int().min(0).max(2),
    signature: z.string().regex(/^0x[0-9a-fA-F]+$/),
  }),
  owner: z.string(),
  orderType: z.string(),
  deferExec: z.boolean().optional(),
  postOnly: z.boolean().optional(),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The CLOB's REST API over the emulated exchange, in the shapes the official client reads: public
 * market data (/book, /markets, /tick-size, /neg-risk, /fee-rate, /time), API keys (L1 auth), and
 * the trading endpoints (L2 auth): orders, cancels, open orders, trades, heartbeats. Errors are the
 * venue's `{ error }` bodies; a refused order is `{ success: false, errorMsg }`.
 */
export class PolymarketRestApi {
  readonly counters = { requests: 0, unauthorized: 0, ordersAccepted: 0, ordersRefused: 0, heartbeats: 0, heartbeatCancels: 0 };
  /** Per API key: the live heartbeat chain's id and its dead-man timer. */
  private readonly heartbeats = new Map<string, { id: string; timer: NodeJS.Timeout }>();
  private heartbeatSeq = 0;

  constructor(
    private readonly exchange: PolymarketEmulatorExchange,
    private readonly auth: EmulatorAuth,
    private readonly opts: { chainId: 137 | 80002; heartbeatTimeoutMs: number; log: (line: string) => void; state: () => Record<string, unknown> },
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    const send = (status: number, payload: unknown) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    try {
      let body = '';
      for await (const chunk of req) {
        body += String(chunk);
        if (body.length > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
      }
      const url = new URL(req.url ?? '/', 'http://emulator');
      const [status, payload] = await this.route(req, url, body);
      send(status, payload);
    } catch (e) {
      if (e instanceof AuthError) {
        this.counters.unauthorized++;
        return send(401, { error: e.message });
      }
      if (e instanceof HttpError) return send(e.status, { error: e.message });
      this.opts.log(`rest: ${req.method} ${req.url}: ${(e as Error).stack ?? String(e)}`);
      send(500, { error: 'internal error' });
    }
  }

  private async route(req: IncomingMessage, url: URL, body: string): Promise<[number, unknown]> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const l2 = () => this.auth.verifyL2(req.headers, method, path, body);
    const token = () => {
      const id = url.searchParams.get('token_id');
      if (!id) throw new HttpError(400, 'token_id is required');
      if (!this.exchange.asset(id)) throw new HttpError(404, 'No orderbook exists for the requested token id');
      return id;
    };
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /':
        return [200, 'OK'];
      case 'GET /time':
        return [200, Math.floor(Date.now() / 1000)];
      case 'GET /_emulator/state':
        return [200, this.opts.state()];
      case 'GET /book': {
        const book = this.exchange.bookSummary(token());
        if (!book) throw new HttpError(404, 'No orderbook exists for the requested token id');
        return [200, book];
      }
      case 'GET /tick-size': {
        const tick = this.exchange.asset(token())!.tickSize;
        if (tick === undefined) throw new HttpError(404, 'No orderbook exists for the requested token id (none recorded yet)');
        return [200, { minimum_tick_size: Number(tick) }];
      }
      case 'GET /neg-risk':
        return [200, { neg_risk: this.exchange.marketOf(token())!.negRisk }];
      case 'GET /fee-rate':
        return [200, { base_fee: Number(this.exchange.marketOf(token())!.feeRateBps) }];
      case 'GET /markets':
        return [200, { limit: this.exchange.markets.size, count: this.exchange.markets.size, next_cursor: END_CURSOR, data: [...this.exchange.markets.keys()].map((id) => this.marketJson(id)) }];
      case 'POST /auth/api-key': {
        const { address: wallet, nonce } = await this.auth.verifyL1(req.headers);
        const creds = this.auth.create(wallet, nonce);
        if (!creds) throw new HttpError(400, 'Could not create api key: one exists for this address and nonce (derive it)');
        return [200, { apiKey: creds.key, secret: creds.secret, passphrase: creds.passphrase }];
      }
      case 'GET /auth/derive-api-key': {
        const { address: wallet, nonce } = await this.auth.verifyL1(req.headers);
        const creds = this.auth.derive(wallet, nonce);
        return [200, { apiKey: creds.key, secret: creds.secret, passphrase: creds.passphrase }];
      }
      case 'POST /order': {
        const who = l2();
        return this.postOrder(who.key, who.address, body);
      }
      case 'DELETE /order': {
        const owner = l2().key;
        const orderID = parseJson(body, z.object({ orderID: z.string().min(1) })).orderID;
        return [200, this.cancelMany(owner, [orderID])];
      }
      case 'DELETE /orders': {
        const owner = l2().key;
        return [200, this.cancelMany(owner, parseJson(body, z.array(z.string().min(1)).max(3000)))];
      }
      case 'DELETE /cancel-all': {
        const owner = l2().key;
        return [200, this.cancelMany(owner, this.exchange.openOrdersOf(owner).map((o) => o.id))];
      }
      case 'GET /data/orders': {
        const owner = l2().key;
        const filter = { id: url.searchParams.get('id'), market: url.searchParams.get('market'), asset_id: url.searchParams.get('asset_id') };
        const data = this.exchange
          .openOrdersOf(owner)
          .filter((o) => (!filter.id || o.id === filter.id) && (!filter.market || o.market === filter.market) && (!filter.asset_id || o.assetId === filter.asset_id))
          .map((o) => this.exchange.orderJson(o));
        return [200, { limit: data.length, count: data.length, next_cursor: END_CURSOR, data }];
      }
      case 'GET /data/trades': {
        const owner = l2().key;
        const filter = { id: url.searchParams.get('id'), market: url.searchParams.get('market'), asset_id: url.searchParams.get('asset_id'), before: url.searchParams.get('before'), after: url.searchParams.get('after') };
        const data = this.exchange.trades
          .filter((t) => t.owner === owner)
          .filter((t) => (!filter.id || t.id === filter.id) && (!filter.market || t.market === filter.market) && (!filter.asset_id || t.assetId === filter.asset_id))
          .filter((t) => (!filter.before || t.matchTimeMs < Number(filter.before) * 1000) && (!filter.after || t.matchTimeMs > Number(filter.after) * 1000))
          .map((t) => this.exchange.tradeJson(t));
        return [200, { limit: data.length, count: data.length, next_cursor: END_CURSOR, data }];
      }
      case 'POST /v1/heartbeats':
        return this.heartbeat(l2().key, body);
    }
    if (method === 'GET' && path.startsWith('/markets/')) {
      const id = decodeURIComponent(path.slice('/markets/'.length));
      if (!this.exchange.markets.has(id)) throw new HttpError(404, 'market not found');
      return [200, this.marketJson(id)];
    }
    if (method === 'GET' && path.startsWith('/data/order/')) {
      const owner = l2().key;
      const order = this.exchange.orders.get(decodeURIComponent(path.slice('/data/order/'.length)));
      if (!order || order.owner !== owner) throw new HttpError(404, 'order not found');
      return [200, this.exchange.orderJson(order)];
    }
    throw new HttpError(404, `no such endpoint: ${method} ${path}`);
  }

  /** A market as /markets lists it: what the recording shows (it names no question or outcomes: those stay empty; what is not played yet is null). */
  private marketJson(conditionId: string): Record<string, unknown> {
    const m = this.exchange.markets.get(conditionId)!;
    const first = this.exchange.asset(m.tokens[0]!)!;
    return {
      condition_id: m.conditionId,
      question: '',
      tokens: m.tokens.map((token_id) => {
        const last = this.exchange.asset(token_id)!.lastTradePrice;
        return { token_id, outcome: '', price: last === '' ? null : Number(last), winner: false };
      }),
      minimum_tick_size: first.tickSize === undefined ? null : Number(first.tickSize),
      minimum_order_size: Number(this.exchange.minOrderSize),
      neg_risk: m.negRisk,
      active: true,
      closed: false,
      archived: false,
      accepting_orders: true,
      enable_order_book: true,
      maker_base_fee: 0,
      taker_base_fee: Number(m.feeRateBps),
    };
  }

  private async postOrder(owner: string, wallet: string, body: string): Promise<[number, unknown]> {
    const parsed = orderBodySchema.safeParse(parseJson(body, z.unknown()));
    if (!parsed.success) throw new HttpError(400, `Invalid order payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const { order: raw, orderType, postOnly } = parsed.data;
    if (parsed.data.owner !== owner) throw new HttpError(400, 'the order\'s owner is not the API key that sent it');
    const order: WireOrder = { ...raw, salt: String(raw.salt) };
    // The API key trades for its wallet: that wallet signs; an EOA order spends the signer's own funds.
    if (order.signer.toLowerCase() !== wallet) throw new HttpError(400, 'the order signer is not the API key\'s address');
    if (order.signatureType === 0 && order.maker.toLowerCase() !== wallet) throw new HttpError(400, 'an EOA order\'s maker must be its signer');
    const market = this.exchange.marketOf(order.tokenId);
    if (!market) throw new HttpError(400, `no orderbook exists for token ${order.tokenId}`);
    const orderId = await verifyOrderSignature(order, { chainId: this.opts.chainId, negRisk: market.negRisk }).catch((e: unknown) => {
      if (e instanceof AuthError) throw new HttpError(400, 'invalid signature');
      throw e;
    });
    try {
      const { state, trades } = this.exchange.place({ order, orderId, owner, orderType, postOnly: postOnly === true });
      this.counters.ordersAccepted++;
      const status = state.status === 'resting' && state.filled === 0 ? 'live' : 'matched';
      return [200, { success: true, errorMsg: '', orderID: orderId, status, transactionsHashes: [], tradeIDs: trades.map((t) => t.id) }];
    } catch (e) {
      if (e instanceof OrderRefused) return this.refused(e);
      throw e;
    }
  }

  private refused(e: OrderRefused): [number, unknown] {
    this.counters.ordersRefused++;
    // Killed FOK/FAK orders are answered as unsuccessful orders; everything else as a 400 naming the code.
    if (/NOT_FILLED/.test(e.code)) return [200, { success: false, errorMsg: e.message, orderID: null }];
    return [e.httpStatus, { error: `${e.code}: ${e.message}`, success: false, errorMsg: e.code, orderID: null }];
  }

  private cancelMany(owner: string, ids: string[]): { canceled: string[]; not_canceled: Record<string, string> } {
    const canceled: string[] = [];
    const notCanceled: Record<string, string> = {};
    for (const id of ids) {
      const r = this.exchange.cancel(id, owner);
      if (r.canceled) canceled.push(id);
      else notCanceled[id] = r.reason!;
    }
    return { canceled, not_canceled: notCanceled };
  }

  /**
   * POST /v1/heartbeats: `heartbeat_id` null starts a chain; each answer's id must come with the
   * next beat. A chain that misses `heartbeatTimeoutMs` cancels every open order of the key.
   */
  private heartbeat(owner: string, body: string): [number, unknown] {
    const { heartbeat_id } = parseJson(body, z.object({ heartbeat_id: z.string().nullable() }));
    const live = this.heartbeats.get(owner);
    if (heartbeat_id !== null && heartbeat_id !== live?.id) throw new HttpError(400, `Invalid heartbeat id ${heartbeat_id}: start a new chain with null`);
    if (live) clearTimeout(live.timer);
    this.counters.heartbeats++;
    const id = `hb-${++this.heartbeatSeq}`;
    const timer = setTimeout(() => {
      this.heartbeats.delete(owner);
      const open = this.exchange.openOrdersOf(owner);
      for (const o of open) this.exchange.cancel(o.id, owner);
      this.counters.heartbeatCancels += open.length;
      this.opts.log(`heartbeat of ${owner} missed: canceled ${open.length} open order(s)`);
    }, this.opts.heartbeatTimeoutMs);
    this.heartbeats.set(owner, { id, timer });
    return [200, { heartbeat_id: id }];
  }

  close(): void {
    for (const { timer } of this.heartbeats.values()) clearTimeout(timer);
    this.heartbeats.clear();
  }
}

function parseJson<T>(body: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, `invalid request body: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
