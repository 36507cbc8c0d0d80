import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { frozenBook, SimMatchingEngine, settlementValue, type SimOrderRequest } from '../../domain/sim/matching';
import { decodeSimMarket, decodeSimOrder, encodeSimMarket } from '../../domain/sim/state-codec';

const p = priceUnits;
const c = (n: number) => sizeUnits(String(n));

/** YES bids 0.40×100, 0.38×50; NO bids 0.55×30, 0.50×80 → YES asks 0.45×30, 0.50×80. */
function book(): BinaryOrderBook {
  const b = new BinaryOrderBook('M');
  b.applySnapshot([{ price: p('0.40'), size: c(100) }, { price: p('0.38'), size: c(50) }], [{ price: p('0.55'), size: c(30) }, { price: p('0.50'), size: c(80) }], 0);
  return b;
}
const engine = () => new SimMatchingEngine({ takerRate: new Dec('0.07'), makerRate: new Dec('0.0175') });
const order = (o: Partial<SimOrderRequest>): SimOrderRequest => ({ clientOrderId: 'o1', market: 'M', outcome: 'yes', action: 'buy', limitPrice: p('0.50'), size: c(50), tif: 'ioc', ...o });

describe('SimMatchingEngine', () => {
  it('IOC buy sweeps ask levels up to its limit, with Kalshi taker fees per fill', () => {
    const state = engine().submit(order({ size: c(120) }), book(), 1);
    assert.deepEqual(state.fills.map((f) => [f.price, f.size / 1e6, f.fee.toFixed(4)]), [[p('0.45'), 30, '0.5198'], [p('0.50'), 80, '1.4000']]);
    assert.equal(state.status, 'canceled', 'the unfilled 10 are canceled');
    assert.equal(state.filled, c(110));
  });

  it('FOK without enough liquidity fills nothing', () => {
    const state = engine().submit(order({ size: c(200), tif: 'fok' }), book(), 1);
    assert.equal(state.status, 'canceled');
    assert.equal(state.fills.length, 0);
  });

  it('a repeated client order id returns the first order and never fills twice', () => {
    const e = engine();
    const b = book();
    const first = e.submit(order({ size: c(10) }), b, 1);
    const again = e.submit(order({ size: c(10) }), b, 2);
    assert.equal(again, first);
    assert.equal(first.fills.length, 1);
  });

  it('our fills consume recorded liquidity until the venue changes the level', () => {
    const e = engine();
    const b = book();
    e.submit(order({ clientOrderId: 'a', size: c(20), limitPrice: p('0.45') }), b, 1);
    const second = e.submit(order({ clientOrderId: 'b', size: c(20), limitPrice: p('0.45') }), b, 2);
    assert.equal(second.filled, c(10), 'only 10 of the 30 at 0.45 were left');
    b.applyDelta('no', p('0.55'), c(5), 3); // the venue refreshes the level: 35 available again
    const third = e.submit(order({ clientOrderId: 'c', size: c(20), limitPrice: p('0.45') }), b, 4);
    assert.equal(third.filled, c(20));
  });

  it('sells NO against NO bids and buys NO against YES bids', () => {
    const sell = engine().submit(order({ outcome: 'no', action: 'sell', limitPrice: p('0.52'), size: c(40) }), book(), 1);
    assert.deepEqual(sell.fills.map((f) => [f.price, f.size / 1e6]), [[p('0.55'), 30]]);
    const buy = engine().submit(order({ outcome: 'no', action: 'buy', limitPrice: p('0.60'), size: c(40) }), book(), 1);
    assert.deepEqual(buy.fills.map((f) => [f.price, f.size / 1e6]), [[p('0.60'), 40]]);
  });

  it('a resting order waits for the queue ahead, then fills as maker', () => {
    const e = engine();
    const b = book();
    // Sell YES at 0.45 rests as a NO bid at 0.55, behind the 30 already there.
    const state = e.submit(order({ action: 'sell', limitPrice: p('0.45'), size: c(20), tif: 'gtc' }), b, 1);
    assert.equal(state.status, 'resting');
    assert.equal(state.queueAhead, c(30));
    assert.deepEqual(e.onTrade('M', { takerSide: 'yes', yesPrice: p('0.45'), count: c(25) }, 2), []);
    assert.equal(state.queueAhead, c(5));
    const fills = e.onTrade('M', { takerSide: 'yes', yesPrice: p('0.45'), count: c(12) }, 3);
    assert.deepEqual(fills.map((f) => [f.size / 1e6, f.liquidity, f.fee.toFixed(4)]), [[7, 'maker', '0.0304']]);
    // Cancellations ahead can only move us forward; a book crossing our price fills the rest.
    b.applyDelta('yes', p('0.46'), c(50), 4);
    const crossed = e.onBookUpdate('M', b, 4);
    assert.deepEqual(crossed.map((f) => [f.price, f.size / 1e6]), [[p('0.45'), 13]]);
    assert.equal(state.status, 'filled');
  });

  it('a trade through a better-priced resting order fills it completely', () => {
    const e = engine();
    const state = e.submit(order({ action: 'buy', limitPrice: p('0.42'), size: c(10), tif: 'gtc' }), book(), 1);
    assert.equal(state.queueAhead, 0, 'nobody else bids 0.42');
    e.onTrade('M', { takerSide: 'no', yesPrice: p('0.40'), count: c(5) }, 2);
    assert.equal(state.status, 'filled');
  });

  it('rejects orders on stale books and nonsense limits; settlement pays $1 to the winner', () => {
    const stale = new BinaryOrderBook('M');
    assert.equal(engine().submit(order({}), stale, 1).status, 'rejected');
    assert.match(engine().submit(order({ limitPrice: 0 }), book(), 1).rejectReason!, /inside \(0, 1\)/);
    assert.equal(settlementValue('yes', 'yes').toString(), '1');
    assert.equal(settlementValue('no', 'yes').toString(), '0');
  });

  it('amend keeps queue priority only for a size decrease at the same price; decrease keeps it too', () => {
    const e = engine();
    const b = book();
    // Rests at 0.40 behind the 100 recorded there.
    e.submit(order({ clientOrderId: 'r', limitPrice: p('0.40'), size: c(20), tif: 'gtc' }), b, 1);
    e.onTrade('M', { takerSide: 'no', yesPrice: p('0.40'), count: c(60) }, 2);
    assert.equal(e.orders.get('r')!.queueAhead, c(40));
    e.amend('r', { limitPrice: p('0.40'), size: c(15) }, b, 3);
    assert.equal(e.orders.get('r')!.queueAhead, c(40), 'a smaller size at the same price keeps its place');
    e.decrease('r', c(5));
    assert.equal(e.orders.get('r')!.request.size, c(10));
    assert.equal(e.orders.get('r')!.queueAhead, c(40));
    e.amend('r', { limitPrice: p('0.38'), size: c(10) }, b, 4);
    assert.equal(e.orders.get('r')!.queueAhead, c(50), 'a new price joins the back of that level');
    e.amend('r', { limitPrice: p('0.46'), size: c(10) }, b, 5);
    assert.deepEqual(e.orders.get('r')!.fills.map((f) => [f.price, f.size / 1e6, f.liquidity]), [[p('0.45'), 10, 'taker']], 'a price that crosses takes liquidity');
    assert.equal(e.orders.get('r')!.status, 'filled');
    e.submit(order({ clientOrderId: 'd', limitPrice: p('0.39'), size: c(5), tif: 'gtc' }), b, 6);
    assert.equal(e.decrease('d', c(5))!.status, 'canceled', 'nothing left to rest');
  });

  it('a post-only order that would take liquidity is refused', () => {
    const state = engine().submit(order({ limitPrice: p('0.45'), tif: 'gtc', postOnly: true }), book(), 1);
    assert.equal(state.status, 'rejected');
    assert.equal(state.fills.length, 0);
    assert.equal(engine().submit(order({ limitPrice: p('0.44'), tif: 'gtc', postOnly: true }), book(), 1).status, 'resting');
  });

  it('a market\'s state taken out, through its JSON text and into a fresh engine, carries on exactly (orders, consumed liquidity, fee balances)', () => {
    // A $0.01 balance precision: fills leave rounding balances that later fills carry on from.
    const fees = { takerRate: new Dec('0.07'), makerRate: new Dec('0.0175'), balancePrecision: new Dec('0.01') };
    const b = book();
    const original = new SimMatchingEngine(fees);
    original.submit(order({ clientOrderId: 'take', limitPrice: p('0.45'), size: c(7) }), b, 1);
    original.submit(order({ clientOrderId: 'rest', limitPrice: p('0.40'), size: c(9), tif: 'gtc' }), b, 2);
    original.onTrade('M', { takerSide: 'no', yesPrice: p('0.40'), count: c(103) }, 3);
    original.submit(order({ clientOrderId: 'other', market: 'N', tif: 'gtc', limitPrice: p('0.30') }), b, 4);
    const state = original.marketState('M');
    assert.deepEqual(state.orders.map((o) => o.request.clientOrderId).sort(), ['rest', 'take'], 'only its own market');
    assert.ok(state.feeBalances.some((f) => f.clientOrderId === 'rest' && f.balance.gt(0)), 'a rounding balance to carry');
    const restored = new SimMatchingEngine(fees);
    restored.loadMarket('M', decodeSimMarket(encodeSimMarket(state)));

    // The rest of the day on both: the resting order fills in two more trades, a taker meets the consumed level.
    const later = (e: SimMatchingEngine) => [
      ...e.onTrade('M', { takerSide: 'no', yesPrice: p('0.40'), count: c(2) }, 5),
      ...e.onTrade('M', { takerSide: 'no', yesPrice: p('0.40'), count: c(50) }, 6),
      e.submit(order({ clientOrderId: 'take2', limitPrice: p('0.45'), size: c(40) }), b, 7),
    ];
    assert.deepEqual(later(restored), later(original));
    assert.deepEqual(restored.marketState('M'), original.marketState('M'));
    assert.equal(original.orders.get('take2')!.fills[0]!.size, c(23), 'the 7 taken before stay consumed');
  });

  it('refuses stored paper state that is not whole, saying what is wrong', () => {
    assert.throws(() => decodeSimMarket('{"orders": [], "consumed": []}'), /paper market state is malformed: feeBalances/);
    assert.throws(() => decodeSimOrder('{"request"'), /paper order state is not JSON/);
    const e = engine();
    e.submit(order({ clientOrderId: 'x', tif: 'gtc', limitPrice: p('0.30') }), book(), 1);
    const text = encodeSimMarket(e.marketState('M')).replace('"status":"resting"', '"status":"open"');
    assert.notEqual(text, encodeSimMarket(e.marketState('M')));
    assert.throws(() => decodeSimMarket(text), /paper market state is malformed: orders\.0\.status/);
  });

  it('a frozen book keeps what the live book said when it was taken', () => {
    const live = book();
    const frozen = frozenBook(live);
    live.applyDelta('yes', p('0.40'), -c(100), 1);
    assert.equal(frozen.sizeAt('yes', p('0.40')), c(100));
    assert.deepEqual(frozen.topLevels('yes', 1), [{ price: p('0.40'), size: c(100) }]);
    assert.equal(live.sizeAt('yes', p('0.40')), 0);
  });
});
