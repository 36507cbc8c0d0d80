import assert from 'node:assert/strict';
import path from 'node:path';
import { fastDecimalUnits, MalformedPackedBatch, PACKED_FORMAT, packEvents, RefusedWireEvent, unpackEvents, wireEventToUnits } from '../../domain/market-data/batch-codec';
import { BookStore } from '../../domain/market-data/book-store';
import { toUnits, type MarketEvent } from '../../domain/market-data/events';
import { textToUnits } from '../../domain/fixed-point';
import { seededRandom } from '../../domain/random';
import { listRecordedMarkets } from '../../venues/replay/gold-feed';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { BatchApplier } from '../../workers/market-data/book-worker';
import { SHARED_DATA_DIR } from '../support/harness';

/** What the object path makes of an event: its JSON wire form (as BullMQ carried it), then the schema and toUnits. */
const objectPath = (e: unknown) => wireEventToUnits(JSON.parse(JSON.stringify(e)) as unknown);
const roundTrip = (events: readonly unknown[]) => unpackEvents(packEvents(events as MarketEvent[]), events.length);
const DECIMAL_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

describe('packed market-event batches (batch-codec)', () => {
  it('carries recorded gold-feed events exactly: the same unit events as toUnits', async function () {
    this.timeout(60_000);
    const dataDir = path.join(SHARED_DATA_DIR, 'kalshi-gold15m-ws');
    const events: MarketEvent[] = [];
    await replayKalshiRecording({ dataDir, markets: listRecordedMarkets(dataDir).slice(0, 2), pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
    assert.ok(events.length > 1000 && new Set(events.map((e) => e.t)).size >= 3);
    for (let i = 0; i < events.length; i += 2000) {
      const batch = events.slice(i, i + 2000);
      assert.deepEqual(roundTrip(batch), batch.map(toUnits));
    }
  });

  it('reads a decimal exactly as textToUnits does, or leaves it to the slow path', () => {
    const texts = ['0.68', '0.6800', '.5', '5.', '-0', '-0.00', '+1', '0.680000', '0.680001', '12.345678', '123456789012345', '1234567890123456', '999999999999999.9999', '00000000000000000001.5', '-12.50', '1e3', ' 0.5', '', '-', '.', '+.', '1.2.3', '--1', '0x10', 'NaN', '1-2'];
    const random = seededRandom(7);
    const chars = '0123456789.+-';
    for (let i = 0; i < 5000; i++) texts.push(Array.from({ length: 1 + Math.floor(random() * 12) }, () => chars[Math.floor(random() * chars.length)]).join(''));
    for (const text of texts) {
      for (const decimals of [4, 6]) {
        const fast = fastDecimalUnits(`,${text},`, 1, text.length + 1, decimals);
        let slow: number | undefined;
        try {
          slow = DECIMAL_TEXT.test(text.trim()) ? textToUnits(text.trim(), decimals) : undefined;
        } catch {
          slow = undefined;
        }
        if (Number.isNaN(fast)) continue; // left to the slow path, which decides
        assert.ok(slow !== undefined, `fast path took ${JSON.stringify(text)}, which the schema refuses`);
        assert.ok(Object.is(fast, slow), `${JSON.stringify(text)} at ${decimals} decimals: ${fast} vs ${slow}`);
      }
    }
  });

  it('refuses exactly what the object path refuses, with the same message, and keeps order', () => {
    const random = seededRandom(11);
    const weird = ['0.5', '0.12345', ' 0.5', '1e3', '', '-1.00', '0.9999', '1.0000', 'x', '0.5,1', '+.5', '99999999999999999999'];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const markets = ['M-A', 'M-B', '', 'X'.repeat(201), 'Ω-unicode,:;'];
    const events: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      const m = pick(markets);
      const ts = pick([1000 + i, 0, -1, 1.5, 2 ** 53, Number.NaN, 1000 - i]);
      switch (Math.floor(random() * 7)) {
        case 0:
          events.push({ t: 'delta', m, ts, side: pick(['yes', 'no', 'maybe']), price: pick(weird), delta: pick(weird) });
          break;
        case 1:
          events.push({ t: 'level', m, ts, side: pick(['yes', 'no']), price: pick(weird), size: pick(weird) });
          break;
        case 2:
          events.push({ t: 'trade', m, ts, id: pick(['t1', '', 'id,with:sep']), yesPrice: pick(weird), count: pick(weird), takerSide: pick(['yes', 'no']) });
          break;
        case 3:
          events.push({ t: 'stale', m, ts, reason: pick(['gap', '', 'r'.repeat(501), 'a,b:c']) });
          break;
        case 4:
          events.push({ t: 'snapshot', m, ts, yes: [[pick(weird), pick(weird)]], no: pick([[], [[pick(weird), pick(weird)]], [['0.5']], 'none']) });
          break;
        case 5:
          events.push(pick([null, 42, 'delta', { t: 'nope', m, ts }, { m, ts }, []]));
          break;
        default:
          events.push({ t: 'delta', m: 'M-A', ts: 5000 + i, side: 'yes', price: '0.4000', delta: '1.00', extra: 'dropped' });
      }
    }
    const unpacked = roundTrip(events);
    assert.equal(unpacked.length, events.length);
    let refused = 0;
    unpacked.forEach((got, i) => {
      const expected = objectPath(events[i]);
      if (expected instanceof RefusedWireEvent) {
        refused++;
        assert.ok(got instanceof RefusedWireEvent, `event ${i} ${JSON.stringify(events[i])} was accepted`);
        assert.equal(got.error, expected.error, `event ${i}`);
        assert.deepEqual(got.raw, expected.raw, `event ${i}: the raw wire form`);
      } else assert.deepEqual(got, expected, `event ${i} ${JSON.stringify(events[i])}`);
    });
    assert.ok(refused > 1000 && refused < events.length - 300, `a mix (${refused} refused)`);
  });

  it('a damaged packed text is refused as a whole (MalformedPackedBatch), or every event in it is checked', () => {
    const events: MarketEvent[] = [
      { t: 'snapshot', m: 'M-A', ts: 1, yes: [['0.4000', '10.00']], no: [['0.5000', '5.00']] },
      { t: 'delta', m: 'M-A', ts: 2, side: 'yes', price: '0.4000', delta: '-1.00' },
      { t: 'trade', m: 'M-B', ts: 3, id: 'abc', yesPrice: '0.4100', count: '2.00', takerSide: 'no' },
      { t: 'stale', m: 'M-B', ts: 4, reason: 'gap' },
      { t: 'level', m: 'M-A', ts: 5, side: 'no', price: '0.5000', size: '3.00' },
    ];
    const text = packEvents(events);
    const random = seededRandom(3);
    const alphabet = '0123456789,:.-+dltsSMjyn{}"x';
    let malformed = 0;
    for (let i = 0; i < 20_000; i++) {
      let damaged = text;
      const cuts = 1 + Math.floor(random() * 3);
      for (let c = 0; c < cuts; c++) {
        const at = Math.floor(random() * damaged.length);
        const kind = random();
        damaged = kind < 0.4 ? damaged.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + damaged.slice(at + 1) : kind < 0.7 ? damaged.slice(0, at) + damaged.slice(at + 1) : damaged.slice(0, at);
      }
      let out: ReturnType<typeof unpackEvents>;
      try {
        out = unpackEvents(damaged, events.length);
      } catch (err) {
        assert.ok(err instanceof MalformedPackedBatch, `${JSON.stringify(damaged)}: ${String(err)}`);
        malformed++;
        continue;
      }
      // Whatever was read is well-typed units (or refused), then checked by the book store like any event.
      assert.equal(out.length, events.length);
      const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
      assert.doesNotThrow(() => store.applyAll(out.filter((e) => !(e instanceof RefusedWireEvent)) as never));
    }
    assert.ok(malformed > 10_000, `most damage is caught as malformed (${malformed})`);
  });

  it('the book worker refuses a damaged packed batch before touching any book', () => {
    const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
    const applier = new BatchApplier(store);
    const events: MarketEvent[] = [
      { t: 'snapshot', m: 'M-A', ts: 1, yes: [['0.4000', '10.00']], no: [['0.5000', '5.00']] },
      { t: 'delta', m: 'M-A', ts: 2, side: 'yes', price: '0.4000', delta: '-1.00' },
    ];
    const packed = packEvents(events);
    assert.throws(() => applier.apply({ source: 's', partition: 0, batchSeq: 0, format: PACKED_FORMAT, count: 2, packed: packed.slice(0, -3) }, 0), MalformedPackedBatch);
    assert.throws(() => applier.apply({ source: 's', partition: 0, batchSeq: 0, format: PACKED_FORMAT, count: 3, packed }, 0), MalformedPackedBatch);
    assert.equal(store.markets.size, 0, 'nothing applied');
    const ok = applier.apply({ source: 's', partition: 0, batchSeq: 0, format: PACKED_FORMAT, count: 2, packed }, 0);
    assert.equal(ok.outcome.applied, 2);
    assert.equal(store.state('M-A').book.sizeAt('yes', 4000), 9_000_000);
  });
});
