import assert from 'node:assert/strict';
import path from 'node:path';
import { ClobClient, SignatureType } from '@polymarket/clob-client';
import { generatePrivateKey } from 'viem/accounts';
import { parseVenueAndFeed } from '../../cli/strategy';
import { configSchema } from '../../config/schema';
import { configuredFees } from '../../config/fees';
import { isPolymarketTokenId } from '../../domain/fees';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { SimMatchingEngine, type SimOrderRequest } from '../../domain/sim/matching';
import type { OrderRequestWire } from '../../domain/trading/wire';
import { polymarketEndpoints, polymarketPrivateKeyFromEnv } from '../../venues/polymarket/config';
import { startPolymarketEmulator } from '../../venues/polymarket/emulator/server';
import { InMemoryOrderIdStore, PolymarketExecutionClient } from '../../venues/polymarket/execution';
import type { PolymarketMarketRules } from '../../venues/polymarket/order-signing';
import { polymarketSignerFromKey } from '../../venues/polymarket/signer';

const TOKEN = '1627500284739545390204314775735988068784669364445492030335161034375823784781';
const COMPLEMENT = '7849332184617640056758089974170387917558941201674921732369975950049491747956';
const SAMPLES = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'polymarket-ws-samples');
const p = priceUnits;
const c = (n: number) => sizeUnits(String(n));

describe('Polymarket in the running stack: config, fees, venue selection', () => {
  it('the paper exchange charges a Polymarket token Polymarket\'s taker fee (takers only) and a Kalshi ticker Kalshi\'s', () => {
    const config = configSchema.parse({ fees: { polymarketTakerRateBps: 200 } });
    const engine = new SimMatchingEngine(configuredFees(config));
    const book = (market: string) => {
      const b = new BinaryOrderBook(market);
      // YES bids 0.46 × 40; NO bids 0.53 × 100 (YES asks 0.47 × 100).
      b.applySnapshot([{ price: p('0.46'), size: c(40) }], [{ price: p('0.53'), size: c(100) }], 0);
      return b;
    };
    const order = (market: string, over: Partial<SimOrderRequest> = {}): SimOrderRequest => ({ clientOrderId: `${market}-1`, market, outcome: 'yes', action: 'buy', limitPrice: p('0.47'), size: c(10), tif: 'ioc', ...over });
    const poly = engine.submit(order(TOKEN), book(TOKEN), 1);
    // 10 × 0.02 × 0.47 × 0.53 = 0.04982, floored to 5 places.
    assert.deepEqual(poly.fills.map((f) => [f.liquidity, f.fee.toString()]), [['taker', '0.04982']]);
    const kalshi = engine.submit(order('KXGOLD15M-26AUG060800-00'), book('KXGOLD15M-26AUG060800-00'), 1);
    // Kalshi: 0.07 × 10 × 0.47 × 0.53 = 0.17437, rounded up to $0.0001.
    assert.equal(kalshi.fills[0]!.fee.toString(), '0.1744');
    // A resting Polymarket buy that a trade fills is a maker: no fee.
    const resting = engine.submit(order(TOKEN, { clientOrderId: 'rest', limitPrice: p('0.46'), tif: 'gtc' }), book(TOKEN), 1);
    assert.equal(resting.status, 'resting');
    const fills = engine.onTrade(TOKEN, { takerSide: 'no', yesPrice: p('0.46'), count: c(60) }, 2);
    assert.deepEqual(fills.map((f) => [f.clientOrderId, f.liquidity, f.fee.toString()]), [['rest', 'maker', '0']]);
    assert.equal(isPolymarketTokenId('KXGOLD15M-26AUG060800-00'), false);
    assert.equal(isPolymarketTokenId(TOKEN), true);
  });

  it('venues.polymarket: environments, URLs, chain, signature type and funder', () => {
    const venues = (polymarket: Record<string, unknown>) => configSchema.parse({ venues: { execution: 'polymarket', polymarket } }).venues;
    assert.deepEqual(polymarketEndpoints(venues({})), { environment: 'production', restUrl: 'https://clob.polymarket.com', marketWsUrl: 'wss://ws-subscriptions-clob.polymarket.com/ws/market', userWsUrl: 'wss://ws-subscriptions-clob.polymarket.com/ws/user', chainId: 137 });
    assert.deepEqual(polymarketEndpoints(venues({ environment: 'emulator', emulatorPort: 9999 })), { environment: 'emulator', restUrl: 'http://127.0.0.1:9999', marketWsUrl: 'ws://127.0.0.1:9999/ws/market', userWsUrl: 'ws://127.0.0.1:9999/ws/user', chainId: 137 });
    assert.throws(() => polymarketEndpoints(venues({ environment: 'amoy' })), /amoy has no documented hosts/);
    assert.equal(polymarketEndpoints(venues({ environment: 'amoy', restUrl: 'https://clob.test', wsUrl: 'wss://ws.test/market', userWsUrl: 'wss://ws.test/user' })).chainId, 80002);
    assert.throws(() => venues({ signatureType: 'poly_proxy' }), /funder is required/);
    assert.throws(() => venues({ funder: 'nope' }), /must be an address/);
    assert.throws(() => venues({ chainId: 1 }));
    assert.equal(polymarketPrivateKeyFromEnv({}), undefined);
    const key = generatePrivateKey();
    assert.equal(polymarketPrivateKeyFromEnv({ POLYMARKET_PRIVATE_KEY: key.slice(2) }), key);
    assert.throws(() => polymarketPrivateKeyFromEnv({ POLYMARKET_PRIVATE_KEY: '0x1234' }), /64 hex digits/);
  });

  it('strategy start --venue polymarket: on workers that route to Polymarket, with a feed of its own markets', () => {
    assert.deepEqual(parseVenueAndFeed('polymarket', 'polymarket', 'polymarket'), { kind: 'live', name: 'polymarket' });
    assert.deepEqual(parseVenueAndFeed('polymarket', 'live', 'polymarket'), { kind: 'live', name: 'live' });
    assert.deepEqual(parseVenueAndFeed('paper', 'polymarket', 'paper'), { kind: 'live', name: 'polymarket' });
    assert.throws(() => parseVenueAndFeed('polymarket', 'polymarket', 'paper'), /workers route orders to paper.*POLYMARKET_PRIVATE_KEY/);
    assert.throws(() => parseVenueAndFeed('polymarket', 'kalshi', 'polymarket'), /cannot trade the markets of --feed kalshi/);
    assert.throws(() => parseVenueAndFeed('kalshi', 'polymarket', 'kalshi'), /cannot trade the markets of --feed polymarket/);
  });
});

describe('PolymarketExecutionClient after a restart: the order found by its stored id, its fills read from REST', function () {
  this.timeout(20_000);

  it('a fresh client with the same order-id store reports the filled order with its fills and fee, and a resend places nothing', async () => {
    const emulator = await startPolymarketEmulator({ dataDir: SAMPLES, defaultFeeRateBps: '200', confirmAfterMs: 20 });
    try {
      emulator.advanceTo(emulator.exchange.endMs());
      const { signer, address } = polymarketSignerFromKey(generatePrivateKey());
      const creds = await new ClobClient(emulator.url, 137, signer).createOrDeriveApiKey();
      const api = () => new ClobClient(emulator.url, 137, signer, creds, SignatureType.EOA, undefined, undefined, false, undefined, undefined, false, undefined, true);
      const rules: PolymarketMarketRules = { tokens: { yes: TOKEN, no: COMPLEMENT }, tickSize: '0.01', negRisk: false, feeRateBps: '200' };
      const store = new InMemoryOrderIdStore();
      const client = () => new PolymarketExecutionClient({ api: api(), account: { signer, maker: address, signerAddress: address, signatureType: SignatureType.EOA, chainId: 137 }, rules: () => Promise.resolve(rules), orderIds: store });
      const request: OrderRequestWire = { clientOrderId: 'pos-9/entry/attempt-1', positionId: 'pos-9', purpose: 'entry', market: TOKEN, outcome: 'yes', action: 'buy', limitPrice: '0.47', size: '10', tif: 'ioc' };
      // The answer of a matched order already carries its fills (read from REST, no user channel here).
      const first = client();
      const placed = await first.submit(request);
      assert.deepEqual([placed.status, placed.filled, placed.averagePrice, placed.fees, placed.fills.length], ['filled', '10.000000', '0.470000', '0.04982', 1]);
      await first.close();
      // A restarted process: nothing in memory, the order id in the store.
      const second = client();
      const found = await second.get(request.clientOrderId);
      assert.deepEqual([found?.status, found?.filled, found?.averagePrice, found?.fees], ['filled', '10.000000', '0.470000', '0.04982']);
      assert.equal((await second.submit(request)).venueOrderId, placed.venueOrderId);
      assert.equal(emulator.exchange.orders.size, 1, 'one order at the venue');
      assert.equal(emulator.exchange.trades.length, 1);
      await second.close();
    } finally {
      await emulator.close();
    }
  });
});
