import { createHash } from 'node:crypto';
import { ExchangeOrderBuilder, getContractConfig, OrderSide, OrderType, type ClobSigner, type SignatureType, type SignedOrder } from '@polymarket/clob-client';
import { Dec } from '../../domain/decimal';
import { InvalidOrder } from '../../domain/errors';
import type { OrderRequestWire } from '../../domain/trading/wire';

/** What signing an order needs to know about its market, read live (the tick size changes with the price). */
export interface PolymarketMarketRules {
  /** The token bought or sold for each Kestrel outcome: YES is the asset Kestrel names the market by, NO its complement. */
  tokens: { yes: string; no: string };
  /** The current tick (from the book sync's live book, never a cached copy). */
  tickSize: string;
  /** Multi-outcome markets settle through the neg-risk exchange: their orders are signed for that contract. */
  negRisk: boolean;
  /** The market's base fee rate in basis points, signed into the order. */
  feeRateBps: string;
}

export interface PolymarketSigningAccount {
  signer: ClobSigner;
  /** The address whose funds the order uses (the signer's own, or its Polymarket proxy wallet). */
  maker: string;
  signerAddress: string;
  signatureType: SignatureType;
  chainId: 137 | 80002;
}

/** The order as the venue's POST /order takes it, its hash (the venue's order id) and type. */
export interface PolymarketSignedOrder {
  order: SignedOrder;
  orderId: string;
  orderType: OrderType;
  postOnly: boolean;
  tokenId: string;
  side: 'BUY' | 'SELL';
}

/** Shares carry 2 decimals on every tick (the client's rounding table); USDC amounts are 6-decimal integers. */
const SIZE_DECIMALS = 2;
const USDC_UNITS = new Dec(1_000_000);
/** Order salts travel as JSON numbers (the client parses them with parseInt): below 2^52, exact. */
const SALT_HEX_DIGITS = 13;

/**
 * The salt of a client order id: a hash of it, so the same intent signs to the same order and so
 * the same order hash (the venue's order id). A resend after a crash is looked up by that hash
 * before it is sent, and a second copy the venue would take anyway is refused as a duplicate.
 */
export function polymarketSalt(clientOrderId: string): string {
  return BigInt(`0x${createHash('sha256').update(clientOrderId).digest('hex').slice(0, SALT_HEX_DIGITS)}`).toString();
}

/** Kestrel's time in force and post-only flag as the venue's order type: GTC, FOK, or FAK (fill and kill: Kestrel's IOC). */
export function polymarketOrderType(request: Pick<OrderRequestWire, 'tif' | 'postOnly'>): OrderType {
  if (request.postOnly && request.tif !== 'gtc') throw new InvalidOrder(`a post-only order rests: time in force ${request.tif} cannot be post-only`);
  return request.tif === 'fok' ? OrderType.FOK : request.tif === 'ioc' ? OrderType.FAK : OrderType.GTC;
}

/**
 * Exact maker and taker amounts, in 1e-6 units: a BUY gives USDC (size × price) for shares; a SELL
 * gives shares for USDC. The price must sit on the tick and the size on the 0.01 share grid, so the
 * product is exact (no rounding ever moves the limit).
 */
export function polymarketAmounts(side: 'BUY' | 'SELL', size: Dec, price: Dec, tickSize: string): { makerAmount: string; takerAmount: string } {
  const tick = new Dec(tickSize);
  if (price.lte(0) || price.gte(1)) throw new InvalidOrder(`price ${price.toString()} is outside (0, 1)`);
  if (!price.mod(tick).isZero()) throw new InvalidOrder(`price ${price.toString()} is off the tick ${tickSize}`);
  if (size.lte(0) || size.decimalPlaces() > SIZE_DECIMALS) throw new InvalidOrder(`size ${size.toString()} must be positive with at most ${SIZE_DECIMALS} decimals`);
  const shares = size.times(USDC_UNITS);
  const usdc = size.times(price).times(USDC_UNITS);
  if (!usdc.isInteger()) throw new InvalidOrder(`size × price ${size.times(price).toString()} has more than 6 decimals`);
  return side === 'BUY' ? { makerAmount: usdc.toFixed(0), takerAmount: shares.toFixed(0) } : { makerAmount: shares.toFixed(0), takerAmount: usdc.toFixed(0) };
}

/**
 * Signs a Kestrel order with the official client's EIP-712 order builder, against the exchange the
 * market settles on (the neg-risk exchange for neg-risk markets). Buying NO buys the complement
 * token; selling NO sells it.
 */
export async function signPolymarketOrder(request: OrderRequestWire, rules: PolymarketMarketRules, account: PolymarketSigningAccount, expirationSec = 0): Promise<PolymarketSignedOrder> {
  const orderType = polymarketOrderType(request);
  const side = request.action === 'buy' ? 'BUY' : 'SELL';
  const tokenId = request.outcome === 'yes' ? rules.tokens.yes : rules.tokens.no;
  const { makerAmount, takerAmount } = polymarketAmounts(side, new Dec(request.size), new Dec(request.limitPrice), rules.tickSize);
  const contracts = getContractConfig(account.chainId);
  const exchange = rules.negRisk ? contracts.negRiskExchange : contracts.exchange;
  const salt = polymarketSalt(request.clientOrderId);
  const builder = new ExchangeOrderBuilder(exchange, account.chainId, account.signer, () => salt);
  const order = await builder.buildSignedOrder({
    maker: account.maker,
    signer: account.signerAddress,
    taker: '0x0000000000000000000000000000000000000000',
    tokenId,
    makerAmount,
    takerAmount,
    side: side === 'BUY' ? OrderSide.BUY : OrderSide.SELL,
    feeRateBps: rules.feeRateBps,
    nonce: '0',
    expiration: String(expirationSec),
    signatureType: account.signatureType,
  });
  const orderId = builder.buildOrderHash(builder.buildOrderTypedData(order));
  return { order, orderId, orderType: expirationSec > 0 && orderType === OrderType.GTC ? OrderType.GTD : orderType, postOnly: request.postOnly === true, tokenId, side };
}
