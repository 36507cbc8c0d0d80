import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FixedClock } from '../../domain/clock';
import { BookStore } from '../../domain/market-data/book-store';
import { polymarketBookHash } from '../../venues/polymarket/book-hash';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { parsePolymarketMessage } from '../../venues/polymarket/messages';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const spec = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(SHARED, 'specs', 'polymarket', 'fixtures', name), 'utf8')) as Record<string, unknown>;
const recordedBooks = (): Record<string, unknown>[] =>
  readFileSync(path.join(SHARED, 'data', 'polymarket-ws-samples', 'polymarket_book.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const A = 'asset-yes';
const B = 'asset-no';

function harness(backoff = { initialMs: 1000, maxMs: 8000 }) {
  const clock = new FixedClock(1_000_000);
  const resyncs: { asset: string; reason: string }[] = [];
  const malformed: string[] = [];
  const sync = new PolymarketBookSync(new BookStore({ historyCapacity: 10, sampleMs: 0 }), {
    requestResync: (asset, reason) => resyncs.push({ asset, reason }),
    onMalformed: (_raw, error) => malformed.push(error),
    clock,
    backoff,
  });
  const book = (asset: string) => sync.store.state(asset).book;
  const top = (asset: string) => {
    const t = book(asset).top();
    return `${t.yesBid ? `${t.yesBid.price}x${t.yesBid.size / 1e6}` : '-'} / ${t.yesAsk ? `${t.yesAsk.price}x${t.yesAsk.size / 1e6}` : '-'}`;
  };
  return { clock, resyncs, malformed, sync, book, top };
}

const snapshot = (asset: string, ts: number, bids: [string, string][], asks: [string, string][], extra: Record<string, unknown> = {}) => ({
  event_type: 'book',
  asset_id: asset,
  market: '0xmarket',
  bids: bids.map(([price, size]) => ({ price, size })),
  asks: asks.map(([price, size]) => ({ price, size })),
  timestamp: String(ts),
  ...extra,
});
const change = (asset: string, side: 'BUY' | 'SELL', price: string, size: string, bestBid?: string, bestAsk?: string) => ({ asset_id: asset, price, side, size, best_bid: bestBid, best_ask: bestAsk });
const priceChange = (ts: number, ...changes: ReturnType<typeof change>[]) => ({ event_type: 'price_change', market: '0xmarket', price_changes: changes, timestamp: String(ts) });

describe('PolymarketBookSync: one consistency check per timestamp batch', () => {
  // Bids 0.40 × 10; asks 0.45 × 5 and 0.47 × 5. A buy of 8 at 0.46 takes the 0.45 ask and rests 3 at 0.46.
  const base = () => snapshot(A, 1000, [['0.40', '10']], [['0.45', '5'], ['0.47', '5']]);
  // The venue reports the burst's final best bid/ask (0.46/0.47) on every message of the burst.
  const takerBurst = (finalBid: string, finalAsk: string) => [
    priceChange(2000, change(A, 'BUY', '0.46', '8', finalBid, finalAsk)),
    priceChange(2000, change(A, 'SELL', '0.45', '0', finalBid, finalAsk)),
    priceChange(2000, change(A, 'BUY', '0.46', '3', finalBid, finalAsk)),
  ];

  it('a burst crossed mid-batch but consistent at its end is taken without a resync', () => {
    const h = harness();
    h.sync.handle(base());
    const [first, ...rest] = takerBurst('0.46', '0.47');
    h.sync.handle(first);
    // Mid-batch the book is crossed (bid 0.46 over the 0.45 ask) and its top is not the reported one: no verdict yet.
    assert.equal(h.resyncs.length, 0);
    for (const msg of rest) h.sync.handle(msg);
    h.sync.handle(priceChange(2001, change(A, 'BUY', '0.40', '12', '0.46', '0.47')));
    h.sync.flush();
    assert.deepEqual(h.resyncs, []);
    assert.equal(h.book(A).stale, false);
    assert.equal(h.top(A), '4600x3 / 4700x5');
    assert.equal(h.book(A).sizeAt('yes', 4000), 12_000_000);
    assert.equal(h.sync.counters.batchesChecked, 2);
  });

  it('a burst whose end disagrees with the venue asks for one resync, not one per message', () => {
    const h = harness();
    h.sync.handle(base());
    // The venue's final ask is 0.48: an ask change at 0.47 never reached us.
    for (const msg of takerBurst('0.46', '0.48')) h.sync.handle(msg);
    assert.equal(h.resyncs.length, 0, 'judged only when the batch closes');
    h.sync.flush();
    assert.equal(h.resyncs.length, 1);
    assert.equal(h.resyncs[0]!.asset, A);
    assert.match(h.resyncs[0]!.reason, /^at the end of the batch at 2000, the venue reports best bid\/ask 0\.46\/0\.48 but the book has 0\.4600\/0\.4700$/);
    assert.ok(h.book(A).stale);
    // Everything that follows for the stale asset is refused without asking again.
    for (let ts = 2001; ts < 2040; ts++) h.sync.handle(priceChange(ts, change(A, 'BUY', '0.41', String(ts - 2000), '0.46', '0.48')));
    h.sync.flush();
    assert.equal(h.resyncs.length, 1);
    assert.equal(h.book(A).staleBecause, h.resyncs[0]!.reason, 'the first cause stays, flat');
    assert.ok(h.sync.counters.resyncsHeldBack >= 39);
  });

  it('a burst the venue ended at the same top but left crossed here is undone whole, with one resync', () => {
    const h = harness();
    h.sync.handle(base());
    // The removal of the 0.45 ask never arrives.
    const [first, , last] = takerBurst('0.46', '0.47');
    h.sync.handle(first);
    h.sync.handle(last);
    h.sync.handle(priceChange(2005, change(A, 'BUY', '0.39', '1', '0.46', '0.47')));
    assert.equal(h.resyncs.length, 1);
    assert.match(h.resyncs[0]!.reason, /^crossed: best YES bid 0\.4600 >= best YES ask 0\.4500 .* at the end of exchange ms 2000; its changes were undone$/);
    assert.equal(h.book(A).sizeAt('yes', 4600), 0, 'the batch was undone');
    assert.equal(h.book(A).sizeAt('yes', 3900), 0, 'a stale book takes nothing more');
  });

  it('a later batch closes the open one of the same asset; other assets keep theirs open', () => {
    const h = harness();
    h.sync.handle(base());
    h.sync.handle(snapshot(B, 1000, [['0.53', '5']], [['0.55', '5']]));
    h.sync.handle(priceChange(3000, change(A, 'BUY', '0.41', '1', '0.41', '0.49'))); // wrong ask: A's batch will fail
    h.sync.handle(priceChange(3000, change(B, 'BUY', '0.54', '1', '0.54', '0.55')));
    assert.equal(h.resyncs.length, 0);
    h.sync.handle(priceChange(3001, change(A, 'BUY', '0.42', '1', '0.42', '0.49')));
    assert.deepEqual(
      h.resyncs.map((r) => r.asset),
      [A],
    );
    h.sync.flush();
    assert.equal(h.resyncs.length, 1, "B's batch was consistent");
    assert.equal(h.top(B), '5400x1 / 5500x5');
  });

  it('changes of both tokens of a market in one message are checked per token', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.30', '10']], [['0.40', '10']]));
    h.sync.handle(snapshot(B, 1000, [['0.60', '10']], [['0.70', '10']]));
    // A new YES bid at 0.35 shows on the NO token as an ask at 0.65.
    h.sync.handle(priceChange(2000, change(A, 'BUY', '0.35', '4', '0.35', '0.40'), change(B, 'SELL', '0.65', '4', '0.60', '0.65')));
    h.sync.flush();
    assert.deepEqual(h.resyncs, []);
    assert.equal(h.top(A), '3500x4 / 4000x10');
    assert.equal(h.top(B), '6000x10 / 6500x4');
  });

  it('empty sides: bid "0", ask "1" or "0", and "" (not reported) are read as the venue means them', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.50', '10']], []));
    h.sync.handle(priceChange(2000, change(A, 'BUY', '0.50', '0', '0', '1')));
    h.sync.handle(priceChange(2001, change(A, 'BUY', '0.20', '5', '0.2', '')));
    h.sync.handle(priceChange(2002, change(A, 'SELL', '0.90', '5', '', '0.9')));
    h.sync.flush();
    assert.deepEqual(h.resyncs, []);
    assert.equal(h.top(A), '2000x5 / 9000x5');
  });
});

describe('PolymarketBookSync: resync requests and stale reasons', () => {
  it('an asset without a snapshot asks once, then again only after the backoff (doubling)', () => {
    const h = harness({ initialMs: 1000, maxMs: 4000 });
    const burst = () => {
      for (let i = 0; i < 30; i++) h.sync.handle(priceChange(5000 + i, change('unknown', 'BUY', '0.50', String(i + 1), '0.5', '0.6')));
    };
    burst();
    assert.equal(h.resyncs.length, 1, 'thirty messages, one request');
    assert.equal(h.resyncs[0]!.reason, 'no snapshot yet');
    assert.equal(h.book('unknown').staleBecause, 'no snapshot yet', 'never "book is stale: …" wrapped again');
    h.clock.advance(999);
    burst();
    assert.equal(h.resyncs.length, 1);
    h.clock.advance(1);
    burst();
    assert.equal(h.resyncs.length, 2, 'the first second passed: asked again');
    h.clock.advance(1999);
    burst();
    assert.equal(h.resyncs.length, 2, 'now two seconds between requests');
    h.clock.advance(1);
    burst();
    h.clock.advance(4000);
    burst();
    h.clock.advance(4000);
    burst();
    assert.equal(h.resyncs.length, 5, 'capped at maxMs');
    assert.ok(h.resyncs.every((r) => r.reason === 'no snapshot yet'));
    assert.deepEqual([...h.sync.awaitingResync()], [['unknown', 'no snapshot yet']]);

    h.sync.handle(snapshot('unknown', 9000, [['0.49', '1']], [['0.51', '1']]));
    assert.equal(h.book('unknown').stale, false);
    assert.equal(h.sync.awaitingResync().size, 0);
    h.sync.handle(priceChange(9001, change('unknown', 'BUY', '0.49', '2', '0.49', '0.52')));
    h.sync.flush();
    assert.equal(h.resyncs.length, 6, 'a new disagreement after the re-base asks at once');
  });

  it('a malformed message stales the books it names once, with a flat reason', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.40', '10']], [['0.45', '5']]));
    for (let i = 0; i < 5; i++) h.sync.handle({ event_type: 'price_change', price_changes: [{ asset_id: A, price: '1.5', side: 'BUY', size: '1' }], timestamp: String(2000 + i) });
    assert.equal(h.malformed.length, 5);
    assert.equal(h.resyncs.length, 1);
    assert.match(h.book(A).staleBecause!, /^refused message: .*price must be inside \(0, 1\)/);
    assert.doesNotMatch(h.book(A).staleBecause!, /book is stale/);
  });

  it('a book message re-bases a stale book: its levels replace the old ones', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.40', '10'], ['0.39', '4']], [['0.45', '5']]));
    h.sync.handle(priceChange(2000, change(A, 'BUY', '0.41', '1', '0.41', '0.44')));
    h.sync.flush();
    assert.ok(h.book(A).stale);
    h.sync.handle(snapshot(A, 2500, [['0.41', '1']], [['0.44', '2']]));
    assert.equal(h.book(A).stale, false);
    assert.equal(h.book(A).sizeAt('yes', 3900), 0, 'levels the snapshot does not list are gone');
    assert.equal(h.top(A), '4100x1 / 4400x2');
    // An open batch is replaced by a snapshot of its asset, not checked against it.
    h.sync.handle(priceChange(3000, change(A, 'BUY', '0.42', '1', '0.30', '0.99')));
    h.sync.handle(snapshot(A, 3000, [['0.42', '1']], [['0.44', '2']]));
    h.sync.flush();
    assert.equal(h.resyncs.length, 1);
  });
});

describe('PolymarketBookSync: tick size and message formats', () => {
  it('tick_size_change applies to the live book: the next levels are judged on the new tick', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.95', '10']], [['0.97', '5']], { tick_size: '0.01' }));
    assert.equal(h.sync.tickSize(A), '0.01');
    h.sync.handle({ ...spec('ws_market_tick_size_msg.json'), asset_id: A, old_tick_size: '0.01', new_tick_size: '0.001', timestamp: '1500' });
    assert.equal(h.sync.tickSize(A), '0.001');
    h.sync.handle(priceChange(2000, change(A, 'BUY', '0.961', '3', '0.961', '0.97')));
    h.sync.flush();
    assert.equal(h.resyncs.length, 0);
    assert.equal(h.top(A), '9610x3 / 9700x5');
    // A later book without a tick keeps the live one; one with a tick replaces it.
    h.sync.handle(snapshot(A, 2500, [['0.961', '3']], [['0.97', '5']]));
    assert.equal(h.sync.tickSize(A), '0.001');
    h.sync.handle(snapshot(A, 3000, [['0.95', '3']], [['0.97', '5']], { tick_size: '0.01' }));
    h.sync.handle(priceChange(3500, change(A, 'BUY', '0.955', '3', '0.955', '0.97')));
    assert.equal(h.resyncs.length, 1);
    assert.equal(h.resyncs[0]!.reason, 'refused level: price off the tick 0.01');
  });

  it('takes the 2024–25 format (one asset, its `changes`, no best bid/ask)', () => {
    const h = harness();
    h.sync.handle(snapshot(A, 1000, [['0.40', '10']], [['0.45', '5']]));
    h.sync.handle({ event_type: 'price_change', asset_id: A, market: '0xmarket', changes: [{ price: '0.41', side: 'BUY', size: '3' }, { price: '0.45', side: 'SELL', size: '0' }, { price: '0.46', side: 'SELL', size: '7' }], hash: 'abc', timestamp: '2000' });
    h.sync.flush();
    assert.deepEqual(h.resyncs, []);
    assert.equal(h.top(A), '4100x3 / 4600x7');
    const bad = parsePolymarketMessage({ event_type: 'price_change', asset_id: A, changes: [{ price: '0.41', side: 'HOLD', size: '3' }], timestamp: '2000' });
    assert.equal(bad.ok, false);
  });

  it('the spec fixtures: a book, then a change whose venue top shows a missed update, resync once; the other token of the market waits for its snapshot', () => {
    const h = harness();
    const book = spec('ws_book_snapshot.json');
    const quotes = spec('ws_quotes.json');
    const yes = book.asset_id as string;
    h.sync.handle({ event_type: 'book', ...book });
    assert.equal(h.top(yes), '5000x200 / 5100x150');
    h.sync.handle({ event_type: 'price_change', ...quotes });
    h.sync.flush();
    // The fixture's YES bid at 0.51 meets the 0.51 ask the venue no longer reports (its best ask is 0.52).
    assert.deepEqual(
      h.resyncs.map((r) => r.asset).sort(),
      [yes, '52114319501245915516055106046884209969926127482827954674443846427813813222426'].sort(),
    );
    assert.ok(h.book(yes).stale);
    h.sync.handle({ event_type: 'book', ...book, asks: [{ price: '0.52', size: '250.0' }], bids: [{ price: '0.51', size: '150.0' }], timestamp: '1703875201001' });
    assert.equal(h.top(yes), '5100x150 / 5200x250');
  });
});

describe('Polymarket book hash', () => {
  it('reproduces the hash of every recorded book message', () => {
    for (const msg of recordedBooks()) {
      const summary = {
        market: msg.market as string,
        asset_id: msg.asset_id as string,
        timestamp: msg.timestamp as string,
        bids: msg.bids as { price: string; size: string }[],
        asks: msg.asks as { price: string; size: string }[],
        min_order_size: '5',
        tick_size: msg.tick_size as string,
        neg_risk: false,
        last_trade_price: msg.last_trade_price as string,
      };
      assert.equal(polymarketBookHash(summary), msg.hash);
      const touched = { ...summary, bids: summary.bids.map((l, i) => (i === 0 ? { ...l, size: `${l.size}1` } : l)) };
      assert.notEqual(polymarketBookHash(touched), msg.hash, 'one size more changes it');
    }
  });
});
