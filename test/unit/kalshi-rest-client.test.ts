import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixedClock } from '../../domain/clock';
import { AuthenticationError, DuplicateOrder, ExchangeNotAvailable, InvalidOrder, RateLimitExceeded } from '../../domain/errors';
import { TokenBucket } from '../../domain/rate-limit/token-bucket';
import { KalshiRestClient, kalshiMarketSchema, kalshiRestTradeSchema } from '../../venues/kalshi/rest-client';
import { loadKalshiCredentials, publicKeyOf, verifyKalshiSignature } from '../../venues/kalshi/signing';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('TokenBucket', () => {
  it('spends, refills at the configured rate and says how long to wait', () => {
    const bucket = new TokenBucket(20, 10);
    assert.deepEqual(bucket.tryTake(10, 0), { ok: true });
    assert.deepEqual(bucket.tryTake(10, 0), { ok: true });
    assert.deepEqual(bucket.tryTake(10, 0), { ok: false, waitMs: 1000 });
    assert.deepEqual(bucket.tryTake(10, 1000), { ok: true });
    assert.equal(bucket.available(100_000), 20, 'never above capacity');
    bucket.drain(100_000);
    assert.deepEqual(bucket.tryTake(5, 100_000), { ok: false, waitMs: 500 });
    assert.throws(() => bucket.tryTake(21, 0), /exceeds bucket capacity/);
  });
});

describe('KalshiRestClient against a local server', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials = loadKalshiCredentials('key-1', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const publicKey = publicKeyOf(credentials.privateKey);
  let server: Server;
  let baseUrl: string;
  let handler: Handler;
  const seen: { method: string; url: string; signedOk: boolean | undefined }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const sig = req.headers['kalshi-access-signature'];
        const signedOk = typeof sig === 'string' ? verifyKalshiSignature(publicKey, Number(req.headers['kalshi-access-timestamp']), req.method!, req.url!, sig) : undefined;
        seen.push({ method: req.method!, url: req.url!, signedOk });
        handler(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/trade-api/v2`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (seen.length = 0));

  function client(overrides: Partial<ConstructorParameters<typeof KalshiRestClient>[0]> = {}) {
    const clock = new FixedClock(1_700_000_000_000);
    const sleeps: number[] = [];
    const c = new KalshiRestClient({
      baseUrl,
      credentials,
      clock,
      limits: { read: { capacity: 100, refillPerSecond: 100 }, write: { capacity: 100, refillPerSecond: 100 } },
      backoff: { initialMs: 100, maxMs: 1000 },
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
      ...overrides,
    });
    return { c, sleeps, clock };
  }
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  it('walks cursor pagination and parses fixed-point fields', async () => {
    handler = (req, _b, res) => {
      const cursor = new URL(req.url!, 'http://x').searchParams.get('cursor');
      if (!cursor) json(res, 200, { cursor: 'p2', markets: [{ ticker: 'A', event_ticker: 'E', status: 'open', yes_bid_dollars: '0.4200' }] });
      else json(res, 200, { cursor: '', markets: [{ ticker: 'B', event_ticker: 'E', status: 'open' }] });
    };
    const { c } = client();
    const tickers: string[] = [];
    for await (const m of c.markets({ series_ticker: 'KXGOLD15M' })) tickers.push(m.ticker);
    assert.deepEqual(tickers, ['A', 'B']);
    assert.match(seen[1]!.url, /cursor=p2/);
    assert.match(seen[0]!.url, /series_ticker=KXGOLD15M/);
    assert.equal(seen[0]!.signedOk, undefined, 'public endpoints are not signed');
  });

  it('signs portfolio requests so the server verifies them over the path without the query', async () => {
    const fill = { fill_id: 'f', trade_id: 't', order_id: 'o', market_ticker: 'A', book_side: 'bid', count_fp: '1.00', yes_price_dollars: '0.4000', no_price_dollars: '0.6000', is_taker: true, fee_cost: '0.0200' };
    handler = (_req, _b, res) => json(res, 200, { cursor: '', fills: [fill] });
    const { c } = client();
    for await (const _ of c.fills({ limit: 5 })) void _;
    assert.match(seen[0]!.url, /^\/trade-api\/v2\/portfolio\/fills\?limit=5$/);
    assert.equal(seen[0]!.signedOk, true);
  });

  it('refuses signed calls without credentials, before sending anything', async () => {
    const { c } = client({ credentials: undefined });
    await assert.rejects(c.balance(), AuthenticationError);
    assert.equal(seen.length, 0);
  });

  it('backs off exponentially on 429 (honouring Retry-After) and then succeeds', async () => {
    let calls = 0;
    handler = (_req, _b, res) => (++calls <= 2 ? json(res, 429, { error: { code: 'too_many_requests' } }, calls === 2 ? { 'retry-after': '2' } : {}) : json(res, 200, { balance: 1234 }));
    const { c, sleeps } = client();
    const balance = await c.balance();
    assert.equal(balance.balance, 1234);
    assert.equal(calls, 3);
    // First retry waits the exponential 100 ms, the second Retry-After's 2 s; draining the bucket adds a refill wait.
    assert.ok(sleeps.includes(100) && sleeps.includes(2000), `sleeps: ${sleeps.join(',')}`);
  });

  it('gives up after maxRetries with RateLimitExceeded', async () => {
    handler = (_req, _b, res) => json(res, 429, { error: { code: 'too_many_requests' } });
    const { c } = client({ maxRetries: 2 });
    await assert.rejects(c.balance(), RateLimitExceeded);
  });

  it('maps HTTP errors to non-retryable or retryable classes', async () => {
    const cases: [number, unknown, new (...a: never[]) => Error, boolean][] = [
      [400, { error: { code: 'invalid_order', message: 'price must be on the tick grid' } }, InvalidOrder, false],
      [401, { error: { code: 'unauthorized' } }, AuthenticationError, false],
      [409, { error: { code: 'duplicate_client_order_id' } }, DuplicateOrder, false],
      [503, 'upstream down', ExchangeNotAvailable, true],
    ];
    for (const [status, body, cls, retryable] of cases) {
      let calls = 0;
      handler = (_req, _b, res) => (calls++, json(res, status, body));
      const { c } = client({ maxRetries: 1 });
      await assert.rejects(c.createOrder({ ticker: 'M', client_order_id: 'c1', side: 'bid', count: '1.00', price: '0.5000', time_in_force: 'immediate_or_cancel' }), (e: unknown) => e instanceof cls);
      // An order create whose outcome is unknown (5xx) is never repeated blindly: the caller looks it up first.
      assert.equal(calls, 1, `HTTP ${status} on create retried ${calls - 1} times`);
      calls = 0;
      await assert.rejects(c.cancelOrder('o-1'), (e: unknown) => e instanceof cls);
      assert.equal(calls, retryable ? 2 : 1, `HTTP ${status} on cancel retried ${calls - 1} times`);
    }
  });

  it('sends V2 orders with decimal strings and parses the response', async () => {
    let received: unknown;
    handler = (_req, body, res) => {
      received = JSON.parse(body);
      json(res, 201, { order_id: 'o1', client_order_id: 'c1', fill_count: '3.00', remaining_count: '0.00', average_fill_price: '0.5600', average_fee_paid: '0.0173', ts_ms: 1 });
    };
    const { c } = client();
    const result = await c.createOrder({ ticker: 'M', client_order_id: 'c1', side: 'bid', count: '3.00', price: '0.5600', time_in_force: 'immediate_or_cancel' });
    assert.equal(result.average_fill_price, '0.5600');
    assert.deepEqual(received, { ticker: 'M', client_order_id: 'c1', side: 'bid', count: '3.00', price: '0.5600', time_in_force: 'immediate_or_cancel', self_trade_prevention_type: 'taker_at_cross' });
    assert.equal(seen[0]!.signedOk, true);
    await assert.rejects(c.createOrder({ ticker: 'M', client_order_id: 'c1', side: 'bid', count: 3 as unknown as string, price: '0.56', time_in_force: 'immediate_or_cancel' }), (e: unknown) => e instanceof InvalidOrder && /count/.test(e.message));
    assert.equal(seen.length, 1, 'the invalid order never reached the server');
  });

  it('waits for tokens instead of exceeding the write budget', async () => {
    handler = (_req, _b, res) => json(res, 201, { order_id: 'o', fill_count: '0.00', remaining_count: '1.00', ts_ms: 1 });
    const { c, sleeps } = client({ limits: { read: { capacity: 100, refillPerSecond: 100 }, write: { capacity: 20, refillPerSecond: 10 } } });
    for (let i = 0; i < 3; i++) await c.createOrder({ ticker: 'M', client_order_id: `c${i}`, side: 'ask', count: '1.00', price: '0.5000', time_in_force: 'good_till_canceled' });
    assert.deepEqual(sleeps, [1000], 'third order (10 tokens) waits one second at 10 tokens/s');
  });
});

describe('Kalshi REST response schemas on recorded responses', () => {
  const fixture = (name: string) => (JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', 'shared', 'specs', 'kalshi', 'fixtures-rest-2026-01', name), 'utf8')) as { response: Record<string, unknown[]> }).response;
  it('parses recorded markets and trades (legacy cents plus _dollars fields)', () => {
    const markets = fixture('markets_list_response.json').markets!;
    assert.ok(markets.length > 0);
    for (const m of markets) kalshiMarketSchema.parse(m);
    for (const t of fixture('trades_list_response.json').trades!) kalshiRestTradeSchema.parse(t);
  });
});
