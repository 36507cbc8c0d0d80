import { Dec } from '../decimal';
import { isPolymarketTokenId, kalshiFee, kalshiFeeRate, KalshiOrderFeeAccumulator, polymarketTakerFee } from '../fees';
import { ONE_DOLLAR, priceDecimal, priceText, sizeDecimal, sizeText } from '../fixed-point';
import type { OrderStateWire } from '../trading/wire';
import type { UnitEvent } from '../market-data/events';
import type { TimeInForce } from '../ports';
import type { BinaryOrderBook, BookSide, Level } from '../market-data/order-book';
import type { MarketFees } from '../trading/taker-fee';

/**
 * The paper exchange's matching engine, over real recorded books (pure, integer units):
 * IOC / FOK / GTC limit orders on either outcome, partial fills, liquidity our own fills consumed,
 * queue position for resting orders (they join the back of their level; volume traded at that
 * level must clear what was ahead first), and the Kalshi fee per fill (taker or maker, with the
 * balance rounding and the order's rebate accumulator).
 */
export type Outcome = 'yes' | 'no';
export type Action = 'buy' | 'sell';

export interface SimOrderRequest {
  clientOrderId: string;
  market: string;
  outcome: Outcome;
  action: Action;
  /** Limit in the held outcome's price, 1e-4 $. */
  limitPrice: number;
  /** Contracts, 1e-6 units. */
  size: number;
  tif: TimeInForce;
  /** Refused instead of taking liquidity. */
  postOnly?: boolean;
}

export interface SimFill {
  clientOrderId: string;
  price: number;
  size: number;
  liquidity: 'taker' | 'maker';
  fee: Dec;
  tsMs: number;
}

export type SimOrderStatus = 'resting' | 'filled' | 'canceled' | 'rejected';

export interface SimOrderState {
  request: SimOrderRequest;
  status: SimOrderStatus;
  filled: number;
  fills: SimFill[];
  /** Resting orders only: contracts ahead of us at our level. */
  queueAhead: number;
  rejectReason?: string;
  createdMs: number;
}

/** What matching reads of a book: a live BinaryOrderBook, or a frozen copy of one (frozenBook). */
export type MatchingBook = Pick<BinaryOrderBook, 'stale' | 'staleBecause' | 'levels' | 'sizeAt' | 'topLevels'>;

/**
 * A copy of a book's levels and staleness as they are now, for matching that runs after the live
 * book has moved on (the paper exchange matches a batch's events asynchronously, against its store).
 */
export function frozenBook(book: MatchingBook): MatchingBook {
  const levels = { yes: book.levels('yes'), no: book.levels('no') };
  const sizes = { yes: new Map(levels.yes.map((l) => [l.price, l.size])), no: new Map(levels.no.map((l) => [l.price, l.size])) };
  const stale = book.stale;
  const staleBecause = book.staleBecause;
  return {
    stale,
    staleBecause,
    levels: (side: BookSide): Level[] => levels[side].map((l) => ({ ...l })),
    sizeAt: (side: BookSide, price: number) => sizes[side].get(price) ?? 0,
    topLevels: (side: BookSide, n: number): Level[] => levels[side].slice(0, n).map((l) => ({ ...l })),
  };
}

/** Recorded liquidity our own fills took at one level, until the venue changes that level's size. */
export interface ConsumedLevel {
  side: BookSide;
  price: number;
  consumed: number;
  recordedSize: number;
}

/**
 * One market's part of the engine as plain data, what a store shared by processes keeps: the
 * market's orders, the liquidity our fills consumed there, and each order's fee-rounding balance
 * (Kalshi's per-order accumulator) that later fills carry on from.
 */
export interface SimMarketState {
  orders: SimOrderState[];
  consumed: ConsumedLevel[];
  feeBalances: { clientOrderId: string; balance: Dec }[];
}

export interface FeeSchedule {
  takerRate: Dec;
  makerRate: Dec;
  seriesMultiplier?: Dec;
  /** The account's balance precision (`kalshiBalancePrecision`); default $0.0001, a direct member. */
  balancePrecision?: Dec;
  /**
   * Polymarket's taker fee rate (a fraction: fee_rate_bps / 10 000), charged on Polymarket markets
   * (token ids) instead of Kalshi's schedule: takers pay `polymarketTakerFee`, makers nothing. Default 0.
   */
  polymarketTakerRate?: Dec;
}

/** Which bid ladder an order trades against / rests on, and at what ladder price. */
function takesFrom(order: SimOrderRequest): BookSide {
  // Buying an outcome lifts the other outcome's bids (its asks); selling hits the outcome's own bids.
  return order.action === 'buy' ? (order.outcome === 'yes' ? 'no' : 'yes') : order.outcome;
}
function restsOn(order: SimOrderRequest): { side: BookSide; price: number } {
  // A resting buy is a bid on its outcome; a resting sell is a bid on the other outcome at 1 − p.
  return order.action === 'buy' ? { side: order.outcome, price: order.limitPrice } : { side: order.outcome === 'yes' ? 'no' : 'yes', price: ONE_DOLLAR - order.limitPrice };
}
/** Price of a ladder level expressed in the order's outcome price. */
function outcomePrice(order: SimOrderRequest, ladderPrice: number): number {
  return order.action === 'buy' ? ONE_DOLLAR - ladderPrice : ladderPrice;
}
function acceptable(order: SimOrderRequest, price: number): boolean {
  return order.action === 'buy' ? price <= order.limitPrice : price >= order.limitPrice;
}

export class SimMatchingEngine {
  readonly orders = new Map<string, SimOrderState>();
  /** Our own fills consume recorded liquidity until the venue changes that level. */
  private readonly consumed = new Map<string, { consumed: number; recordedSize: number }>();
  /** Kalshi's fee accumulator of each order that has filled (rounding fees carry over between its fills). */
  private readonly feeAccumulators = new Map<string, KalshiOrderFeeAccumulator>();

  /** `marketFees`: a market's own fee terms (fee type, multiplier) when known; else the configured schedule applies. */
  constructor(
    private readonly fees: FeeSchedule,
    private readonly marketFees?: (market: string) => MarketFees | undefined,
  ) {}

  /** The market's orders (every status), consumed liquidity and fee balances held by this engine. */
  marketState(market: string): SimMarketState {
    const orders = [...this.orders.values()].filter((o) => o.request.market === market);
    const consumed: ConsumedLevel[] = [];
    const prefix = `${market}|`;
    for (const [key, c] of this.consumed) {
      if (!key.startsWith(prefix)) continue;
      const [side, price] = key.slice(prefix.length).split('|');
      consumed.push({ side: side as BookSide, price: Number(price), consumed: c.consumed, recordedSize: c.recordedSize });
    }
    const feeBalances = orders.flatMap((o) => {
      const accumulator = this.feeAccumulators.get(o.request.clientOrderId);
      return accumulator ? [{ clientOrderId: o.request.clientOrderId, balance: accumulator.balance }] : [];
    });
    return { orders, consumed, feeBalances };
  }

  /** Takes in a market's state (marketState's, e.g. from a shared store); it replaces what the engine held of those orders and levels. */
  loadMarket(market: string, state: SimMarketState): void {
    for (const order of state.orders) {
      if (order.request.market !== market) throw new Error(`order ${order.request.clientOrderId} is in ${order.request.market}, not ${market}`);
      this.orders.set(order.request.clientOrderId, order);
    }
    for (const c of state.consumed) this.consumed.set(`${market}|${c.side}|${c.price}`, { consumed: c.consumed, recordedSize: c.recordedSize });
    for (const { clientOrderId, balance } of state.feeBalances) this.feeAccumulators.set(clientOrderId, new KalshiOrderFeeAccumulator(this.fees.balancePrecision, balance));
  }

  private available(market: string, side: BookSide, price: number, recorded: number): number {
    const c = this.consumed.get(`${market}|${side}|${price}`);
    return c && c.recordedSize === recorded ? Math.max(0, recorded - c.consumed) : recorded;
  }

  private consume(market: string, side: BookSide, price: number, recorded: number, size: number): void {
    const key = `${market}|${side}|${price}`;
    const c = this.consumed.get(key);
    const prior = c && c.recordedSize === recorded ? c.consumed : 0;
    this.consumed.set(key, { consumed: prior + size, recordedSize: recorded });
  }

  private fee(request: SimOrderRequest, price: number, size: number, liquidity: 'taker' | 'maker'): Dec {
    const contracts = sizeDecimal(size);
    const fillPrice = priceDecimal(price);
    // A Polymarket market (its token id) has Polymarket's fee: takers only, no balance rounding.
    if (isPolymarketTokenId(request.market)) return liquidity === 'taker' ? polymarketTakerFee({ contracts, price: fillPrice, rate: this.fees.polymarketTakerRate ?? new Dec(0), exponent: 1 }) : new Dec(0);
    const tradeFee = kalshiFee({ contracts, price: fillPrice, rate: kalshiFeeRate(liquidity, this.fees, this.marketFees?.(request.market)) });
    let accumulator = this.feeAccumulators.get(request.clientOrderId);
    if (!accumulator) this.feeAccumulators.set(request.clientOrderId, (accumulator = new KalshiOrderFeeAccumulator(this.fees.balancePrecision)));
    return accumulator.charge({ action: request.action, contracts, price: fillPrice, tradeFee }).fee;
  }

  private addFill(state: SimOrderState, price: number, size: number, liquidity: 'taker' | 'maker', tsMs: number): SimFill {
    const fill: SimFill = { clientOrderId: state.request.clientOrderId, price, size, liquidity, fee: this.fee(state.request, price, size, liquidity), tsMs };
    state.fills.push(fill);
    state.filled += size;
    if (state.filled >= state.request.size) state.status = 'filled';
    return fill;
  }

  /** Submits an order. A client order id seen before returns the existing order: no duplicate. */
  submit(request: SimOrderRequest, book: MatchingBook, nowMs: number): SimOrderState {
    const existing = this.orders.get(request.clientOrderId);
    if (existing) return existing;
    const state: SimOrderState = { request, status: 'resting', filled: 0, fills: [], queueAhead: 0, createdMs: nowMs };
    this.orders.set(request.clientOrderId, state);
    const reject = (reason: string) => {
      state.status = 'rejected';
      state.rejectReason = reason;
      return state;
    };
    if (request.size <= 0) return reject('size must be positive');
    if (request.limitPrice <= 0 || request.limitPrice >= ONE_DOLLAR) return reject('limit price must be inside (0, 1)');
    if (book.stale) return reject(`market data for ${request.market} is stale: ${book.staleBecause}`);
    return this.matchAndRest(state, book, nowMs);
  }

  /** Takes what the book offers within the limit, then rests (GTC) at the back of its level or ends. */
  private matchAndRest(state: SimOrderState, book: MatchingBook, nowMs: number): SimOrderState {
    const request = state.request;
    const side = takesFrom(request);
    const levels = book.levels(side).map((l) => ({ ...l, available: this.available(request.market, side, l.price, l.size) }));
    const matchable = levels.filter((l) => l.available > 0 && acceptable(request, outcomePrice(request, l.price)));
    if (request.postOnly && matchable.length > 0) {
      state.status = 'rejected';
      state.rejectReason = 'post-only order would take liquidity';
      return state;
    }
    const liquidity = matchable.reduce((n, l) => n + l.available, 0);
    if (request.tif === 'fok' && liquidity < request.size - state.filled) {
      state.status = 'canceled';
      return state;
    }
    for (const level of matchable) {
      const size = Math.min(level.available, request.size - state.filled);
      if (size <= 0) break;
      this.consume(request.market, side, level.price, level.size, size);
      this.addFill(state, outcomePrice(request, level.price), size, 'taker', nowMs);
    }
    if (state.status === 'filled') return state;
    if (request.tif !== 'gtc') {
      state.status = 'canceled';
      return state;
    }
    const rest = restsOn(request);
    state.queueAhead = book.sizeAt(rest.side, rest.price);
    return state;
  }

  /**
   * Amends a resting order in place (Kalshi's amend: `size` is the new total, filled included). Only
   * a size decrease at the same price keeps queue priority; a new price or a larger size goes to the
   * back of the queue, and a new price that crosses the book takes liquidity first.
   */
  amend(clientOrderId: string, change: { limitPrice: number; size: number }, book: MatchingBook | undefined, nowMs: number): SimOrderState | undefined {
    const state = this.orders.get(clientOrderId);
    if (!state || state.status !== 'resting') return state;
    if (change.size <= state.filled) {
      state.status = 'canceled';
      return state;
    }
    const keepsPriority = change.limitPrice === state.request.limitPrice && change.size <= state.request.size;
    state.request = { ...state.request, limitPrice: change.limitPrice, size: change.size };
    if (keepsPriority) return state;
    if (!book || book.stale) {
      state.status = 'canceled';
      state.rejectReason = `amend canceled the order: no usable market data for ${state.request.market}`;
      return state;
    }
    return this.matchAndRest(state, book, nowMs);
  }

  /** Reduces what rests by `reduceBy` (keeps queue priority); nothing left rests → canceled. */
  decrease(clientOrderId: string, reduceBy: number): SimOrderState | undefined {
    const state = this.orders.get(clientOrderId);
    if (!state || state.status !== 'resting') return state;
    const size = Math.max(state.filled, state.request.size - reduceBy);
    state.request = { ...state.request, size };
    if (size <= state.filled) state.status = 'canceled';
    return state;
  }

  cancel(clientOrderId: string): SimOrderState | undefined {
    const state = this.orders.get(clientOrderId);
    if (state && state.status === 'resting') state.status = 'canceled';
    return state;
  }

  private resting(market: string): SimOrderState[] {
    // Called for every touched market at every instant: one pass, no intermediate array.
    const found: SimOrderState[] = [];
    for (const o of this.orders.values()) if (o.status === 'resting' && o.request.market === market) found.push(o);
    return found;
  }

  /**
   * A public trade: the taker consumed the ladder `takerSide === 'yes' ? no : yes`. Resting orders on
   * that ladder at the traded level fill after the queue ahead of them; orders at better levels than
   * the trade were passed through and fill completely.
   */
  onTrade(market: string, trade: { takerSide: Outcome; yesPrice: number; count: number }, nowMs: number): SimFill[] {
    const ladder: BookSide = trade.takerSide === 'yes' ? 'no' : 'yes';
    const ladderPrice = ladder === 'yes' ? trade.yesPrice : ONE_DOLLAR - trade.yesPrice;
    const fills: SimFill[] = [];
    let volume = trade.count;
    // Oldest orders first at a level: they joined the queue first.
    for (const order of this.resting(market).sort((a, b) => a.createdMs - b.createdMs)) {
      const rest = restsOn(order.request);
      if (rest.side !== ladder) continue;
      const remaining = order.request.size - order.filled;
      if (rest.price > ladderPrice) {
        fills.push(this.addFill(order, order.request.limitPrice, remaining, 'maker', nowMs));
      } else if (rest.price === ladderPrice) {
        const clearsQueue = Math.min(order.queueAhead, volume);
        order.queueAhead -= clearsQueue;
        volume -= clearsQueue;
        const size = Math.min(remaining, volume);
        if (size > 0) {
          volume -= size;
          fills.push(this.addFill(order, order.request.limitPrice, size, 'maker', nowMs));
        }
      }
    }
    return fills;
  }

  /**
   * After a book change: cancellations ahead of us shrink the queue, and a book that now crosses a
   * resting order fills it at its limit (the crossing order would have met ours first).
   */
  onBookUpdate(market: string, book: MatchingBook, nowMs: number): SimFill[] {
    const fills: SimFill[] = [];
    for (const order of this.resting(market)) {
      const rest = restsOn(order.request);
      order.queueAhead = Math.min(order.queueAhead, book.sizeAt(rest.side, rest.price));
      const [opposite] = book.topLevels(takesFrom(order.request), 1);
      if (opposite && acceptable(order.request, outcomePrice(order.request, opposite.price))) {
        fills.push(this.addFill(order, order.request.limitPrice, order.request.size - order.filled, 'maker', nowMs));
      }
    }
    return fills;
  }

  /**
   * Applied market events, in order: trades fill resting orders through the queue, then each market
   * whose book changed is re-checked once. The paper exchange and the backtester both feed it.
   */
  onMarketEvents(events: readonly UnitEvent[], bookOf: (market: string) => MatchingBook | undefined, nowMs: number): SimFill[] {
    const touched = new Set<string>();
    const fills: SimFill[] = [];
    for (const e of events) {
      if (e.t === 'trade') fills.push(...this.onTrade(e.m, { takerSide: e.takerSide, yesPrice: e.price, count: e.count }, e.ts));
      else touched.add(e.m);
    }
    for (const market of touched) {
      const book = bookOf(market);
      if (book && !book.stale) fills.push(...this.onBookUpdate(market, book, nowMs));
    }
    return fills;
  }

  /** At settlement every resting order in the market is canceled. */
  settle(market: string): void {
    for (const order of this.resting(market)) order.status = 'canceled';
  }
}

/** Settlement payout per contract held: $1 if the held outcome won, else 0. */
export function settlementValue(held: Outcome, result: Outcome): Dec {
  return new Dec(held === result ? 1 : 0);
}

/** An order's state in wire form (decimal strings), as the trading activities and the backtester return it. */
export function orderStateWire(state: SimOrderState): OrderStateWire {
  const filled = state.fills.reduce((n, f) => n.plus(sizeText(f.size)), new Dec(0));
  const notional = state.fills.reduce((n, f) => n.plus(new Dec(sizeText(f.size)).times(priceText(f.price))), new Dec(0));
  const fees = state.fills.reduce((n, f) => n.plus(f.fee), new Dec(0));
  return {
    clientOrderId: state.request.clientOrderId,
    status: state.status,
    size: sizeText(state.request.size),
    filled: filled.toFixed(6),
    averagePrice: filled.gt(0) ? notional.div(filled).toFixed(6) : undefined,
    fees: fees.toFixed(6),
    fills: state.fills.map((f) => ({ price: priceText(f.price), size: sizeText(f.size), liquidity: f.liquidity, fee: f.fee.toFixed(6), tsMs: f.tsMs })),
    rejectReason: state.rejectReason,
  };
}
