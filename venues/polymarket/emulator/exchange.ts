import { Dec } from '../../../domain/decimal';
import { polymarketTakerFee } from '../../../domain/fees';
import { priceDecimal, priceUnits, sizeDecimal, sizeUnits } from '../../../domain/fixed-point';
import { BookStore } from '../../../domain/market-data/book-store';
import { tryToUnits, type UnitEvent } from '../../../domain/market-data/events';
import type { BinaryOrderBook } from '../../../domain/market-data/order-book';
import { SimMatchingEngine, type SimFill, type SimOrderState } from '../../../domain/sim/matching';
import { polymarketBookHash } from '../book-hash';
import { parsePolymarketMessage } from '../messages';
import type { WireOrder } from './auth';
import type { RecordedMessage } from './recording';

export type EmulatorOrderType = 'GTC' | 'GTD' | 'FOK' | 'FAK';
export type EmulatorTradeStatus = 'MATCHED' | 'CONFIRMED';

/** A market (condition) as the recording shows it: its tokens, and the terms the emulator applies to it. */
export interface EmulatorMarket {
  conditionId: string;
  tokens: string[];
  negRisk: boolean;
  /** The base fee rate orders must sign and takers pay, in basis points. */
  feeRateBps: string;
}

interface AssetState {
  assetId: string;
  conditionId: string;
  /** Named by the asset's `book` messages and `tick_size_change`s: unknown until the first is played. */
  tickSize: string | undefined;
  hasBook: boolean;
  lastTradePrice: string;
  updatedMs: number;
}

export interface EmulatorOrder {
  id: string;
  owner: string;
  makerAddress: string;
  market: string;
  assetId: string;
  side: 'BUY' | 'SELL';
  price: Dec;
  size: Dec;
  orderType: EmulatorOrderType;
  expiration: string;
  createdAtMs: number;
  tradeIds: string[];
}

export interface EmulatorTrade {
  id: string;
  orderId: string;
  owner: string;
  makerAddress: string;
  market: string;
  assetId: string;
  side: 'BUY' | 'SELL';
  price: Dec;
  size: Dec;
  liquidity: 'taker' | 'maker';
  feeRateBps: string;
  /** What the fill costs: the taker pays shares × rate × p × (1 − p), floored to 5 decimals; makers pay nothing. */
  fee: Dec;
  status: EmulatorTradeStatus;
  matchTimeMs: number;
  /** The recorded trade a resting order filled against, if any (recorded liquidity has no order ids). */
  counterparty: string;
}

/** A venue refusal of an order: the CLOB answers `{ success: false, errorMsg }` (or `{ error }` with the HTTP status). */
export class OrderRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

export type ExchangeEvent =
  | { kind: 'market'; assets: string[]; message: Record<string, unknown> }
  | { kind: 'user'; owner: string; market: string; message: Record<string, unknown> };

export interface ExchangeOptions {
  recording: RecordedMessage[];
  /** Exchange time to start at (default: just before the first recorded message: nothing is applied yet). */
  startAtMs?: number;
  /** Condition ids settled through the neg-risk exchange (the recording does not say which are). */
  negRiskMarkets?: string[];
  /** Base fee rate per market in basis points (default `defaultFeeRateBps`). */
  feeRateBps?: Record<string, string>;
  defaultFeeRateBps?: string;
  /** The smallest order, in shares (the CLOB's `min_order_size`). */
  minOrderSize?: string;
  /** Wall time between a trade's MATCHED and CONFIRMED (its settlement on chain). */
  confirmAfterMs?: number;
  /** Emulator log lines (recorded events the book refused). */
  log?: (line: string) => void;
}

const USDC_UNITS = new Dec(1_000_000);
const TYPES: readonly EmulatorOrderType[] = ['GTC', 'GTD', 'FOK', 'FAK'];
/** The CLOB prints prices and sizes without trailing zeros. */
const text = (d: Dec) => d.toString();

/**
 * The emulated CLOB: the recorded market channel drives each asset's book (Kestrel's own
 * `BookStore`, the same books the book sync keeps) on the exchange clock, and the shared
 * `SimMatchingEngine` matches the users' orders against that recorded liquidity, one asset per
 * engine market (a BUY of a token is a YES buy, a SELL a YES sell). Recorded trades and book changes
 * fill resting orders through the queue. Every change is published as market or user channel
 * messages to `subscribe`rs. Accounts have no balance limits: orders are checked for signature,
 * tick, size and fee rate, not funds.
 */
export class PolymarketEmulatorExchange {
  readonly markets = new Map<string, EmulatorMarket>();
  private readonly assets = new Map<string, AssetState>();
  private readonly store = new BookStore({ historyCapacity: 1, sampleMs: 0 });
  // Kalshi fees inside the engine are unused: each fill's Polymarket fee is computed here.
  private readonly engine = new SimMatchingEngine({ takerRate: new Dec(0), makerRate: new Dec(0) });
  readonly orders = new Map<string, EmulatorOrder>();
  readonly trades: EmulatorTrade[] = [];
  private readonly listeners = new Set<(e: ExchangeEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly recording: RecordedMessage[];
  private cursor = 0;
  private clockMs: number;
  private tradeSeq = 0;
  readonly minOrderSize: Dec;
  private readonly confirmAfterMs: number;
  private readonly log: (line: string) => void;

  constructor(opts: ExchangeOptions) {
    this.recording = opts.recording;
    if (this.recording.length === 0) throw new Error('the recording has no messages');
    this.clockMs = opts.startAtMs ?? this.recording[0]!.tsMs - 1;
    this.minOrderSize = new Dec(opts.minOrderSize ?? '5');
    this.confirmAfterMs = opts.confirmAfterMs ?? 100;
    this.log = opts.log ?? (() => {});
    const negRisk = new Set(opts.negRiskMarkets ?? []);
    for (const m of this.recording) {
      for (const assetId of m.assets) {
        const conditionId = m.market ?? this.assets.get(assetId)?.conditionId;
        if (conditionId === undefined) throw new Error(`recorded message at ${m.tsMs} names asset ${assetId} without its market`);
        if (!this.assets.has(assetId)) this.assets.set(assetId, { assetId, conditionId, tickSize: undefined, hasBook: false, lastTradePrice: '', updatedMs: 0 });
        let market = this.markets.get(conditionId);
        if (!market) this.markets.set(conditionId, (market = { conditionId, tokens: [], negRisk: negRisk.has(conditionId), feeRateBps: opts.feeRateBps?.[conditionId] ?? opts.defaultFeeRateBps ?? '0' }));
        if (!market.tokens.includes(assetId)) market.tokens.push(assetId);
      }
    }
    for (const id of negRisk) if (!this.markets.has(id)) throw new Error(`neg-risk market ${id} is not in the recording`);
    for (const id of Object.keys(opts.feeRateBps ?? {})) if (!this.markets.has(id)) throw new Error(`fee rate for market ${id}, which is not in the recording`);
  }

  nowMs(): number {
    return this.clockMs;
  }

  get atEnd(): boolean {
    return this.cursor >= this.recording.length;
  }

  /** The last recorded message's time: nothing is played after it. */
  endMs(): number {
    return this.recording.at(-1)!.tsMs;
  }

  nextRecordedMs(): number | undefined {
    return this.recording[this.cursor]?.tsMs;
  }

  subscribe(listener: (e: ExchangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ExchangeEvent): void {
    for (const l of this.listeners) l(e);
  }

  asset(assetId: string): AssetState | undefined {
    return this.assets.get(assetId);
  }

  marketOf(assetId: string): EmulatorMarket | undefined {
    const a = this.assets.get(assetId);
    return a && this.markets.get(a.conditionId);
  }

  private book(assetId: string): BinaryOrderBook {
    return this.store.state(assetId).book;
  }

  /** Plays the recording up to `ms` (exchange time): books move, recorded trades fill resting orders. */
  advanceTo(ms: number): void {
    if (ms < this.clockMs) return;
    while (this.cursor < this.recording.length && this.recording[this.cursor]!.tsMs <= ms) {
      const m = this.recording[this.cursor++]!;
      this.clockMs = Math.max(this.clockMs, m.tsMs);
      this.expireOrders(m.tsMs);
      this.applyRecorded(m);
    }
    this.clockMs = ms;
    this.expireOrders(ms);
  }

  /** GTD orders leave the book at their expiration (Unix seconds), before anything later can fill them. */
  private expireOrders(atMs: number): void {
    for (const order of this.orders.values()) {
      if (order.orderType !== 'GTD' || Number(order.expiration) * 1000 > atMs) continue;
      if (this.engine.orders.get(order.id)?.status !== 'resting') continue;
      this.engine.cancel(order.id);
      this.emitOrder(order, 'CANCELLATION');
    }
  }

  private applyRecorded(m: RecordedMessage): void {
    const parsed = parsePolymarketMessage(m.raw);
    if (!parsed.ok || parsed.value.kind === 'ignored') return;
    const value = parsed.value;
    if (value.kind === 'tick_size') {
      this.assets.get(value.assetId)!.tickSize = value.tickSize;
    } else {
      const units: UnitEvent[] = [];
      for (const e of value.events) {
        const unit = tryToUnits(e);
        if (unit.ok) units.push(unit.value);
      }
      const outcome = this.store.applyAll(units, m.tsMs);
      for (const r of outcome.refused) this.log(`recorded ${String(m.raw.event_type)} at ${m.tsMs} refused by the book of ${r.market}: ${r.reason}`);
      for (const u of units) {
        const asset = this.assets.get(u.m)!;
        asset.updatedMs = m.tsMs;
        if (u.t === 'snapshot') asset.hasBook = true;
      }
      if (value.tick) this.assets.get(value.tick.assetId)!.tickSize = value.tick.tickSize;
      if (m.raw.event_type === 'last_trade_price') this.assets.get(m.assets[0]!)!.lastTradePrice = String(m.raw.price);
      if (m.raw.event_type === 'book' && typeof m.raw.last_trade_price === 'string') this.assets.get(m.assets[0]!)!.lastTradePrice = m.raw.last_trade_price;
      const fills = this.engine.onMarketEvents(units, (asset) => (this.assets.get(asset)?.hasBook ? this.book(asset) : undefined), m.tsMs);
      const counterparty = typeof m.raw.transaction_hash === 'string' ? m.raw.transaction_hash : `recorded:${m.raw.event_type as string}:${m.tsMs}`;
      this.recordFills(fills, counterparty);
    }
    this.emit({ kind: 'market', assets: m.assets, message: m.raw });
  }

  /** The asset's book as GET /book and the market channel's `book` message give it (bids low → high, asks high → low). */
  bookSummary(assetId: string): Record<string, unknown> | undefined {
    const asset = this.assets.get(assetId);
    if (!asset?.hasBook) return undefined;
    const market = this.markets.get(asset.conditionId)!;
    const book = this.book(assetId);
    const bids = book.levels('yes').map((l) => ({ price: text(priceDecimal(l.price)), size: text(sizeDecimal(l.size)) })).reverse();
    // A NO bid at q is an ask at 1 − q: the NO ladder from its best (highest q) is the asks from the lowest; reversed, high → low.
    const asks = book.levels('no').map((l) => ({ price: text(new Dec(1).minus(priceDecimal(l.price))), size: text(sizeDecimal(l.size)) })).reverse();
    const summary = { market: market.conditionId, asset_id: assetId, timestamp: String(asset.updatedMs), bids, asks, min_order_size: text(this.minOrderSize), tick_size: asset.tickSize ?? '', neg_risk: market.negRisk, last_trade_price: asset.lastTradePrice };
    return { ...summary, hash: polymarketBookHash(summary) };
  }

  /**
   * Takes a verified, signed order: checks it against the market's terms and matches it. Throws
   * OrderRefused with the venue's error code for anything the CLOB refuses.
   */
  place(args: { order: WireOrder; orderId: string; owner: string; orderType: string; postOnly: boolean }): { order: EmulatorOrder; state: SimOrderState; trades: EmulatorTrade[] } {
    const { order, orderId, owner } = args;
    const orderType = args.orderType as EmulatorOrderType;
    if (!TYPES.includes(orderType)) throw new OrderRefused('INVALID_ORDER_ERROR', `unknown order type ${JSON.stringify(args.orderType)}`);
    if (args.postOnly && orderType !== 'GTC' && orderType !== 'GTD') throw new OrderRefused('INVALID_POST_ONLY_ORDER_TYPE', 'post-only orders must be GTC or GTD');
    const asset = this.assets.get(order.tokenId);
    const market = this.marketOf(order.tokenId);
    if (!asset || !market) throw new OrderRefused('INVALID_ORDER_ERROR', `no orderbook exists for token ${order.tokenId}`);
    if (!asset.hasBook || asset.tickSize === undefined || this.book(order.tokenId).stale) throw new OrderRefused('MARKET_NOT_READY', `no orderbook exists for token ${order.tokenId} yet`);
    if (this.orders.has(orderId)) throw new OrderRefused('INVALID_ORDER_DUPLICATED', 'order already exists: duplicated');
    if (order.feeRateBps !== market.feeRateBps) throw new OrderRefused('INVALID_ORDER_ERROR', `invalid fee rate (${order.feeRateBps}), the market's fee rate is ${market.feeRateBps}`);
    if (orderType === 'GTD' && !(Number(order.expiration) * 1000 > this.clockMs)) throw new OrderRefused('INVALID_ORDER_EXPIRATION', 'a GTD order must expire in the future');
    if (orderType !== 'GTD' && order.expiration !== '0') throw new OrderRefused('INVALID_ORDER_EXPIRATION', `only GTD orders expire; ${orderType} must have expiration 0`);
    const makerAmount = new Dec(order.makerAmount);
    const takerAmount = new Dec(order.takerAmount);
    if (!makerAmount.gt(0) || !takerAmount.gt(0)) throw new OrderRefused('INVALID_ORDER_ERROR', 'maker and taker amounts must be positive');
    // BUY gives USDC for shares; SELL gives shares for USDC (both in 1e-6 units).
    const shares = (order.side === 'BUY' ? takerAmount : makerAmount).div(USDC_UNITS);
    const usdc = (order.side === 'BUY' ? makerAmount : takerAmount).div(USDC_UNITS);
    const price = usdc.div(shares);
    const tick = new Dec(asset.tickSize);
    if (!price.gt(0) || !price.lt(1) || !price.mod(tick).isZero()) throw new OrderRefused('INVALID_ORDER_MIN_TICK_SIZE', `price ${price.toSignificantDigits(10).toString()} is not on the tick ${asset.tickSize} inside (0, 1)`);
    if (shares.lt(this.minOrderSize)) throw new OrderRefused('INVALID_ORDER_MIN_SIZE', `size ${shares.toString()} is below the minimum ${this.minOrderSize.toString()}`);
    if (shares.decimalPlaces() > 6) throw new OrderRefused('INVALID_ORDER_ERROR', `size ${shares.toString()} has more than 6 decimals`);

    const placed: EmulatorOrder = { id: orderId, owner, makerAddress: order.maker.toLowerCase(), market: market.conditionId, assetId: order.tokenId, side: order.side, price, size: shares, orderType, expiration: order.expiration, createdAtMs: this.clockMs, tradeIds: [] };
    const tif = orderType === 'FOK' ? 'fok' : orderType === 'FAK' ? 'ioc' : 'gtc';
    const state = this.engine.submit({ clientOrderId: orderId, market: order.tokenId, outcome: 'yes', action: order.side === 'BUY' ? 'buy' : 'sell', limitPrice: priceUnits(price.toString()), size: sizeUnits(shares.toString()), tif, postOnly: args.postOnly }, this.book(order.tokenId), this.clockMs);
    if (state.status === 'rejected') {
      this.engine.orders.delete(orderId);
      throw new OrderRefused(/post-only/.test(state.rejectReason ?? '') ? 'INVALID_POST_ONLY_ORDER' : 'INVALID_ORDER_ERROR', state.rejectReason ?? 'refused');
    }
    if (orderType === 'FOK' && state.filled === 0) {
      this.engine.orders.delete(orderId);
      throw new OrderRefused('FOK_ORDER_NOT_FILLED_ERROR', "order couldn't be fully filled. FOK orders are fully filled or killed.");
    }
    if (orderType === 'FAK' && state.filled === 0) {
      this.engine.orders.delete(orderId);
      throw new OrderRefused('FAK_ORDER_NOT_FILLED_ERROR', 'no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found.');
    }
    this.orders.set(orderId, placed);
    this.emitOrder(placed, 'PLACEMENT');
    const trades = this.recordFills(state.fills, 'recorded book');
    return { order: placed, state, trades };
  }

  /** The order's venue status and matched size. */
  orderStatus(id: string): { status: 'LIVE' | 'MATCHED' | 'CANCELED'; sizeMatched: Dec } | undefined {
    const state = this.engine.orders.get(id);
    if (!state || !this.orders.has(id)) return undefined;
    const sizeMatched = sizeDecimal(state.filled);
    return { status: state.status === 'resting' ? 'LIVE' : state.status === 'filled' ? 'MATCHED' : 'CANCELED', sizeMatched };
  }

  /** Cancels the owner's resting order; the reason it could not otherwise. */
  cancel(id: string, owner: string): { canceled: boolean; reason?: string } {
    const order = this.orders.get(id);
    if (!order || order.owner !== owner) return { canceled: false, reason: 'order not found' };
    const state = this.engine.orders.get(id)!;
    if (state.status !== 'resting') return { canceled: false, reason: 'order can\'t be canceled: already canceled or matched' };
    this.engine.cancel(id);
    this.emitOrder(order, 'CANCELLATION');
    return { canceled: true };
  }

  /** Every resting order of an owner (the heartbeat's dead-man switch cancels them all). */
  openOrdersOf(owner: string): EmulatorOrder[] {
    return [...this.orders.values()].filter((o) => o.owner === owner && this.engine.orders.get(o.id)?.status === 'resting');
  }

  private recordFills(fills: SimFill[], counterparty: string): EmulatorTrade[] {
    const trades: EmulatorTrade[] = [];
    for (const fill of fills) {
      const order = this.orders.get(fill.clientOrderId);
      if (!order) continue;
      const market = this.markets.get(order.market)!;
      const price = priceDecimal(fill.price);
      const size = sizeDecimal(fill.size);
      const fee = fill.liquidity === 'taker' ? polymarketTakerFee({ contracts: size, price, rate: new Dec(market.feeRateBps).div(10_000), exponent: 1 }) : new Dec(0);
      const trade: EmulatorTrade = { id: `trade-${++this.tradeSeq}`, orderId: order.id, owner: order.owner, makerAddress: order.makerAddress, market: order.market, assetId: order.assetId, side: order.side, price, size, liquidity: fill.liquidity, feeRateBps: market.feeRateBps, fee, status: 'MATCHED', matchTimeMs: fill.tsMs, counterparty };
      this.trades.push(trade);
      order.tradeIds.push(trade.id);
      trades.push(trade);
      this.emitOrder(order, 'UPDATE');
      this.emitTrade(trade);
      // Settlement on chain follows the match: CONFIRMED after a short (wall-clock) delay.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        trade.status = 'CONFIRMED';
        this.emitTrade(trade);
      }, this.confirmAfterMs);
      this.timers.add(timer);
    }
    return trades;
  }

  /** An order as GET /data/order and the user channel show it. */
  orderJson(order: EmulatorOrder): Record<string, unknown> {
    const status = this.orderStatus(order.id)!;
    return {
      id: order.id,
      status: status.status,
      owner: order.owner,
      maker_address: order.makerAddress,
      market: order.market,
      asset_id: order.assetId,
      side: order.side,
      original_size: text(order.size),
      size_matched: text(status.sizeMatched),
      price: text(order.price),
      outcome: '',
      expiration: order.expiration,
      order_type: order.orderType,
      associate_trades: [...order.tradeIds],
      created_at: Math.floor(order.createdAtMs / 1000),
    };
  }

  /** A trade as GET /data/trades and the user channel show it, from its owner's side. */
  tradeJson(trade: EmulatorTrade): Record<string, unknown> {
    const common = { id: trade.id, market: trade.market, asset_id: trade.assetId, side: trade.side, size: text(trade.size), price: text(trade.price), fee_rate_bps: trade.feeRateBps, status: trade.status, match_time: String(Math.floor(trade.matchTimeMs / 1000)), last_update: String(Math.floor(this.clockMs / 1000)), outcome: '', owner: trade.owner, maker_address: trade.makerAddress, transaction_hash: '', bucket_index: 0 };
    if (trade.liquidity === 'taker') return { ...common, taker_order_id: trade.orderId, trader_side: 'TAKER', maker_orders: [] };
    return {
      ...common,
      taker_order_id: trade.counterparty,
      trader_side: 'MAKER',
      maker_orders: [{ order_id: trade.orderId, owner: trade.owner, maker_address: trade.makerAddress, matched_amount: text(trade.size), price: text(trade.price), fee_rate_bps: '0', asset_id: trade.assetId, outcome: '', side: trade.side }],
    };
  }

  private emitOrder(order: EmulatorOrder, type: 'PLACEMENT' | 'UPDATE' | 'CANCELLATION'): void {
    this.emit({ kind: 'user', owner: order.owner, market: order.market, message: { event_type: 'order', type, ...this.orderJson(order), timestamp: String(this.clockMs) } });
  }

  private emitTrade(trade: EmulatorTrade): void {
    this.emit({ kind: 'user', owner: trade.owner, market: trade.market, message: { event_type: 'trade', type: 'TRADE', ...this.tradeJson(trade), timestamp: String(this.clockMs) } });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.listeners.clear();
  }
}
