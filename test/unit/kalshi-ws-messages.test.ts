import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tradePrintSchema } from '../../domain/market-data/trade';
import { parseKalshiTrade } from '../../venues/kalshi/ws-messages';
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
