import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BookStore } from '../../domain/market-data/book-store';
import { toUnits } from '../../domain/market-data/events';
import { tradePrintSchema } from '../../domain/market-data/trade';
import { kalshiToMarketEvent } from '../../venues/kalshi/market-events';
import { parseKalshiChannelMessage, parseKalshiTrade } from '../../venues/kalshi/ws-messages';
import { readRecording, recordedFiles } from '../../venues/replay/gold-feed';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');

describe('Kalshi WS trade parser on recorded payloads', () => {
  it('parses every trade of a recorded gold market into a valid TradePrint', async () => {
    const file = recordedFiles(path.join(SHARED, 'data', 'kalshi-gold15m-ws'), 'KXGOLD15M-26AUG050000-00')[0]!;
    let trades = 0;
    const malformed: unknown[] = [];
    for await (const rec of readRecording(file, (m) => malformed.push(m))) {
      if (rec.event.type !== 'trade') continue;
      const parsed = parseKalshiTrade(rec.event.msg);
      assert.ok(parsed.ok, JSON.stringify(rec.event));
      tradePrintSchema.parse(parsed.value);
      trades++;
    }
    assert.ok(trades > 100);
    assert.deepEqual(malformed, []);
  });

  it('parses the transitional-format samples (cents plus _dollars/_fp)', () => {
    const lines = readFileSync(path.join(SHARED, 'data', 'kalshi-ws-samples', 'kalshi_trade.jsonl'), 'utf8').trim().split('\n');
    for (const line of lines) {
      const msg = (JSON.parse(line) as { msg: unknown }).msg;
      const parsed = parseKalshiTrade(msg);
      assert.ok(parsed.ok, `${line}: ${parsed.ok ? '' : parsed.error}`);
    }
  });

  it('reports malformed trades instead of throwing', () => {
    const bad = parseKalshiTrade({ trade_id: 't', market_ticker: 'M', yes_price_dollars: 0.5, count_fp: '1', taker_side: 'yes', ts_ms: 1 });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /yes_price_dollars/);
    assert.equal(parseKalshiTrade(null).ok, false);
  });
});

describe('Kalshi WS messages → market events refuse what the books cannot take', () => {
  const samples = JSON.parse(readFileSync(path.join(SHARED, 'specs', 'kalshi', 'ws-samples-fp-only.json'), 'utf8')) as { channel_messages: Record<string, { type: string; msg: Record<string, unknown> }> };
  const snapshotMsg = samples.channel_messages.orderbook_snapshot!.msg;
  const deltaMsg = samples.channel_messages.orderbook_delta!.msg;
  const tradeMsg = samples.channel_messages.trade!.msg;

  it('looks channel types up as own properties: prototype names are plain unknown channels', () => {
    for (const type of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      assert.deepEqual(parseKalshiChannelMessage(type, { market_ticker: 'M' }), { ok: true, value: { type: 'other', channel: type, msg: { market_ticker: 'M' } } });
    }
  });

  it('refuses prices outside (0, 1), negative snapshot sizes, values off the fixed-point grid and absurd tickers', () => {
    const cases: [type: string, msg: unknown, error: RegExp][] = [
      ['orderbook_delta', { ...deltaMsg, price_dollars: '0' }, /price_dollars: price must be inside \(0, 1\)/],
      ['orderbook_delta', { ...deltaMsg, price_dollars: '1.0000' }, /price_dollars: price must be inside \(0, 1\)/],
      ['orderbook_delta', { ...deltaMsg, price_dollars: '-0.5' }, /price_dollars: price must be inside \(0, 1\)/],
      ['orderbook_delta', { ...deltaMsg, price_dollars: '0.96001' }, /price_dollars: "0.96001" has more than 4 decimals/],
      ['orderbook_delta', { ...deltaMsg, delta_fp: '-54.0000001' }, /delta_fp: "-54.0000001" has more than 6 decimals/],
      ['orderbook_delta', { ...deltaMsg, delta_fp: '1e3' }, /delta_fp: not a fixed-point number/],
      ['orderbook_delta', { ...deltaMsg, market_ticker: 'X'.repeat(101) }, /market_ticker/],
      ['orderbook_snapshot', { ...snapshotMsg, no_dollars_fp: [['0.5400', '-20.00']] }, /no_dollars_fp.0.1: size must not be negative/],
      ['orderbook_snapshot', { ...snapshotMsg, yes_dollars_fp: [['1.5', '1.00']] }, /yes_dollars_fp.0.0: price must be inside \(0, 1\)/],
      ['orderbook_snapshot', { ...snapshotMsg, yes_dollars_fp: [['0.08', '300.0000001']] }, /more than 6 decimals/],
      ['trade', { ...tradeMsg, yes_price_dollars: '1.0000' }, /yes_price_dollars: price must be inside \(0, 1\)/],
      ['trade', { ...tradeMsg, count_fp: '-1.00' }, /count_fp: count must be positive/],
      ['trade', { ...tradeMsg, market_ticker: 'X'.repeat(10_000) }, /market_ticker/],
    ];
    for (const [type, msg, error] of cases) {
      const parsed = kalshiToMarketEvent(type, msg, 1);
      assert.equal(parsed?.ok, false, `${type} ${JSON.stringify(msg).slice(0, 200)} was accepted`);
      assert.match(parsed.ok ? '' : parsed.error, error);
    }
  });

  it('every event it accepts converts to units without throwing (official examples and the recorded gold market)', async () => {
    for (const name of ['orderbook_snapshot', 'orderbook_delta', 'trade']) {
      const frame = samples.channel_messages[name]!;
      const parsed = kalshiToMarketEvent(frame.type, frame.msg, 1);
      assert.ok(parsed?.ok, `${name}: ${parsed && !parsed.ok ? parsed.error : ''}`);
      toUnits(parsed.value);
    }
    const file = recordedFiles(path.join(SHARED, 'data', 'kalshi-gold15m-ws'), 'KXGOLD15M-26AUG050000-00')[0]!;
    let events = 0;
    for await (const rec of readRecording(file)) {
      const parsed = kalshiToMarketEvent(rec.event.type, rec.event.msg, rec.recvMs);
      if (!parsed) continue;
      assert.ok(parsed.ok, `line ${rec.lineNo}: ${parsed.ok ? '' : parsed.error}`);
      toUnits(parsed.value);
      events++;
    }
    assert.ok(events > 1000);
  });

  it('turns NO levels quoted in YES terms (use_yes_price) into NO bids; read as NO prices they cross the book and are refused', () => {
    // The official example re-quoted as use_yes_price sends it: NO bids 0.54 and 0.56 become 0.46 and 0.44.
    const yesTerms = { ...snapshotMsg, no_dollars_fp: [['0.4600', '20.00'], ['0.4400', '146.00']] };
    const converted = kalshiToMarketEvent('orderbook_snapshot', yesTerms, 1, { noInYesTerms: true });
    assert.ok(converted?.ok);
    const original = kalshiToMarketEvent('orderbook_snapshot', snapshotMsg, 1);
    assert.ok(original?.ok);
    assert.deepEqual(converted.value, original.value);
    const delta = kalshiToMarketEvent('orderbook_delta', { ...deltaMsg, side: 'no', price_dollars: '0.4600' }, 1, { noInYesTerms: true });
    assert.ok(delta?.ok && delta.value.t === 'delta');
    assert.equal(delta.value.price, '0.5400');
    const yesDelta = kalshiToMarketEvent('orderbook_delta', deltaMsg, 1, { noInYesTerms: true });
    assert.ok(yesDelta?.ok && yesDelta.value.t === 'delta');
    assert.equal(yesDelta.value.price, '0.9600', 'YES levels are YES prices either way');

    // A YES-terms frame taken as NO prices is wrong, and crossed once YES bid + the YES-terms price >= $1.
    const store = new BookStore({ historyCapacity: 10, sampleMs: 1000 });
    const misread = kalshiToMarketEvent('orderbook_snapshot', { ...yesTerms, yes_dollars_fp: [['0.6000', '1.00']] }, 1);
    assert.ok(misread?.ok);
    const outcome = store.applyAll([toUnits(misread.value)]);
    assert.deepEqual(outcome.refused, [{ index: 0, market: 'FED-23DEC-T3.00', reason: 'snapshot crossed: best YES bid 0.6000 >= best YES ask 0.5400 (NO bid 0.4600)' }]);
    assert.ok(store.state('FED-23DEC-T3.00').book.stale);
  });
});

describe('Kalshi WS user_order messages (user_orders channel)', () => {
  const samples = JSON.parse(readFileSync(path.join(SHARED, 'specs', 'kalshi', 'ws-samples-fp-only.json'), 'utf8')) as { channel_messages: Record<string, { type: string; msg: Record<string, unknown> }> };
  const sample = samples.channel_messages.user_order!;
  // What the emulator sends (exchange.ts userOrderMsg): an executed order with fees.
  const emulatorMsg = {
    order_id: '0ab7ada2-8bc8-4e0f-b246-0cb4d36e819d',
    user_id: 'user-1',
    ticker: 'KXGOLD15M-26AUG101830-30',
    status: 'executed',
    side: 'yes',
    is_yes: true,
    yes_price_dollars: '0.4200',
    fill_count_fp: '1.00',
    remaining_count_fp: '0.00',
    initial_count_fp: '1.00',
    taker_fill_cost_dollars: '0.000000',
    maker_fill_cost_dollars: '0.420000',
    taker_fees_dollars: '0.000000',
    maker_fees_dollars: '0.010000',
    client_order_id: 'push/fill-1',
    self_trade_prevention_type: 'taker_at_cross',
    created_time: '2026-08-10T18:20:00.000Z',
    last_update_time: '2026-08-10T18:21:10.000Z',
  };

  it('parses the spec sample, the AsyncAPI example (fees omitted when zero) and the emulator\'s shape', () => {
    const fromSample = parseKalshiChannelMessage(sample.type, sample.msg);
    assert.ok(fromSample.ok && fromSample.value.type === 'user_order', JSON.stringify(fromSample));
    assert.equal(fromSample.value.msg.order_id, 'ee587a1c-8b87-4dcf-b721-9f6f790619fa');
    assert.equal(fromSample.value.msg.status, 'resting');
    assert.equal(fromSample.value.msg.remaining_count_fp, '10.00');

    const { taker_fees_dollars: _t, maker_fees_dollars: _m, ...asyncApiExample } = sample.msg;
    const withoutFees = parseKalshiChannelMessage('user_order', asyncApiExample);
    assert.ok(withoutFees.ok && withoutFees.value.type === 'user_order');
    assert.equal(withoutFees.value.msg.taker_fees_dollars, undefined);

    const fromEmulator = parseKalshiChannelMessage('user_order', emulatorMsg);
    assert.ok(fromEmulator.ok && fromEmulator.value.type === 'user_order');
    assert.equal(fromEmulator.value.msg.status, 'executed');
    assert.equal(fromEmulator.value.msg.maker_fees_dollars, '0.010000');
    assert.equal(fromEmulator.value.msg.fill_count_fp, '1.00');
  });

  it('takes an order update without client_order_id (orders are matched by order_id)', () => {
    const { client_order_id: _c, ...msg } = emulatorMsg;
    const parsed = parseKalshiChannelMessage('user_order', msg);
    assert.ok(parsed.ok && parsed.value.type === 'user_order');
    assert.equal(parsed.value.msg.client_order_id, undefined);
  });

  it('reports malformed order updates instead of throwing', () => {
    const cases: [msg: unknown, error: RegExp][] = [
      [{ ...emulatorMsg, order_id: undefined }, /order_id/],
      [{ ...emulatorMsg, order_id: '' }, /order_id/],
      [{ ...emulatorMsg, status: 'pending' }, /status/],
      [{ ...emulatorMsg, fill_count_fp: 1 }, /fill_count_fp/],
      [{ ...emulatorMsg, remaining_count_fp: 'lots' }, /remaining_count_fp/],
      [{ ...emulatorMsg, maker_fees_dollars: 0.01 }, /maker_fees_dollars/],
      [{ ...emulatorMsg, ticker: 'X'.repeat(101) }, /ticker/],
      [{ ...emulatorMsg, side: 'maybe' }, /side/],
      [null, /./],
      ['user_order', /./],
      [[emulatorMsg], /./],
    ];
    for (const [msg, error] of cases) {
      const parsed = parseKalshiChannelMessage('user_order', msg);
      assert.equal(parsed.ok, false, JSON.stringify(msg));
      assert.match(parsed.ok ? '' : parsed.error, error, JSON.stringify(msg));
    }
  });
});
