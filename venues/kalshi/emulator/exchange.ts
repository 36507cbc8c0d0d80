import { randomUUID, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Dec } from '../../../domain/decimal';
import { ONE_DOLLAR, priceDecimal, priceUnits, sizeDecimal, sizeUnits } from '../../../domain/fixed-point';
import { BinaryOrderBook, type BookSide, type Level } from '../../../domain/market-data/order-book';
import { toUnits, type UnitEvent } from '../../../domain/market-data/events';
import { SimMatchingEngine, type FeeSchedule, type SimFill, type SimOrderRequest, type SimOrderState } from '../../../domain/sim/matching';
import { parseKalshiTrade } from '../ws-messages';
import { kalshiToMarketEvent } from '../market-events';
import type { KalshiErrorCode } from '../errors';
import type { MalformedLine } from '../../replay/gold-feed';
import { loadCatalog, marketStatusAt, onPriceGrid, type ListedMarket, type MarketStatus } from './catalog';
import { MergedRecording, type TimedMessage } from './recording';
import { verifyKalshiHeaders } from './auth';
import type { EmulatorExchangeView, EmulatorMarketMessage, EmulatorUserMessage, HandshakeVerdict } from './types';
import { cents, countFp, dollars, isoTime, legacyCount, priceDollars, seconds } from './wire';

/** A refusal the REST layer turns into Kalshi's error body. */
export class ExchangeError extends Error {
  constructor(
    readonly status: number,
    readonly code: KalshiErrorCode,
    message: string,
    readonly details?: string,
  ) {
    super(message);
  }
}

export interface EmulatorAccountSpec {
  apiKeyId: string;
  publicKey: KeyObject;
  /** Starting cash in dollars, e.g. "1000.00" (default 10000). */
  balance?: string;
}

export interface ExchangeOptions {
  dataDir: string;
  markets?: readonly string[] | number;
  /** Exchange time to start at (default: the first recorded message). */
  startAtMs?: number;
  accounts: EmulatorAccountSpec[];
  fees?: FeeSchedule;
  /** Exchange-time spacing of `ticker` messages per market (default 1000 ms). */
  tickerIntervalMs?: number;
  log: (line: string) => void;
}

export type OrderSide = 'bid' | 'ask';
export type OrderStatus = 'resting' | 'canceled' | 'executed';

export interface NewOrder {
  ticker: string;
  clientOrderId?: string;
  side: OrderSide;
  /** Contracts in 1e-6 units. */
  count: number;
  /** YES price in 1e-4 $ units. */
  price: number;
  timeInForce: 'good_till_canceled' | 'immediate_or_cancel' | 'fill_or_kill';
  selfTradePrevention: 'taker_at_cross' | 'maker';
  postOnly: boolean;
  /** Only reduces the position: it may not open or add to one. */
  reduceOnly?: boolean;
  cancelOnPause: boolean;
  expirationMs?: number;
}

export interface OrderRecord {
  orderId: string;
  apiKeyId: string;
  clientOrderId: string;
  ticker: string;
  side: OrderSide;
  price: number;
  initialCount: number;
  filled: number;
  status: OrderStatus;
  timeInForce: NewOrder['timeInForce'];
  selfTradePrevention: NewOrder['selfTradePrevention'];
  cancelOnPause: boolean;
  expirationMs?: number;
  createdMs: number;
  lastUpdateMs: number;
  takerFillCost: Dec;
  makerFillCost: Dec;
  takerFees: Dec;
  makerFees: Dec;
  /** Engine fills already booked to the account. */
  bookedFills: number;
}

export interface FillRecord {
  fillId: string;
  tradeId: string;
  orderId: string;
  clientOrderId: string;
  ticker: string;
  side: OrderSide;
  price: number;
  count: number;
  isTaker: boolean;
  fee: Dec;
  tsMs: number;
}

export interface PositionRecord {
  ticker: string;
  /** Signed YES contracts in 1e-6 units (negative: NO contracts). */
  position: number;
  /** What the open position cost (in its held outcome's prices). */
  cost: Dec;
  totalTraded: Dec;
  realizedPnl: Dec;
  fees: Dec;
  volume: number;
  lastUpdatedMs: number;
}

export interface AccountState {
  apiKeyId: string;
  userId: string;
  publicKey: KeyObject;
  balance: Dec;
  orders: Map<string, OrderRecord>;
  fills: FillRecord[];
  positions: Map<string, PositionRecord>;
  updatedMs: number;
}

export interface RecordedTrade {
  tradeId: string;
  ticker: string;
  yesPrice: number;
  count: number;
  takerSide: 'yes' | 'no';
  tsMs: number;
}

interface MarketState {
  listed: ListedMarket;
  book: BinaryOrderBook;
  marketId: string;
  status: MarketStatus;
  volume: number;
  lastPrice: number | undefined;
  trades: RecordedTrade[];
  lastTickerMs: number | undefined;
  tickerDirty: boolean;
  openOrders: number;
}

export interface ExchangeCounters {
  recordedMessages: number;
  snapshots: number;
  deltas: number;
  trades: number;
  refusedDeltas: number;
  malformed: number;
  marketMessages: number;
  userMessages: number;
  ordersCreated: number;
  ordersRejected: number;
  /** Amendments applied (price or count changed in place). */
  amends: number;
  fills: number;
}

const DEFAULT_BALANCE = '10000.00';
export const DEFAULT_FEES: FeeSchedule = { takerRate: new Dec('0.07'), makerRate: new Dec('0.0175') };
/** Signature timestamps further than this from wall time are refused (Kalshi rejects stale requests). */
export const SIGNATURE_WINDOW_MS = 30_000;

const TIF: Record<NewOrder['timeInForce'], SimOrderRequest['tif']> = { good_till_canceled: 'gtc', immediate_or_cancel: 'ioc', fill_or_kill: 'fok' };

/**
 * The emulated Kalshi exchange: recorded markets and books on the recording's exchange clock, orders
 * matched against the recorded book by the paper matching engine, accounts with balance, positions
 * and fills, settlement at the recorded result. It implements the view the WebSocket server reads.
 */
export class KalshiEmulatorExchange implements EmulatorExchangeView {
  readonly markets = new Map<string, MarketState>();
  readonly accounts = new Map<string, AccountState>();
  readonly counters: ExchangeCounters = { recordedMessages: 0, snapshots: 0, deltas: 0, trades: 0, refusedDeltas: 0, malformed: 0, marketMessages: 0, userMessages: 0, ordersCreated: 0, ordersRejected: 0, amends: 0, fills: 0 };
  readonly malformedSamples: MalformedLine[] = [];
  tradingPaused = false;
  private readonly engine: SimMatchingEngine;
  private readonly recording: MergedRecording;
  private readonly marketListeners = new Set<(m: EmulatorMarketMessage) => void>();
  private readonly userListeners = new Set<(apiKeyId: string, m: EmulatorUserMessage) => void>();
  private readonly ordersById = new Map<string, OrderRecord>();
  private readonly tickerIntervalMs: number;
  private clockMs = 0;
  private advancing: Promise<void> = Promise.resolve();
  private ended = false;

  private constructor(
    private readonly opts: ExchangeOptions,
    catalog: ListedMarket[],
  ) {
    this.engine = new SimMatchingEngine(opts.fees ?? DEFAULT_FEES);
    this.tickerIntervalMs = opts.tickerIntervalMs ?? 1000;
    for (const listed of catalog) {
      this.markets.set(listed.ticker, { listed, book: new BinaryOrderBook(listed.ticker), marketId: randomUUID(), status: 'initialized', volume: 0, lastPrice: undefined, trades: [], lastTickerMs: undefined, tickerDirty: false, openOrders: 0 });
    }
    for (const a of opts.accounts) this.addAccount(a);
    this.recording = new MergedRecording(opts.dataDir, [...this.markets.keys()], (bad) => {
      this.counters.malformed++;
      if (this.malformedSamples.length < 20) this.malformedSamples.push(bad);
      opts.log(`malformed recorded line ${bad.lineNo}: ${bad.error}`);
    });
  }

  /** Loads the markets, positions the clock at `startAtMs` (default: the first recorded message). */
  static async open(opts: ExchangeOptions): Promise<KalshiEmulatorExchange> {
    const exchange = new KalshiEmulatorExchange(opts, loadCatalog(opts.dataDir, opts.markets));
    const first = await exchange.recording.peekTime();
    const start = opts.startAtMs ?? first ?? Math.min(...[...exchange.markets.values()].map((m) => m.listed.openMs));
    exchange.clockMs = Math.min(start, first ?? start);
    for (const m of exchange.markets.values()) m.status = marketStatusAt(m.listed, exchange.clockMs);
    await exchange.advanceTo(start);
    return exchange;
  }

  addAccount(spec: EmulatorAccountSpec): void {
    if (this.accounts.has(spec.apiKeyId)) throw new Error(`account ${spec.apiKeyId} is registered already`);
    this.accounts.set(spec.apiKeyId, { apiKeyId: spec.apiKeyId, userId: randomUUID(), publicKey: spec.publicKey, balance: new Dec(spec.balance ?? DEFAULT_BALANCE), orders: new Map(), fills: [], positions: new Map(), updatedMs: this.clockMs });
  }

  nowMs(): number {
    return this.clockMs;
  }

  /** Exchange time of the next recorded message (undefined at the end of the recording). */
  nextRecordedMs(): Promise<number | undefined> {
    return this.recording.peekTime();
  }

  /** Last moment anything is scheduled: the latest settlement / close of a listed market. */
  endMs(): number {
    return Math.max(...[...this.markets.values()].map((m) => m.listed.settledMs ?? m.listed.closeMs));
  }

  get atEnd(): boolean {
    return this.ended;
  }

  log(line: string): void {
    this.opts.log(line);
  }

  // --- clock -------------------------------------------------------------------------------

  /** Plays the recording up to exchange time `targetMs` (calls are serialized; the clock never goes back). */
  advanceTo(targetMs: number): Promise<void> {
    const run = this.advancing.then(() => this.playUntil(targetMs));
    this.advancing = run.catch(() => {});
    return run;
  }

  private async playUntil(targetMs: number): Promise<void> {
    for (;;) {
      const message = await this.recording.next(targetMs);
      if (!message) break;
      this.passTime(message.exchangeMs);
      this.applyRecorded(message);
      this.flushTickers();
    }
    this.passTime(targetMs);
    this.flushTickers();
    if ((await this.recording.peekTime()) === undefined && targetMs >= this.endMs()) this.ended = true;
  }

  /** Moves the clock to `ms` (if later), firing status changes and order expiries on the way. */
  private passTime(ms: number): void {
    if (ms <= this.clockMs) return;
    // Status changes happen in time order across markets.
    const due: { at: number; market: MarketState; status: MarketStatus }[] = [];
    for (const m of this.markets.values()) {
      const { openMs, closeMs, settledMs } = m.listed;
      for (const [at, status] of [[openMs, 'active'], [closeMs, 'closed'], [settledMs, 'finalized']] as const) {
        if (at !== undefined && at > this.clockMs && at <= ms) due.push({ at, market: m, status });
      }
    }
    due.sort((a, b) => a.at - b.at);
    for (const d of due) {
      this.clockMs = d.at;
      this.changeStatus(d.market, d.status);
    }
    this.clockMs = ms;
    this.expireOrders();
  }

  private changeStatus(m: MarketState, status: MarketStatus): void {
    if (m.status === status) return;
    m.status = status;
    const { listed } = m;
    const base = { market_ticker: listed.ticker };
    if (status === 'active') this.emitMarket({ channel: 'market_lifecycle_v2', type: 'market_lifecycle_v2', marketTicker: listed.ticker, msg: { ...base, event_type: 'activated', open_ts: seconds(listed.openMs), close_ts: seconds(listed.closeMs) } });
    if (status === 'closed') {
      this.emitMarket({ channel: 'market_lifecycle_v2', type: 'market_lifecycle_v2', marketTicker: listed.ticker, msg: { ...base, event_type: 'deactivated', is_deactivated: true, close_ts: seconds(listed.closeMs) } });
      this.cancelMarketOrders(m, 'market closed');
    }
    if (status === 'finalized' && listed.result) {
      this.cancelMarketOrders(m, 'market settled');
      const settlementValue = listed.result === 'yes' ? '1.0000' : '0.0000';
      this.emitMarket({ channel: 'market_lifecycle_v2', type: 'market_lifecycle_v2', marketTicker: listed.ticker, msg: { ...base, event_type: 'determined', result: listed.result, determination_ts: seconds(this.clockMs), settlement_value: settlementValue } });
      this.settle(m, listed.result);
      this.emitMarket({ channel: 'market_lifecycle_v2', type: 'market_lifecycle_v2', marketTicker: listed.ticker, msg: { ...base, event_type: 'settled', settled_ts: seconds(this.clockMs) } });
    }
    this.log(`market ${listed.ticker} ${status} at ${isoTime(this.clockMs)}`);
  }

  // --- recorded market data ----------------------------------------------------------------

  private applyRecorded(rec: TimedMessage): void {
    this.counters.recordedMessages++;
    const m = this.markets.get(rec.market);
    if (!m) return;
    const { type, msg } = rec.event;
    const malformed = (error: string) => {
      this.counters.malformed++;
      if (this.malformedSamples.length < 20) this.malformedSamples.push({ lineNo: rec.lineNo, raw: JSON.stringify(rec.event), error });
    };
    if (typeof (msg as { market_id?: unknown })?.market_id === 'string') m.marketId = (msg as { market_id: string }).market_id;
    let event: UnitEvent | undefined;
    if (type === 'orderbook_snapshot' || type === 'orderbook_delta') {
      const parsed = kalshiToMarketEvent(type, msg, rec.exchangeMs);
      if (!parsed?.ok) return malformed(parsed?.error ?? `not a book message: ${type}`);
      const ev = toUnits(parsed.value);
      if (ev.t === 'snapshot') {
        this.counters.snapshots++;
        if (!this.rebase(m, ev.yes, ev.no, rec)) return;
        event = { ...ev, m: m.listed.ticker, ts: rec.exchangeMs };
      } else if (ev.t === 'delta') {
        this.counters.deltas++;
        if (!m.book.applyDelta(ev.side, ev.price, ev.delta, rec.exchangeMs).ok) {
          // The book waits for the next snapshot, whose deltas re-base subscribers too.
          this.counters.refusedDeltas++;
          return;
        }
        this.emitMarket({ channel: 'orderbook_delta', type: 'orderbook_delta', marketTicker: m.listed.ticker, msg: msg as Record<string, unknown> });
        event = { ...ev, m: m.listed.ticker, ts: rec.exchangeMs };
      }
      m.tickerDirty = true;
    } else if (type === 'trade') {
      const parsed = parseKalshiTrade(msg, rec.recvMs);
      if (!parsed.ok) return malformed(parsed.error);
      const t = parsed.value;
      this.counters.trades++;
      let price: number, count: number;
      try {
        price = priceUnits(t.yesPrice);
        count = sizeUnits(t.count);
      } catch (e) {
        return malformed((e as Error).message);
      }
      m.trades.push({ tradeId: t.tradeId, ticker: m.listed.ticker, yesPrice: price, count, takerSide: t.takerSide, tsMs: t.exchangeTsMs });
      m.volume += count;
      m.lastPrice = price;
      m.tickerDirty = true;
      this.emitMarket({ channel: 'trade', type: 'trade', marketTicker: m.listed.ticker, msg: msg as Record<string, unknown> });
      event = { t: 'trade', m: m.listed.ticker, ts: t.exchangeTsMs, id: t.tradeId, price, count, takerSide: t.takerSide };
    } else return;
    if (event && m.openOrders > 0) {
      this.engine.onMarketEvents([event], (ticker) => this.markets.get(ticker)?.book, this.clockMs);
      this.syncMarketOrders(m);
    }
  }

  /** A recorded snapshot: subscribers get the deltas that turn the book they hold into the new one. */
  private rebase(m: MarketState, yes: Level[], no: Level[], rec: TimedMessage): boolean {
    const before = { yes: new Map(m.book.levels('yes').map((l) => [l.price, l.size])), no: new Map(m.book.levels('no').map((l) => [l.price, l.size])) };
    if (!m.book.applySnapshot(yes, no, rec.exchangeMs).ok) {
      this.counters.refusedDeltas++;
      return false;
    }
    for (const side of ['yes', 'no'] as const) {
      const after = new Map(m.book.levels(side).map((l) => [l.price, l.size]));
      const prices = [...new Set([...before[side].keys(), ...after.keys()])].sort((a, b) => a - b);
      for (const price of prices) {
        const delta = (after.get(price) ?? 0) - (before[side].get(price) ?? 0);
        if (delta !== 0) this.emitMarket({ channel: 'orderbook_delta', type: 'orderbook_delta', marketTicker: m.listed.ticker, msg: { market_ticker: m.listed.ticker, market_id: m.marketId, price_dollars: priceDollars(price), delta_fp: sizeDecimal(delta).toFixed(2), side, ts: isoTime(rec.exchangeMs), ts_ms: rec.exchangeMs } });
      }
    }
    return true;
  }

  private flushTickers(): void {
    for (const m of this.markets.values()) {
      if (!m.tickerDirty || (m.lastTickerMs !== undefined && this.clockMs - m.lastTickerMs < this.tickerIntervalMs)) continue;
      m.tickerDirty = false;
      m.lastTickerMs = this.clockMs;
      this.emitMarket({ channel: 'ticker', type: 'ticker', marketTicker: m.listed.ticker, msg: this.tickerMsg(m) });
    }
  }

  private tickerMsg(m: MarketState): Record<string, unknown> {
    const top = m.book.stale ? {} : m.book.top();
    const bid = top.yesBid?.price ?? 0;
    const ask = top.yesAsk?.price ?? ONE_DOLLAR;
    const last = m.lastPrice ?? 0;
    return {
      market_ticker: m.listed.ticker,
      market_id: m.marketId,
      price: Math.floor(last / 100),
      yes_bid: Math.floor(bid / 100),
      yes_ask: Math.floor(ask / 100),
      price_dollars: priceDollars(last),
      yes_bid_dollars: priceDollars(bid),
      yes_ask_dollars: priceDollars(ask),
      volume: legacyCount(m.volume),
      volume_fp: countFp(m.volume),
      open_interest: 0,
      open_interest_fp: '0.00',
      dollar_volume: 0,
      dollar_open_interest: 0,
      ts: seconds(this.clockMs),
      ts_ms: this.clockMs,
      time: isoTime(this.clockMs),
    };
  }

  // --- view for the WebSocket server -------------------------------------------------------

  snapshot(marketTicker: string): Record<string, unknown> | undefined {
    const m = this.markets.get(marketTicker);
    if (!m) return undefined;
    const side = (s: BookSide) => (m.book.stale && m.book.staleBecause === 'no snapshot yet' ? [] : m.book.levels(s).reverse().map((l) => [priceDollars(l.price), countFp(l.size)]));
    return { market_ticker: marketTicker, market_id: m.marketId, yes_dollars_fp: side('yes'), no_dollars_fp: side('no') };
  }

  marketTickers(): string[] {
    return [...this.markets.keys()];
  }

  onMarketMessage(listener: (message: EmulatorMarketMessage) => void): () => void {
    this.marketListeners.add(listener);
    return () => this.marketListeners.delete(listener);
  }

  onUserMessage(listener: (apiKeyId: string, message: EmulatorUserMessage) => void): () => void {
    this.userListeners.add(listener);
    return () => this.userListeners.delete(listener);
  }

  verifyHandshake(headers: IncomingHttpHeaders, path: string): HandshakeVerdict {
    return verifyKalshiHeaders(headers, 'GET', path, (id) => this.accounts.get(id)?.publicKey, Date.now(), SIGNATURE_WINDOW_MS);
  }

  private emitMarket(message: EmulatorMarketMessage): void {
    this.counters.marketMessages++;
    for (const l of this.marketListeners) l(message);
  }

  private emitUser(apiKeyId: string, message: EmulatorUserMessage): void {
    this.counters.userMessages++;
    for (const l of this.userListeners) l(apiKeyId, message);
  }

  // --- orders ------------------------------------------------------------------------------

  market(ticker: string): MarketState {
    const m = this.markets.get(ticker);
    if (!m) throw new ExchangeError(404, 'market_not_found', `market ${ticker} not found`);
    return m;
  }

  account(apiKeyId: string): AccountState {
    const a = this.accounts.get(apiKeyId);
    if (!a) throw new ExchangeError(401, 'unauthorized', 'unknown API key');
    return a;
  }

  order(apiKeyId: string, orderId: string): OrderRecord {
    const o = this.ordersById.get(orderId);
    if (!o || o.apiKeyId !== apiKeyId) throw new ExchangeError(404, 'order_not_found', `order ${orderId} not found`);
    return o;
  }

  private requireTrading(m: MarketState): void {
    if (this.tradingPaused) throw new ExchangeError(400, 'trading_paused', 'trading is paused on the exchange');
    if (m.status !== 'active') throw new ExchangeError(400, 'market_closed', `market ${m.listed.ticker} is ${m.status}, not open for trading`);
  }

  /** Cash a new order needs: the price of the contracts it would open (closing a position frees cash). */
  private collateralFor(account: AccountState, ticker: string, side: OrderSide, count: number, price: number): Dec {
    const position = account.positions.get(ticker)?.position ?? 0;
    const opening = side === 'bid' ? count - Math.max(0, -position) : count - Math.max(0, position);
    return opening <= 0 ? new Dec(0) : sizeDecimal(opening).times(priceDecimal(side === 'bid' ? price : ONE_DOLLAR - price));
  }

  private reserved(account: AccountState): Dec {
    let sum = new Dec(0);
    for (const o of account.orders.values()) if (o.status === 'resting') sum = sum.plus(sizeDecimal(o.initialCount - o.filled).times(priceDecimal(o.side === 'bid' ? o.price : ONE_DOLLAR - o.price)));
    return sum;
  }

  createOrder(apiKeyId: string, req: NewOrder): OrderRecord {
    const account = this.account(apiKeyId);
    const m = this.market(req.ticker);
    try {
      this.requireTrading(m);
      if (!onPriceGrid(m.listed, req.price)) throw new ExchangeError(400, 'invalid_price', `price ${priceDollars(req.price)} is not on the market's price grid`);
      if (req.clientOrderId && [...account.orders.values()].some((o) => o.clientOrderId === req.clientOrderId && o.status === 'resting')) {
        throw new ExchangeError(409, 'order_already_exists', `an open order with client_order_id ${req.clientOrderId} exists`);
      }
      if (req.expirationMs !== undefined && req.timeInForce !== 'good_till_canceled') throw new ExchangeError(400, 'invalid_parameters', 'expiration_time needs time_in_force good_till_canceled');
      if (req.expirationMs !== undefined && req.expirationMs <= this.clockMs) throw new ExchangeError(400, 'invalid_parameters', 'expiration_time is in the past');
      if (req.reduceOnly) {
        // As the API documents it: the count is capped by the position; with nothing to reduce the order is refused.
        const position = account.positions.get(req.ticker)?.position ?? 0;
        const reducible = req.side === 'bid' ? Math.max(0, -position) : Math.max(0, position);
        if (reducible === 0) throw new ExchangeError(400, 'reduce_only_violation', `a reduce-only ${req.side} has no position to reduce`);
        req = { ...req, count: Math.min(req.count, reducible) };
      }
      const needed = this.collateralFor(account, req.ticker, req.side, req.count, req.price);
      if (needed.gt(account.balance.minus(this.reserved(account)))) throw new ExchangeError(400, 'insufficient_balance', `order needs $${dollars(needed)}, available $${dollars(account.balance.minus(this.reserved(account)))}`);
    } catch (e) {
      this.counters.ordersRejected++;
      throw e;
    }
    const orderId = randomUUID();
    const order: OrderRecord = {
      orderId,
      apiKeyId,
      clientOrderId: req.clientOrderId ?? '',
      ticker: req.ticker,
      side: req.side,
      price: req.price,
      initialCount: req.count,
      filled: 0,
      status: 'resting',
      timeInForce: req.timeInForce,
      selfTradePrevention: req.selfTradePrevention,
      cancelOnPause: req.cancelOnPause,
      expirationMs: req.expirationMs,
      createdMs: this.clockMs,
      lastUpdateMs: this.clockMs,
      takerFillCost: new Dec(0),
      makerFillCost: new Dec(0),
      takerFees: new Dec(0),
      makerFees: new Dec(0),
      bookedFills: 0,
    };
    const state = this.engine.submit({ clientOrderId: orderId, market: req.ticker, outcome: 'yes', action: req.side === 'bid' ? 'buy' : 'sell', limitPrice: req.price, size: req.count, tif: TIF[req.timeInForce], postOnly: req.postOnly }, m.book, this.clockMs);
    if (state.status === 'rejected') {
      this.counters.ordersRejected++;
      const postOnly = req.postOnly && /post-only/.test(state.rejectReason ?? '');
      throw new ExchangeError(400, postOnly ? 'post_only_cross' : 'invalid_order', state.rejectReason ?? 'order rejected');
    }
    this.counters.ordersCreated++;
    account.orders.set(orderId, order);
    this.ordersById.set(orderId, order);
    m.openOrders++;
    this.syncOrder(order, true);
    return order;
  }

  cancelOrder(apiKeyId: string, orderId: string): { order: OrderRecord; reducedBy: number } {
    const order = this.order(apiKeyId, orderId);
    if (order.status !== 'resting') throw new ExchangeError(404, 'order_not_found', `order ${orderId} is ${order.status}, not resting`);
    const reducedBy = order.initialCount - order.filled;
    this.closeOrder(order, 'canceled');
    return { order, reducedBy };
  }

  /** Decrease: remaining becomes `remaining` (> 0 keeps its queue place; 0 cancels). */
  decreaseOrder(apiKeyId: string, orderId: string, spec: { reduceBy?: number; reduceTo?: number }): OrderRecord {
    const order = this.order(apiKeyId, orderId);
    if (order.status !== 'resting') throw new ExchangeError(400, 'invalid_order', `order ${orderId} is ${order.status}, not resting`);
    const remaining = order.initialCount - order.filled;
    const target = spec.reduceTo !== undefined ? spec.reduceTo : remaining - (spec.reduceBy ?? 0);
    if (target < 0 || target > remaining) throw new ExchangeError(400, 'invalid_parameters', `cannot decrease remaining ${countFp(remaining)} to ${countFp(target)}`);
    if (target === 0) {
      this.closeOrder(order, 'canceled');
      return order;
    }
    this.engine.decrease(order.orderId, remaining - target);
    order.initialCount = order.filled + target;
    this.syncOrder(order, true);
    return order;
  }

  /** Amend price and/or total count (`count` = already filled + desired remaining). */
  amendOrder(apiKeyId: string, orderId: string, spec: { ticker: string; side: OrderSide; price: number; count: number; updatedClientOrderId?: string }): { order: OrderRecord; fillsBefore: number } {
    const order = this.order(apiKeyId, orderId);
    if (order.ticker !== spec.ticker || order.side !== spec.side) throw new ExchangeError(400, 'invalid_parameters', 'ticker and side must match the order');
    if (order.status !== 'resting') throw new ExchangeError(400, 'invalid_order', `order ${orderId} is ${order.status}, not resting`);
    const m = this.market(order.ticker);
    this.requireTrading(m);
    if (!onPriceGrid(m.listed, spec.price)) throw new ExchangeError(400, 'invalid_price', `price ${priceDollars(spec.price)} is not on the market's price grid`);
    if (spec.count <= order.filled) throw new ExchangeError(400, 'invalid_parameters', `count ${countFp(spec.count)} must exceed the filled ${countFp(order.filled)}`);
    const fillsBefore = order.filled;
    if (spec.updatedClientOrderId) order.clientOrderId = spec.updatedClientOrderId;
    this.engine.amend(order.orderId, { limitPrice: spec.price, size: spec.count }, m.book, this.clockMs);
    this.counters.amends++;
    order.price = spec.price;
    order.initialCount = spec.count;
    this.syncOrder(order, true);
    return { order, fillsBefore };
  }

  private closeOrder(order: OrderRecord, why: string): void {
    this.engine.cancel(order.orderId);
    order.status = 'canceled';
    order.lastUpdateMs = this.clockMs;
    this.market(order.ticker).openOrders--;
    this.emitUser(order.apiKeyId, { channel: 'user_orders', type: 'user_order', marketTicker: order.ticker, msg: this.userOrderMsg(order) });
    if (why !== 'canceled') this.log(`order ${order.orderId} canceled: ${why}`);
  }

  private cancelMarketOrders(m: MarketState, why: string): void {
    for (const o of this.ordersById.values()) if (o.ticker === m.listed.ticker && o.status === 'resting') this.closeOrder(o, why);
  }

  private expireOrders(): void {
    for (const o of this.ordersById.values()) if (o.status === 'resting' && o.expirationMs !== undefined && o.expirationMs <= this.clockMs) this.closeOrder(o, 'expired');
  }

  /** Pausing trading cancels the orders that asked for it (`cancel_order_on_pause`). */
  setTradingPaused(paused: boolean): void {
    this.tradingPaused = paused;
    if (paused) for (const o of this.ordersById.values()) if (o.status === 'resting' && o.cancelOnPause) this.closeOrder(o, 'trading paused');
  }

  private syncMarketOrders(m: MarketState): void {
    for (const o of this.ordersById.values()) if (o.ticker === m.listed.ticker && o.status === 'resting') this.syncOrder(o, false);
  }

  /** Books the engine's new fills of an order and its status; emits the private messages. */
  private syncOrder(order: OrderRecord, changed: boolean): void {
    const state: SimOrderState = this.engine.orders.get(order.orderId)!;
    const fresh = state.fills.slice(order.bookedFills);
    order.bookedFills = state.fills.length;
    for (const fill of fresh) this.bookFill(order, fill);
    let status: OrderStatus = 'resting';
    if (state.status === 'filled' || order.filled >= order.initialCount) status = 'executed';
    else if (state.status === 'canceled') status = 'canceled';
    if (status !== order.status) {
      order.status = status;
      this.market(order.ticker).openOrders--;
      changed = true;
    }
    if (changed || fresh.length > 0) {
      order.lastUpdateMs = this.clockMs;
      this.emitUser(order.apiKeyId, { channel: 'user_orders', type: 'user_order', marketTicker: order.ticker, msg: this.userOrderMsg(order) });
    }
  }

  private bookFill(order: OrderRecord, fill: SimFill): void {
    const account = this.accounts.get(order.apiKeyId)!;
    const isTaker = fill.liquidity === 'taker';
    const count = sizeDecimal(fill.size);
    const yesPrice = priceDecimal(fill.price);
    const outcomePrice = order.side === 'bid' ? yesPrice : new Dec(1).minus(yesPrice);
    const cost = count.times(outcomePrice);
    order.filled += fill.size;
    if (isTaker) {
      order.takerFillCost = order.takerFillCost.plus(cost);
      order.takerFees = order.takerFees.plus(fill.fee);
    } else {
      order.makerFillCost = order.makerFillCost.plus(cost);
      order.makerFees = order.makerFees.plus(fill.fee);
    }
    const position = this.positionOf(account, order.ticker);
    // Signed YES position: a bid adds YES (first closing any NO held), an ask adds NO (first selling YES held).
    const signedDelta = order.side === 'bid' ? fill.size : -fill.size;
    const held = position.position;
    const closing = held !== 0 && Math.sign(held) !== Math.sign(signedDelta) ? Math.min(Math.abs(held), fill.size) : 0;
    const opening = fill.size - closing;
    if (closing > 0) {
      // Closing sells the held outcome at its price: YES at p, or NO at 1 − p.
      const heldPrice = held > 0 ? yesPrice : new Dec(1).minus(yesPrice);
      const proceeds = sizeDecimal(closing).times(heldPrice);
      const basis = position.cost.times(closing).div(Math.abs(held)).toDecimalPlaces(10);
      account.balance = account.balance.plus(proceeds);
      position.realizedPnl = position.realizedPnl.plus(proceeds.minus(basis));
      position.cost = position.cost.minus(basis);
    }
    if (opening > 0) {
      const price = signedDelta > 0 ? yesPrice : new Dec(1).minus(yesPrice);
      const paid = sizeDecimal(opening).times(price);
      account.balance = account.balance.minus(paid);
      position.cost = position.cost.plus(paid);
    }
    position.position += signedDelta;
    if (position.position === 0) position.cost = new Dec(0);
    account.balance = account.balance.minus(fill.fee);
    position.fees = position.fees.plus(fill.fee);
    position.totalTraded = position.totalTraded.plus(cost);
    position.volume += fill.size;
    position.lastUpdatedMs = this.clockMs;
    account.updatedMs = this.clockMs;
    const record: FillRecord = { fillId: randomUUID(), tradeId: randomUUID(), orderId: order.orderId, clientOrderId: order.clientOrderId, ticker: order.ticker, side: order.side, price: fill.price, count: fill.size, isTaker, fee: fill.fee, tsMs: this.clockMs };
    account.fills.push(record);
    this.counters.fills++;
    this.emitUser(account.apiKeyId, { channel: 'fill', type: 'fill', marketTicker: order.ticker, msg: this.fillMsg(record, position) });
    this.emitUser(account.apiKeyId, { channel: 'market_positions', type: 'market_position', marketTicker: order.ticker, msg: this.positionMsg(account, position) });
  }

  private positionOf(account: AccountState, ticker: string): PositionRecord {
    let p = account.positions.get(ticker);
    if (!p) account.positions.set(ticker, (p = { ticker, position: 0, cost: new Dec(0), totalTraded: new Dec(0), realizedPnl: new Dec(0), fees: new Dec(0), volume: 0, lastUpdatedMs: this.clockMs }));
    return p;
  }

  /** Pays $1 per contract of the winning outcome and closes every position in the market. */
  private settle(m: MarketState, result: 'yes' | 'no'): void {
    for (const account of this.accounts.values()) {
      const position = account.positions.get(m.listed.ticker);
      if (!position || position.position === 0) continue;
      const wins = (position.position > 0 && result === 'yes') || (position.position < 0 && result === 'no');
      const payout = wins ? sizeDecimal(Math.abs(position.position)) : new Dec(0);
      account.balance = account.balance.plus(payout);
      position.realizedPnl = position.realizedPnl.plus(payout.minus(position.cost));
      position.cost = new Dec(0);
      position.position = 0;
      position.lastUpdatedMs = this.clockMs;
      account.updatedMs = this.clockMs;
      this.log(`settled ${m.listed.ticker} (${result}) for ${account.apiKeyId}: paid $${dollars(payout)}`);
      this.emitUser(account.apiKeyId, { channel: 'market_positions', type: 'market_position', marketTicker: m.listed.ticker, msg: this.positionMsg(account, position) });
    }
  }

  // --- wire shapes of private messages -----------------------------------------------------

  private fillMsg(f: FillRecord, position: PositionRecord): Record<string, unknown> {
    return {
      trade_id: f.tradeId,
      order_id: f.orderId,
      client_order_id: f.clientOrderId,
      market_ticker: f.ticker,
      is_taker: f.isTaker,
      side: 'yes',
      action: f.side === 'bid' ? 'buy' : 'sell',
      purchased_side: f.side === 'bid' ? 'yes' : 'no',
      yes_price: Math.floor(f.price / 100),
      yes_price_dollars: priceDollars(f.price),
      count: legacyCount(f.count),
      count_fp: countFp(f.count),
      fee_cost: dollars(f.fee),
      post_position: legacyCount(position.position),
      post_position_fp: countFp(position.position),
      ts: seconds(f.tsMs),
      ts_ms: f.tsMs,
    };
  }

  userOrderMsg(o: OrderRecord): Record<string, unknown> {
    return {
      order_id: o.orderId,
      user_id: this.accounts.get(o.apiKeyId)!.userId,
      ticker: o.ticker,
      status: o.status,
      side: 'yes',
      is_yes: o.side === 'bid',
      yes_price_dollars: priceDollars(o.price),
      fill_count_fp: countFp(o.filled),
      remaining_count_fp: countFp(o.status === 'resting' ? o.initialCount - o.filled : 0),
      initial_count_fp: countFp(o.initialCount),
      taker_fill_cost_dollars: dollars(o.takerFillCost),
      maker_fill_cost_dollars: dollars(o.makerFillCost),
      taker_fees_dollars: dollars(o.takerFees),
      maker_fees_dollars: dollars(o.makerFees),
      client_order_id: o.clientOrderId,
      self_trade_prevention_type: o.selfTradePrevention,
      created_time: isoTime(o.createdMs),
      last_update_time: isoTime(o.lastUpdateMs),
      ...(o.expirationMs !== undefined ? { expiration_time: isoTime(o.expirationMs) } : {}),
    };
  }

  private positionMsg(account: AccountState, p: PositionRecord): Record<string, unknown> {
    return {
      user_id: account.userId,
      market_ticker: p.ticker,
      position: legacyCount(p.position),
      position_fp: countFp(p.position),
      position_cost: cents(p.cost),
      position_cost_dollars: dollars(p.cost),
      realized_pnl: cents(p.realizedPnl),
      realized_pnl_dollars: dollars(p.realizedPnl),
      fees_paid: cents(p.fees),
      fees_paid_dollars: dollars(p.fees),
      position_fee_cost: cents(p.fees),
      volume: legacyCount(p.volume),
      volume_fp: countFp(p.volume),
    };
  }

  restingOrderCount(account: AccountState, ticker: string): number {
    return [...account.orders.values()].filter((o) => o.ticker === ticker && o.status === 'resting').length;
  }

  async close(): Promise<void> {
    await this.advancing;
    await this.recording.close();
  }
}

export type { MarketState };
