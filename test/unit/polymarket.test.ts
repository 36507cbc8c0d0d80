import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { FixedClock } from '../../domain/clock';
import { Dec } from '../../domain/decimal';
import { ExchangeNotAvailable } from '../../domain/errors';
import { kalshiFee, kalshiFeeDifference, polymarketTakerFee } from '../../domain/fees';
import { BookStore } from '../../domain/market-data/book-store';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { parsePolymarketMessage } from '../../venues/polymarket/messages';
import { PolymarketRestClient } from '../../venues/polymarket/rest-client';
import { replayPolymarketJsonl } from '../../venues/replay/polymarket-samples';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', name), 'utf8'));
const jsonl = (name: string): unknown[] => readFileSync(path.join(SHARED, 'data', 'polymarket-ws-samples', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);

describe('fees', () => {
  it('Kalshi: rate × C × P × (1 − P), rounded up to $0.0001', () => {
    assert.equal(kalshiFee({ contracts: new Dec(100), price: new Dec('0.50'), rate: new Dec('0.07') }).toFixed(4), '1.7500');
    assert.equal(kalshiFee({ contracts: new Dec(1), price: new Dec('0.43'), rate: new Dec('0.07') }).toFixed(4), '0.0172', '0.017157 rounds up');
    assert.equal(kalshiFee({ contracts: new Dec(10), price: new Dec('0.43'), rate: new Dec('0.0175') }).toFixed(4), '0.0429', 'maker rate');
    assert.equal(kalshiFee({ contracts: new Dec(10), price: new Dec('0.43'), rate: new Dec('0.07'), seriesMultiplier: new Dec('0.5') }).toFixed(4), '0.0858');
    assert.throws(() => kalshiFee({ contracts: new Dec(1), price: new Dec('1.2'), rate: new Dec('0.07') }), /outside/);
  });
  it('Kalshi: a venue fee more than $0.0001 from our formula is a difference; rounding is not', () => {
    const rates = { takerRate: new Dec('0.07'), makerRate: new Dec('0.0175') };
    const fill = (fee: string, liquidity: 'maker' | 'taker' = 'taker') => ({ fillId: 'f1', liquidity, action: 'buy' as const, contracts: new Dec(100), price: new Dec('0.50'), fee: new Dec(fee) });
    assert.equal(kalshiFeeDifference(fill('1.7500'), rates), undefined);
    assert.equal(kalshiFeeDifference(fill('1.7501'), rates), undefined, 'one step of the $0.0001 grid is rounding');
    assert.deepEqual(kalshiFeeDifference(fill('1.7600'), rates), { fillId: 'f1', liquidity: 'taker', contracts: '100', price: '0.5000', venueFee: '1.7600', expectedFee: '1.7500' });
    assert.equal(kalshiFeeDifference(fill('0.4375', 'maker'), rates), undefined, 'maker rate');
    assert.equal(kalshiFeeDifference(fill('1.7500', 'maker'), rates)?.expectedFee, '0.4375');
    // The maker trade fee is $0.4375; an account held through an intermediary moves in whole cents, so the fill costs $0.44.
    assert.equal(kalshiFeeDifference(fill('0.4400', 'maker'), { ...rates, balancePrecision: new Dec('0.01') }), undefined, 'balance rounded to the cent');
  });
  it('Polymarket: C × rate × (p(1 − p))^e, floored to 5 decimals', () => {
    assert.equal(polymarketTakerFee({ contracts: new Dec(100), price: new Dec('0.5'), rate: new Dec('0.02'), exponent: 2 }).toString(), '0.125');
    assert.equal(polymarketTakerFee({ contracts: new Dec(9), price: new Dec('0.33'), rate: new Dec('0.02'), exponent: 2 }).toFixed(5), '0.00879', '0.0087993… floors, never rounds up');
    assert.throws(() => polymarketTakerFee({ contracts: new Dec(1), price: new Dec('0.5'), rate: new Dec('0.02'), exponent: 1.5 }), /whole number/);
  });
});

describe('Polymarket market channel parser', () => {
  it('parses the documented messages', () => {
    const book = parsePolymarketMessage(fixture('ws_market_book_msg.json'));
    assert.ok(book.ok && book.value.kind === 'events');
    assert.deepEqual(book.value.events[0], { t: 'snapshot', m: '71321045679252212594626385532706912750332728571942532289631379312455583992563', ts: 1703875200000, yes: [['0.50', '200.0'], ['0.49', '350.0']], no: [['0.4900', '150.0'], ['0.4800', '250.0']] });
    const change = parsePolymarketMessage(fixture('ws_market_price_change_msg.json'));
    assert.ok(change.ok && change.value.kind === 'events');
    assert.deepEqual(change.value.expectedTops[0], { assetId: '71321045679252212594626385532706912750332728571942532289631379312455583992563', bestBid: '0.51', bestAsk: '0.52' });
    const trade = parsePolymarketMessage(fixture('ws_market_last_trade_msg.json'));
    assert.ok(trade.ok && trade.value.kind === 'events' && trade.value.events[0]!.t === 'trade');
    const tick = parsePolymarketMessage(fixture('ws_market_tick_size_msg.json'));
    assert.ok(tick.ok && tick.value.kind === 'tick_size' && tick.value.tickSize === '0.01');
  });

  it('parses the docs examples (".48" prices, best_ask "1", empty best_bid)', () => {
    const samples = JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'ws-subscribe-samples.json'), 'utf8')) as { book_example: unknown; price_change_example: { price_changes: Record<string, unknown>[] } };
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 10, sampleMs: 0 }), { requestResync: () => assert.fail('no resync expected') });
    sync.handle(samples.book_example);
    const asset = '65818619657568813474341868652308942079804919287380422192892211131408793125422';
    assert.deepEqual(sync.store.state(asset).book.top(), { yesBid: { price: 5000, size: 15_000_000 }, yesAsk: { price: 5200, size: 25_000_000 } });
    const change = parsePolymarketMessage({ ...samples.price_change_example, price_changes: [{ ...samples.price_change_example.price_changes[0], best_bid: '' }] });
    assert.ok(change.ok, change.ok ? '' : change.error);
  });

  it('parses every recorded book and trade sample', () => {
    for (const msg of [...jsonl('polymarket_book.jsonl'), ...jsonl('polymarket_trade.jsonl')]) {
      const parsed = parsePolymarketMessage(msg);
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    }
  });

  it('reports malformed messages', () => {
    assert.equal(parsePolymarketMessage({}).ok, false);
    const bad = parsePolymarketMessage({ event_type: 'book', asset_id: 'a', bids: [{ price: 'x', size: '1' }], timestamp: '1' });
    assert.equal(bad.ok, false);
  });
});

describe('PolymarketBookSync', () => {
  it('builds books from recorded samples and resyncs when the venue top disagrees', () => {
    const resyncs: string[] = [];
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 100, sampleMs: 1000 }), { requestResync: (asset, reason) => resyncs.push(`${asset}: ${reason}`) });
    for (const msg of jsonl('polymarket_book.jsonl')) sync.handle(msg);
    assert.equal(sync.counters.malformed, 0);
    const first = jsonl('polymarket_book.jsonl')[0] as { asset_id: string; bids: { price: string }[]; asks: { price: string }[] };
    const top = sync.store.state(first.asset_id).book.top();
    const bestBid = Math.max(...first.bids.map((b) => Number(b.price)));
    const bestAsk = Math.min(...first.asks.map((a) => Number(a.price)));
    assert.equal(top.yesBid!.price, Math.round(bestBid * 10000));
    assert.equal(top.yesAsk!.price, Math.round(bestAsk * 10000));

    const asset = 'A1';
    sync.handle({ event_type: 'book', asset_id: asset, bids: [{ price: '0.40', size: '10' }], asks: [{ price: '0.45', size: '5' }], timestamp: '1000' });
    sync.handle({ event_type: 'price_change', price_changes: [{ asset_id: asset, price: '0.41', side: 'BUY', size: '3', best_bid: '0.41', best_ask: '0.45' }], timestamp: '1001' });
    assert.equal(resyncs.length, 0);
    assert.equal(sync.store.state(asset).book.top().yesBid!.price, 4100);
    // The venue says the best ask is 0.44, but no message told us: we missed one. Resync, once the batch closes.
    sync.handle({ event_type: 'price_change', price_changes: [{ asset_id: asset, price: '0.41', side: 'BUY', size: '0', best_bid: '0.40', best_ask: '0.44' }], timestamp: '1002' });
    assert.equal(resyncs.length, 0);
    sync.flush();
    assert.equal(resyncs.length, 1);
    assert.ok(sync.store.state(asset).book.stale);
    sync.handle({ event_type: 'book', asset_id: asset, bids: [{ price: '0.40', size: '10' }], asks: [{ price: '0.44', size: '2' }], timestamp: '1003' });
    assert.equal(sync.store.state(asset).book.stale, false, 'a book message re-bases it');
  });
});

describe('replaying recorded Polymarket samples', () => {
  it('plays the book and trade samples into books, reporting bad lines', () => {
    const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 100, sampleMs: 0 }), { requestResync: () => {} });
    const dir = path.join(SHARED, 'data', 'polymarket-ws-samples');
    const delivered = replayPolymarketJsonl(path.join(dir, 'polymarket_book.jsonl'), (m) => sync.handle(m)) + replayPolymarketJsonl(path.join(dir, 'polymarket_trade.jsonl'), (m) => sync.handle(m));
    assert.equal(delivered, 20);
    assert.equal(sync.counters.malformed, 0);
    assert.ok(sync.store.markets.size >= 10);
    const bad: string[] = [];
    const tmp = path.join(tmpdir(), `pm-${process.pid}.jsonl`);
    writeFileSync(tmp, '{"event_type":"book"\n\n');
    assert.equal(replayPolymarketJsonl(tmp, () => assert.fail('nothing valid to deliver'), (b) => bad.push(b.error)), 0);
    assert.match(bad[0]!, /invalid JSON/);
  });
});

describe('PolymarketRestClient against a local server', () => {
  let server: Server;
  let base: string;
  let failures = 0;
  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (url.pathname === '/book') {
        if (failures-- > 0) return void (res.writeHead(503), res.end('busy'));
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', 'clob_book_response.json')));
      }
      if (url.pathname === '/markets') {
        const page = url.searchParams.get('next_cursor') ? { data: [{ condition_id: 'c2' }], next_cursor: 'LTE=' } : { data: [{ condition_id: 'c1' }], next_cursor: 'MTA=' };
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(page));
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches a book (retrying 5xx) and walks market pages', async () => {
    const client = new PolymarketRestClient({ baseUrl: base, clock: new FixedClock(0), sleep: async () => {} });
    failures = 1;
    const book = await client.book('12345678901234567890');
    assert.equal(book.bids?.length, 3);
    const ids: string[] = [];
    for await (const m of client.markets()) ids.push(m.condition_id);
    assert.deepEqual(ids, ['c1', 'c2']);
    failures = 10;
    await assert.rejects(new PolymarketRestClient({ baseUrl: base, clock: new FixedClock(0), sleep: async () => {}, maxRetries: 1 }).book('x'), ExchangeNotAvailable);
  });
});
