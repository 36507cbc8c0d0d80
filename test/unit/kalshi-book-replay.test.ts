import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseKalshiChannelMessage } from '../../venues/kalshi/ws-messages';
import { parseKalshiBookMessage } from '../../venues/kalshi/market-events';
import { listRecordedMarkets, readRecording, recordedFiles } from '../../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../../venues/replay/kalshi-book-replay';

const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
const GOLD = path.join(SHARED, 'data', 'kalshi-gold15m-ws');

describe('Kalshi book messages', () => {
  const samples = JSON.parse(readFileSync(path.join(SHARED, 'specs', 'kalshi', 'ws-samples-fp-only.json'), 'utf8')) as { channel_messages: Record<string, { type: string; msg: unknown }> };

  it('parses the official fixed-point snapshot and delta examples', () => {
    const snap = parseKalshiBookMessage('orderbook_snapshot', samples.channel_messages.orderbook_snapshot!.msg);
    assert.deepEqual(snap, { ok: true, value: { kind: 'snapshot', marketTicker: 'FED-23DEC-T3.00', yes: [{ price: 800, size: 300_000_000 }, { price: 2200, size: 333_000_000 }], no: [{ price: 5400, size: 20_000_000 }, { price: 5600, size: 146_000_000 }] } });
    const delta = parseKalshiBookMessage('orderbook_delta', samples.channel_messages.orderbook_delta!.msg);
    assert.deepEqual(delta, { ok: true, value: { kind: 'delta', marketTicker: 'FED-23DEC-T3.00', side: 'yes', price: 9600, delta: -54_000_000, tsMs: 1669149841000 } });
  });

  it('parses every official channel example (ticker, fill, lifecycle, …) into a typed message or an explicit `other`', () => {
    const typed: string[] = [];
    for (const [name, frame] of Object.entries(samples.channel_messages)) {
      if (frame.type.startsWith('orderbook') || frame.type === 'trade') continue;
      const parsed = parseKalshiChannelMessage(frame.type, frame.msg);
      assert.ok(parsed.ok, `${name}: ${parsed.ok ? '' : parsed.error}`);
      typed.push(parsed.value.type);
    }
    assert.deepEqual(typed.filter((t) => t !== 'other').sort(), ['fill', 'market_lifecycle_v2', 'market_lifecycle_v2', 'market_lifecycle_v2', 'ticker', 'user_order']);
    const badFill = parseKalshiChannelMessage('fill', { ...(samples.channel_messages.fill!.msg as object), count_fp: 278 });
    assert.equal(badFill.ok, false);
  });

  it('reports malformed book messages with a reason', () => {
    const cases: [string, unknown, RegExp][] = [
      ['orderbook_delta', { market_ticker: 'M', price_dollars: '0.5', delta_fp: '1', side: 'maybe' }, /side/],
      ['orderbook_delta', { market_ticker: 'M', price_dollars: '0.50001', delta_fp: '1', side: 'yes' }, /more than 4 decimals/],
      ['orderbook_snapshot', { market_ticker: 'M', yes_dollars_fp: [['0.5']] }, /yes_dollars_fp/],
      ['ticker', {}, /not a book message/],
    ];
    for (const [type, msg, pattern] of cases) {
      const parsed = parseKalshiBookMessage(type, msg);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.error, pattern);
    }
  });
});

describe('replaying recorded gold markets into books', function () {
  this.timeout(120_000);

  it('every trade agrees with the rebuilt book, with no refused deltas (first 3 markets)', async () => {
    const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
    for (const market of listRecordedMarkets(GOLD).slice(0, 3)) {
      replayer.beginStream();
      for (const file of recordedFiles(GOLD, market)) for await (const rec of readRecording(file)) replayer.apply(rec);
    }
    const stats = replayer.stats();
    assert.ok(stats.trades > 2000, `trades: ${stats.trades}`);
    assert.equal(stats.malformed, 0);
    assert.equal(stats.refusedDeltas, 0);
    assert.equal(stats.tradeChecks.outside, 0, replayer.disagreements.join('\n'));
    assert.equal(stats.tradeChecks.noQuote, 0);
    assert.equal(stats.tradeChecks.atTop + stats.tradeChecks.deeper, stats.trades);
    // The recording holds one market of a series-wide subscription: jumps are expected, never regressions.
    assert.ok(stats.seq.filtered > 0);
    assert.equal(stats.seq.gap, 0);
    assert.equal(stats.seq.regression + stats.seq.duplicate, 0);
  });

  it('a corrupted line is counted with its raw text and does not disturb the book', async () => {
    const bad: string[] = [];
    const replayer = new KalshiBookReplayer({ expectFilteredGaps: true }, (m) => bad.push(m.error));
    const file = recordedFiles(GOLD, 'KXGOLD15M-26AUG050000-00')[0]!;
    let n = 0;
    for await (const rec of readRecording(file)) {
      if (++n === 50) {
        // Inject a malformed delta in the middle of the real stream.
        replayer.apply({ ...rec, event: { type: 'orderbook_delta', sid: 99, seq: 1, msg: { market_ticker: 'KXGOLD15M-26AUG050000-00', price_dollars: 'abc', delta_fp: '1', side: 'yes' } } });
      }
      replayer.apply(rec);
    }
    assert.equal(replayer.stats().malformed, 1);
    assert.match(bad[0]!, /price_dollars/);
    assert.equal(replayer.stats().tradeChecks.outside, 0);
    assert.equal(replayer.book('KXGOLD15M-26AUG050000-00').stale, false);
  });
});

describe('KalshiBookReplayer sequence rule (shared with the live client)', () => {
  const rec = (lineNo: number, type: string, seq: number, msg: unknown) => ({ recvMs: 1000 + lineNo, lineNo, event: { type, sid: 1, seq, msg } });
  const snap = (m: string, yes: string, no: string) => ({ market_ticker: m, yes_dollars_fp: [[yes, '1.00']], no_dollars_fp: [[no, '1.00']] });

  it("a live-numbered stream: a gap just before another market's snapshot stales the books; a reconnect's lower-numbered snapshot restarts numbering", () => {
    const replayer = new KalshiBookReplayer({ expectFilteredGaps: false });
    replayer.apply(rec(1, 'orderbook_snapshot', 1, snap('A', '0.4000', '0.5000')));
    replayer.apply(rec(2, 'orderbook_snapshot', 3, snap('B', '0.3000', '0.6000')));
    assert.equal(replayer.stats().seq.gap, 1);
    assert.equal(replayer.book('A').staleBecause, 'seq gap on sid 1');
    assert.equal(replayer.book('B').stale, false, "B's own snapshot re-based B");
    replayer.apply(rec(3, 'orderbook_snapshot', 1, snap('A', '0.4100', '0.5000')));
    assert.equal(replayer.stats().reconnects, 1);
    assert.equal(replayer.stats().seq.restart, 1);
    assert.equal(replayer.book('A').stale, false);
  });

  it('counts a crossed snapshot as refused and keeps the book stale', () => {
    const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
    replayer.apply(rec(1, 'orderbook_snapshot', 1, snap('A', '0.6000', '0.5000')));
    assert.equal(replayer.stats().refusedSnapshots, 1);
    assert.match(replayer.book('A').staleBecause!, /snapshot crossed/);
  });
});
