import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getContractConfig, OrderType, SignatureType } from '@polymarket/clob-client';
import { verifyTypedData } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { Dec } from '../../domain/decimal';
import { AuthenticationError, BadRequest, DuplicateOrder, ExchangeNotAvailable, InsufficientFunds, InvalidOrder, MarketClosed, OrderNotFound, RateLimitExceeded } from '../../domain/errors';
import { polymarketTakerFee } from '../../domain/fees';
import type { OrderRequestWire } from '../../domain/trading/wire';
import { polymarketErrorFor } from '../../venues/polymarket/errors';
import { polymarketAmounts, polymarketOrderType, polymarketSalt, signPolymarketOrder, type PolymarketMarketRules, type PolymarketSigningAccount } from '../../venues/polymarket/order-signing';
import { parseClobMarket, polymarketMarketRules } from '../../venues/polymarket/providers';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';
import { CTF_EXCHANGE_ORDER_STRUCT } from '../fixtures/polymarket/support';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const spec = (name: string): unknown => JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', name), 'utf8'));

describe('Polymarket errors table', () => {
  it('maps the venue answers to retryable or final classes', () => {
    const cases: [number, unknown, new (...args: never[]) => Error, boolean][] = [
      [425, { error: 'Too Early' }, ExchangeNotAvailable, true],
      [400, { error: 'order rejected: the book is in post-only mode after a restart' }, ExchangeNotAvailable, true],
      [503, { error: 'Trading is currently cancel-only. New orders are not accepted, but cancels are allowed.' }, ExchangeNotAvailable, true],
      [503, { error: 'Trading is currently disabled. Check polymarket.com for updates' }, ExchangeNotAvailable, true],
      [429, { error: 'Too Many Requests' }, RateLimitExceeded, true],
      [500, spec('http_order_response_error_500.json'), ExchangeNotAvailable, true],
      [200, spec('http_order_response_failed.json'), InsufficientFunds, false],
      [400, { success: false, errorMsg: 'INVALID_ORDER_MIN_TICK_SIZE' }, InvalidOrder, false],
      [400, { success: false, errorMsg: 'INVALID_POST_ONLY_ORDER' }, InvalidOrder, false],
      [400, { success: false, errorMsg: 'INVALID_ORDER_DUPLICATED' }, DuplicateOrder, false],
      [400, { success: false, errorMsg: 'INVALID_ORDER_NOT_ENOUGH_BALANCE' }, InsufficientFunds, false],
      [400, { success: false, errorMsg: 'MARKET_NOT_READY' }, ExchangeNotAvailable, true],
      [401, { error: 'Unauthorized/Invalid api key' }, AuthenticationError, false],
      [404, { error: 'No orderbook exists for the requested token id' }, BadRequest, false],
      [404, { error: 'not there' }, OrderNotFound, false],
    ];
    for (const [status, body, cls, retryable] of cases) {
      const err = polymarketErrorFor(status, body, status === 404 && JSON.stringify(body).includes('not there') ? 'GET /data/order/0x1' : 'POST /order');
      assert.ok(err instanceof cls, `${status} ${JSON.stringify(body)} → ${err.constructor.name}`);
      assert.equal(err.retryable, retryable, `${status} ${JSON.stringify(body)}`);
    }
    assert.ok(polymarketErrorFor(404, { error: 'not there' }, 'GET /book') instanceof BadRequest, 'a 404 off the order paths is an unknown token');
    assert.match(polymarketErrorFor(425, 'engine restarting', 'POST /order').message, /^POST \/order: HTTP 425 engine restarting$/);
  });
});

describe('Polymarket fees', () => {
  it('taker fee = shares × rate × p × (1 − p), floored to 5 decimals', () => {
    const fee = (shares: string, price: string, bps: number) => polymarketTakerFee({ contracts: new Dec(shares), price: new Dec(price), rate: new Dec(bps).div(10_000), exponent: 1 }).toFixed(5);
    assert.equal(fee('100', '0.5', 200), '0.50000');
    assert.equal(fee('9', '0.33', 175), '0.03482', '0.03482325 floors');
    assert.equal(fee('10', '0.99', 200), '0.00198');
    assert.equal(fee('3', '0.01', 100), '0.00029', '0.000297 floors, never rounds up');
    assert.equal(fee('100', '0.5', 0), '0.00000');
  });
});

describe('Polymarket order signing (the official client builds and signs)', () => {
  const { signer, address } = polymarketSignerFromKey(generatePrivateKey());
  const account: PolymarketSigningAccount = { signer, maker: address, signerAddress: address, signatureType: SignatureType.EOA, chainId: 137 };
  const rules: PolymarketMarketRules = { tokens: { yes: '1001', no: '1002' }, tickSize: '0.01', negRisk: false, feeRateBps: '0' };
  const request = (over: Partial<OrderRequestWire> = {}): OrderRequestWire => ({ clientOrderId: 'pos-1:entry:1', positionId: 'pos-1', purpose: 'entry', market: '1001', outcome: 'yes', action: 'buy', limitPrice: '0.55', size: '10', tif: 'gtc', ...over });
  const verify = (signed: Awaited<ReturnType<typeof signPolymarketOrder>>, verifyingContract: string) => {
    const { signature, ...message } = signed.order;
    return verifyTypedData({
      address: address as `0x${string}`,
      domain: { name: 'Polymarket CTF Exchange', version: '1', chainId: 137, verifyingContract: verifyingContract as `0x${string}` },
      types: { Order: CTF_EXCHANGE_ORDER_STRUCT },
      primaryType: 'Order',
      message: message as never,
      signature: signature as `0x${string}`,
    });
  };

  it('exact amounts: a BUY gives USDC for shares, a SELL shares for USDC; off-grid prices and sizes are refused', () => {
    assert.deepEqual(polymarketAmounts('BUY', new Dec('10'), new Dec('0.55'), '0.01'), { makerAmount: '5500000', takerAmount: '10000000' });
    assert.deepEqual(polymarketAmounts('SELL', new Dec('12.34'), new Dec('0.967'), '0.001'), { makerAmount: '12340000', takerAmount: '11932780' });
    assert.throws(() => polymarketAmounts('BUY', new Dec('10'), new Dec('0.555'), '0.01'), /off the tick 0\.01/);
    assert.throws(() => polymarketAmounts('BUY', new Dec('10.001'), new Dec('0.55'), '0.01'), /at most 2 decimals/);
    assert.throws(() => polymarketAmounts('BUY', new Dec('10'), new Dec('1'), '0.01'), /outside \(0, 1\)/);
  });

  it('order types: GTC, FOK, FAK for Kestrel IOC; post-only only on a resting order', () => {
    assert.equal(polymarketOrderType({ tif: 'gtc' }), OrderType.GTC);
    assert.equal(polymarketOrderType({ tif: 'fok' }), OrderType.FOK);
    assert.equal(polymarketOrderType({ tif: 'ioc' }), OrderType.FAK);
    assert.equal(polymarketOrderType({ tif: 'gtc', postOnly: true }), OrderType.GTC);
    assert.throws(() => polymarketOrderType({ tif: 'ioc', postOnly: true }), InvalidOrder);
  });

  it('the same client order id signs to the same order id; another id to another', async () => {
    const first = await signPolymarketOrder(request(), rules, account);
    const again = await signPolymarketOrder(request(), rules, account);
    assert.equal(first.orderId, again.orderId);
    assert.equal(first.order.signature, again.order.signature);
    assert.equal(first.order.salt, polymarketSalt('pos-1:entry:1'));
    assert.ok(Number.isSafeInteger(Number(first.order.salt)), 'the salt travels as a JSON number');
    const other = await signPolymarketOrder(request({ clientOrderId: 'pos-1:entry:2' }), rules, account);
    assert.notEqual(other.orderId, first.orderId);
    assert.match(first.orderId, /^0x[0-9a-f]{64}$/);
  });

  it('signs for the exchange the market settles on: neg-risk markets against the neg-risk exchange', async () => {
    const contracts = getContractConfig(137);
    const plain = await signPolymarketOrder(request(), rules, account);
    assert.equal(await verify(plain, contracts.exchange), true);
    assert.equal(await verify(plain, contracts.negRiskExchange), false);
    const negRisk = await signPolymarketOrder(request(), { ...rules, negRisk: true }, account);
    assert.equal(await verify(negRisk, contracts.negRiskExchange), true);
    assert.equal(await verify(negRisk, contracts.exchange), false);
    assert.notEqual(negRisk.orderId, plain.orderId);
  });

  it('NO trades the complement token; an expiry makes it GTD', async () => {
    const no = await signPolymarketOrder(request({ outcome: 'no', action: 'sell', limitPrice: '0.40', size: '5' }), rules, account);
    assert.equal(no.tokenId, '1002');
    assert.equal(no.side, 'SELL');
    assert.equal(no.order.makerAmount, '5000000');
    assert.equal(no.order.takerAmount, '2000000');
    const gtd = await signPolymarketOrder(request(), rules, account, 1_900_000_000);
    assert.equal(gtd.orderType, OrderType.GTD);
    assert.equal(gtd.order.expiration, '1900000000');
  });
});

describe('Polymarket market rules for signing', () => {
  const market = () => ({ ...(spec('clob_market_closed_binary_accepting_true.json') as Record<string, unknown>), closed: false });
  const yes = '22978793223071892222859460592277435458011604214087068523744633723809814935807';
  const no = '108268928354766371660560153450121076545199284531791348447523752861907448942629';

  it('reads tokens, neg-risk and fee from the CLOB market; the live tick wins over the listed one', () => {
    const parsed = parseClobMarket(market());
    assert.deepEqual(polymarketMarketRules(parsed, yes, undefined), { tokens: { yes, no }, tickSize: '0.01', negRisk: false, feeRateBps: '0' });
    assert.deepEqual(polymarketMarketRules(parsed, no, '0.001').tokens, { yes: no, no: yes }, 'the other token is the NO side');
    assert.equal(polymarketMarketRules(parsed, yes, '0.001').tickSize, '0.001');
    assert.equal(polymarketMarketRules(parseClobMarket({ ...market(), neg_risk: true, taker_base_fee: 200 }), yes, undefined).negRisk, true);
  });

  it('refuses a closed market, a foreign asset and a tick the CLOB does not use', () => {
    assert.throws(() => polymarketMarketRules(parseClobMarket(spec('clob_market_closed_binary_accepting_true.json')), yes, undefined), MarketClosed);
    assert.throws(() => polymarketMarketRules(parseClobMarket(market()), '42', undefined), /not a token/);
    assert.throws(() => parseClobMarket({ ...market(), minimum_tick_size: 0.005 }), BadRequest);
    assert.throws(() => polymarketMarketRules(parseClobMarket(market()), yes, '0.005'), /not one the CLOB uses/);
  });
});
