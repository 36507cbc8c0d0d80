import assert from 'node:assert/strict';
import { BookStore } from '../../domain/market-data/book-store';
import { marketEventSchema, toUnits } from '../../domain/market-data/events';
import { discoveryQueries, ExchangeTimeEstimate, lifecycleAction, selectsMarket, type KalshiMarketSelection } from '../../venues/kalshi/data';
import { FeedTape } from '../../runs/exchange-lockstep-source';
import { parseUpFeed } from '../../cli/main';

const selection = (over: Partial<KalshiMarketSelection> = {}): KalshiMarketSelection => ({ series: ['KXGOLD15M'], events: [], status: 'open', maxMarkets: 3, ...over });

describe('live Kalshi feed: market selection and lifecycle (pure)', () => {
  it('selects by series (first ticker segment) and event', () => {
    assert.equal(selectsMarket(selection(), 'KXGOLD15M-26AUG101800-00'), true);
    assert.equal(selectsMarket(selection(), 'KXBTC-26AUG1018-B100'), false);
    assert.equal(selectsMarket(selection({ series: [], events: ['KXGOLD15M-26AUG101800'] }), 'KXGOLD15M-26AUG101800-00'), true);
    assert.equal(selectsMarket(selection({ series: [], events: ['KXGOLD15M-26AUG101800'] }), 'KXGOLD15M-26AUG101815-15'), false);
    // An explicit event ticker wins over the one derived from the market ticker.
    assert.equal(selectsMarket(selection({ series: [], events: ['EV'] }), 'ODD-TICKER', 'EV'), true);
    assert.equal(selectsMarket(selection({ series: [], events: [] }), 'ANYTHING'), true);
  });

  it('asks GET /markets once per series, or once for all events (Kalshi filters one series, many events per request)', () => {
    assert.deepEqual(discoveryQueries(selection({ series: ['A', 'B'] })), [{ series_ticker: 'A', status: 'open' }, { series_ticker: 'B', status: 'open' }]);
    assert.deepEqual(discoveryQueries(selection({ events: ['E1', 'E2'], status: '' })), [{ event_ticker: 'E1,E2', status: undefined }]);
    assert.deepEqual(discoveryQueries(selection({ series: [], status: 'settled' })), [{ status: 'settled' }]);
  });

  it('adds a selected market that opens while there is room, drops a followed one at determination, refreshes the rest', () => {
    const following = new Set(['KXGOLD15M-26AUG101800-00']);
    const msg = (market_ticker: string, event_type: string) => ({ market_ticker, event_type });
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101815-15', 'activated'), selection(), following), 'add');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101815-15', 'created'), selection(), following), 'ignore', 'status open: not before it opens');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101815-15', 'created'), selection({ status: 'unopened' }), following), 'add');
    assert.equal(lifecycleAction(msg('KXBTC-X-1', 'activated'), selection(), following), 'ignore', 'outside the series');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101815-15', 'activated'), selection({ maxMarkets: 1 }), following), 'ignore', 'at the cap');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101800-00', 'deactivated'), selection(), following), 'refresh');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101800-00', 'determined'), selection(), following), 'drop');
    assert.equal(lifecycleAction(msg('KXGOLD15M-26AUG101800-00', 'settled'), selection(), new Set(), following), 'refresh', 'settlement after the drop is still stored');
  });
});

describe('stale market event', () => {
  it('is validated on the wire and marks the book stale until the next snapshot, without counting as fresh data', () => {
    assert.equal(marketEventSchema.safeParse({ t: 'stale', m: 'M', ts: 1, reason: '' }).success, false, 'a stale marking says why');
    const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
    store.applyAll([toUnits({ t: 'snapshot', m: 'M', ts: 1000, yes: [['0.4000', '10.00']], no: [['0.5000', '5.00']] })], 1);
    const outcome = store.applyAll([toUnits(marketEventSchema.parse({ t: 'stale', m: 'M', ts: 2000, reason: 'seq gap on sid 1' }))], 2);
    const state = store.markets.get('M')!;
    assert.equal(state.book.staleBecause, 'seq gap on sid 1');
    assert.equal(state.receivedAtMs, 1, 'a stale marking is not data');
    assert.ok(outcome.tops.has('M'), 'the stale top of book is published');
    const refused = store.applyAll([toUnits({ t: 'delta', m: 'M', ts: 3000, side: 'yes', price: '0.4000', delta: '1.00' })], 3);
    assert.equal(refused.refused.length, 1, 'deltas wait for the resync');
    store.applyAll([toUnits({ t: 'snapshot', m: 'M', ts: 4000, yes: [['0.4100', '3.00']], no: [] })], 4);
    assert.equal(state.book.stale, false);
    assert.deepEqual(state.book.levels('yes'), [{ price: 4100, size: 3_000_000 }]);
  });
});

describe('feed tape (lockstep source of a live feed)', () => {
  it('hands the events over up to a time, in arrival order; a bad price is counted, not thrown', () => {
    const lines: string[] = [];
    const tape = new FeedTape((l) => lines.push(l));
    tape.onEvent({ t: 'trade', m: 'A', ts: 100, id: '1', yesPrice: '0.5000', count: '1.00', takerSide: 'yes' });
    tape.onEvent({ t: 'delta', m: 'A', ts: 100, side: 'yes', price: '0.5000', delta: '1.00' });
    tape.onEvent({ t: 'delta', m: 'B', ts: 95, side: 'yes', price: '0.5000', delta: '1.00' });
    tape.onEvent({ t: 'delta', m: 'B', ts: 200, side: 'yes', price: '0.50001', delta: '1.00' });
    assert.equal(tape.malformed, 1);
    assert.match(lines[0]!, /invalid price or size.*0\.50001/);
    assert.deepEqual(tape.take(100).map((e) => [e.m, e.ts]), [['A', 100], ['A', 100], ['B', 95]]);
    assert.deepEqual(tape.take(1000), []);
  });
});

describe('kestrel up --feed / --clock', () => {
  it('takes the recording (wall or market clock), the live exchange (wall clock) or the emulator (market clock), and explains the rest', () => {
    assert.deepEqual(parseUpFeed(undefined, undefined), { kind: 'replay', clock: 'wall' });
    assert.deepEqual(parseUpFeed('replay', 'market'), { kind: 'replay', clock: 'market' });
    assert.deepEqual(parseUpFeed('kalshi-emulator', undefined), { kind: 'kalshi-emulator', clock: 'market' });
    assert.deepEqual(parseUpFeed('kalshi', undefined), { kind: 'kalshi', clock: 'wall' });
    assert.throws(() => parseUpFeed('bitmex', undefined), /--feed must be replay, kalshi, kalshi-emulator, polymarket or polymarket-emulator, got "bitmex"/);
    assert.deepEqual(parseUpFeed('polymarket-emulator', undefined), { kind: 'polymarket-emulator', clock: 'wall' });
    assert.deepEqual(parseUpFeed('polymarket', undefined), { kind: 'polymarket', clock: 'wall' });
    assert.throws(() => parseUpFeed('polymarket-emulator', 'market'), /takes no --clock/);
    assert.throws(() => parseUpFeed('polymarket', 'market'), /live exchange/);
    assert.throws(() => parseUpFeed('kalshi', 'market'), /live exchange/);
    assert.throws(() => parseUpFeed('kalshi-emulator', 'wall'), /market clock/);
    assert.throws(() => parseUpFeed('replay', 'sundial'), /--clock must be wall or market/);
  });
});

describe("the exchange's time as a feed sees it", () => {
  it('is the newest exchange timestamp moved on by the local clock, never going back; the local clock before any', () => {
    let local = 1_000_000;
    const clock = new ExchangeTimeEstimate({ nowMs: () => local });
    assert.equal(clock.nowMs(), 1_000_000);
    clock.observe(500);
    local += 20;
    assert.equal(clock.nowMs(), 520);
    clock.observe(510); // older than the estimate: an out-of-order event moves nothing
    assert.equal(clock.nowMs(), 520);
    clock.observe(900);
    assert.equal(clock.nowMs(), 900);
    assert.equal(new ExchangeTimeEstimate({ nowMs: () => local }, 42).nowMs(), 42, 'seeded before the first event');
  });
});
