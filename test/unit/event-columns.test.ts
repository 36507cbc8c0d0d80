import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEventCache, writeEventCache } from '../../backtest/event-cache';
import { backtestConfig } from '../../backtest/gold-backtest';
import { resolveConfig } from '../../config/load';
import { Backtester, type SignalRule } from '../../domain/backtest/backtester';
import { BookStore } from '../../domain/market-data/book-store';
import { EventColumns, EventColumnsBuilder, validateEventColumns, WIDE_SCALES } from '../../domain/market-data/event-columns';
import type { UnitEvent } from '../../domain/market-data/events';
import { priceText } from '../../domain/fixed-point';
import { seededRandom } from '../../domain/random';

const MARKETS = ['KXA-1', 'KXB-2', 'KXC-3'];

/**
 * A seeded stream over a few markets with everything a book can meet: snapshots, deltas that cross
 * and uncross within a millisecond or stay crossed, deltas that would go negative, levels, trades
 * (some invalid), stale marks, a market id too long to name a market, bursts in one millisecond
 * and gaps longer than the history's sampling.
 */
function stream(seed: number, n: number): UnitEvent[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const out: UnitEvent[] = [];
  let ts = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    const r = random();
    if (r < 0.5) ts += 0;
    else if (r < 0.9) ts += 1 + Math.floor(random() * 300);
    else ts += 1000 + Math.floor(random() * 5000);
    const m = random() < 0.01 ? 'X'.repeat(250) : pick(MARKETS);
    const price = pick([100, 2000, 4000, 4500, 4900, 5000, 5100, 5500, 6000, 9900, 0, 10_000]);
    const size = Math.floor(random() * 5) * 1_000_000;
    const kind = random();
    if (kind < 0.03) {
      const levels = (lo: number) => [0, 1, 2].map((k) => ({ price: lo + 100 * k, size: 1_000_000 + k }));
      out.push({ t: 'snapshot', m, ts, yes: levels(3000 + 100 * Math.floor(random() * 10)), no: levels(3000 + 100 * Math.floor(random() * 10)) });
    } else if (kind < 0.75) out.push({ t: 'delta', m, ts, side: pick(['yes', 'no'] as const), price, delta: random() < 0.5 ? size : -size });
    else if (kind < 0.85) out.push({ t: 'level', m, ts, side: pick(['yes', 'no'] as const), price, size: random() < 0.05 ? -1 : size });
    else if (kind < 0.98) out.push({ t: 'trade', m, ts, id: random() < 0.05 ? '' : `trade-${i}`, price: random() < 0.05 ? 0 : pick([2000, 5000, 7000]), count: random() < 0.05 ? 0 : size + 1, takerSide: pick(['yes', 'no'] as const) });
    else out.push({ t: 'stale', m, ts, reason: `gap ${i} é→` });
  }
  return out;
}

const columnsOf = (events: readonly UnitEvent[]) => {
  const builder = new EventColumnsBuilder();
  for (const e of events) builder.push(e);
  return builder.build();
};

/** The stream with each −0 size made 0 (a −0 keeps a size column wide), so `compact()` narrows every column. */
const withoutNegativeZero = (events: readonly UnitEvent[]): UnitEvent[] => events.map((e) => (e.t === 'delta' && Object.is(e.delta, -0) ? { ...e, delta: 0 } : e));

/** The element type of each column. */
const columnTypes = (c: EventColumns) => Object.fromEntries(Object.entries(c.columns).map(([k, v]) => [k, (v as ArrayBufferView).constructor.name]));

/** Everything a store holds per market that a reader can see. */
function storeState(store: BookStore) {
  return [...store.markets].map(([m, s]) => ({
    m,
    yes: s.book.levels('yes'),
    no: s.book.levels('no'),
    stale: s.book.staleBecause,
    lastUpdateMs: s.book.lastUpdateMs,
    top: s.book.top(),
    history: s.history.toArray(),
    lastTradePrice: s.lastTradePrice,
    cumulativeVolume: s.cumulativeVolume,
    lastPointTs: s.lastPointTs,
    receivedAtMs: s.receivedAtMs,
  }));
}

/** Calls `f(from, to)` for each run of equal timestamps. */
function byInstant(ts: ArrayLike<number>, f: (from: number, to: number) => void): void {
  for (let i = 0; i < ts.length; ) {
    let j = i + 1;
    while (j < ts.length && ts[j] === ts[i]) j++;
    f(i, j);
    i = j;
  }
}

describe('event columns read as columns', () => {
  for (const [seed, compact] of [[1, false], [2, false], [3, false], [1, true], [2, true]] as const) {
    it(`BookStore.applyColumns leaves books and histories exactly as applyAll does (seed ${seed}${compact ? ', compacted columns' : ''})`, () => {
      const events = compact ? withoutNegativeZero(stream(seed, 4000)) : stream(seed, 4000);
      const columns = compact ? columnsOf(events).compact() : columnsOf(events);
      if (compact) assert.deepEqual(columnTypes(columns), { ts: 'Uint32Array', market: 'Uint8Array', kind: 'Uint8Array', side: 'Uint8Array', price: 'Uint16Array', size: 'Int32Array', snapshotStart: 'Uint32Array', snapshotYesCount: 'Uint32Array', levelPrice: 'Uint16Array', levelSize: 'Int32Array' });
      assert.deepEqual(columns.toArray(), events);
      const objects = new BookStore({ historyCapacity: 50, sampleMs: 1000 });
      const fromColumns = new BookStore({ historyCapacity: 50, sampleMs: 1000 });
      byInstant(Array.from({ length: columns.length }, (_, i) => columns.tsAt(i)), (from, to) => {
        objects.applyAll(events.slice(from, to), from);
        fromColumns.applyColumns(columns, from, to, from);
        assert.deepEqual(storeState(fromColumns), storeState(objects), `after events ${from}..${to}`);
      });
      assert.ok(storeState(objects).some((s) => s.history.length > 1), 'histories were sampled');
    });
  }

  it('the backtester makes the same decisions from columns as from event objects', async () => {
    const events = stream(7, 6000);
    const info = new Map(MARKETS.map((m) => [m, { closeTimeMs: events.at(-1)!.ts + 3_600_000, event: m.slice(0, 3) }]));
    // Enters on every fifth trade it sees in the instant's events (so `events` is read), at the book's ask.
    const rule = (): SignalRule => {
      let trades = 0;
      return ({ market, nowMs, store, events: instant }) => {
        trades += instant.filter((e) => e.t === 'trade' && e.m === market).length;
        const ask = store.markets.get(market)?.book.top().yesAsk;
        if (trades < 5 || !ask) return undefined;
        trades = 0;
        return { signalId: `${market}@${nowMs}`, market, outcome: 'yes', modelProbability: '0.99', ask: priceText(ask.price), reason: 'test' };
      };
    };
    const defaults = backtestConfig(resolveConfig({}).config);
    const config = { ...defaults, rules: { ...defaults.rules, sizing: { kind: 'fixed' as const }, size: '3' } };
    const run = (input: Iterable<UnitEvent>) => new Backtester(config, info, rule()).run(input);
    const [fromObjects, fromColumns, fromCompact] = [await run(events), await run(columnsOf(events)), await run(columnsOf(events).compact())];
    assert.ok(fromObjects.orders.length > 0, 'the stream trades, so the comparison means something');
    assert.deepEqual(fromColumns, fromObjects);
    assert.deepEqual(fromCompact, fromObjects);
  });

  it('a cache file round-trips every event and text (Latin-1 and UTF-16 texts)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-columns-'));
    try {
      for (const events of [stream(4, 2000), withoutNegativeZero(stream(4, 2000)), stream(5, 300).filter((e) => e.t !== 'stale'), stream(6, 300).filter((e) => e.t !== 'stale' && e.t !== 'trade')]) {
        const columns = columnsOf(events);
        writeEventCache(dir, 'key', columns, 3);
        const read = readEventCache(dir, 'key');
        assert.equal(read.status, 'hit');
        if (read.status !== 'hit') return;
        assert.ok(read.events instanceof EventColumns);
        assert.deepEqual(read.events.toArray(), events);
        // Stored compacted: the columns come back in the narrow types compact() chose, with its scales.
        assert.deepEqual(columnTypes(read.events), columnTypes(columns.compact()));
        assert.deepEqual(read.events.scales, columns.compact().scales);
        assert.equal(read.malformed, 3);
      }
      assert.equal(readEventCache(dir, 'other key').status, 'missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compact() keeps a column wide when its values do not fit the narrow type', () => {
    const base: UnitEvent[] = [
      { t: 'delta', m: 'KXA-1', ts: 1_000, side: 'yes', price: 4000, delta: 20_000 },
      { t: 'level', m: 'KXA-1', ts: 2_000, side: 'no', price: 5000, size: 30_000 },
      { t: 'snapshot', m: 'KXA-1', ts: 3_000, yes: [{ price: 100, size: 10_000 }], no: [{ price: 200, size: 50_000 }] },
    ];
    const narrow = columnsOf(base).compact();
    assert.deepEqual(columnTypes(narrow), { ts: 'Uint32Array', market: 'Uint8Array', kind: 'Uint8Array', side: 'Uint8Array', price: 'Uint16Array', size: 'Int32Array', snapshotStart: 'Uint32Array', snapshotYesCount: 'Uint32Array', levelPrice: 'Uint16Array', levelSize: 'Int32Array' });
    assert.deepEqual(narrow.scales, { tsBase: 1_000, sizeUnit: 10_000, levelSizeUnit: 10_000 });
    assert.deepEqual(narrow.toArray(), base);
    assert.equal(narrow.compact(), narrow, 'compacting compact columns changes nothing');
    const cases: [string, UnitEvent, keyof EventColumns['columns']][] = [
      ['a time 2^32 ms after the first', { t: 'delta', m: 'KXA-1', ts: 1_000 + 2 ** 32, side: 'yes', price: 4000, delta: 1 }, 'ts'],
      ['a −0 size', { t: 'delta', m: 'KXA-1', ts: 4_000, side: 'yes', price: 4000, delta: -0 }, 'size'],
      ['a size beyond i32 units', { t: 'level', m: 'KXA-1', ts: 4_000, side: 'yes', price: 4000, size: 2 ** 40 + 1 }, 'size'],
      ['a size that is not an integer', { t: 'level', m: 'KXA-1', ts: 4_000, side: 'yes', price: 4000, size: 0.5 }, 'size'],
      ['a price beyond u16', { t: 'delta', m: 'KXA-1', ts: 4_000, side: 'yes', price: 70_000, delta: 1 }, 'price'],
      ['a negative price', { t: 'delta', m: 'KXA-1', ts: 4_000, side: 'yes', price: -5, delta: 1 }, 'price'],
    ];
    for (const [what, extra, column] of cases) {
      const events = [...base, extra];
      const compacted = columnsOf(events).compact();
      assert.equal(columnTypes(compacted)[column], columnTypes(columnsOf(events))[column], `${what} keeps ${column} wide`);
      assert.notEqual(columnTypes(compacted).market, 'Uint16Array', `${what} still narrows the other columns`);
      assert.deepEqual(compacted.toArray(), events, what);
    }
    const manyMarkets = Array.from({ length: 300 }, (_, i): UnitEvent => ({ t: 'delta', m: `KXM-${i}`, ts: i, side: 'yes', price: 100, delta: 1 }));
    assert.equal(columnTypes(columnsOf(manyMarkets).compact()).market, 'Uint16Array', 'over 256 markets keep u16 indexes');
  });

  it('refuses narrow columns read with a scale they cannot have', () => {
    const c = columnsOf(withoutNegativeZero(stream(8, 500))).compact();
    assert.doesNotThrow(() => validateEventColumns(c.markets, c.columns, c.texts, c.scales));
    assert.throws(() => validateEventColumns(c.markets, c.columns, c.texts, { ...c.scales, sizeUnit: 3 }), /size unit 3/);
    assert.throws(() => validateEventColumns(c.markets, c.columns, c.texts, { ...c.scales, tsBase: 0.5 }), /time base/);
    assert.throws(() => validateEventColumns(c.markets, c.columns, c.texts, { ...c.scales, tsBase: Number.MAX_SAFE_INTEGER - 1 }), /not a safe integer/);
    const wide = columnsOf(stream(8, 500));
    assert.throws(() => validateEventColumns(wide.markets, wide.columns, wide.texts, { ...WIDE_SCALES, levelSizeUnit: 10_000 }), /levelSize unit 10000 does not suit Float64Array/);
    assert.throws(() => validateEventColumns(wide.markets, wide.columns, wide.texts, { ...WIDE_SCALES, tsBase: 1 }), /time base 1 does not suit Float64Array/);
    const backwards = { ...c.columns, ts: c.columns.ts.slice().reverse() };
    assert.throws(() => validateEventColumns(c.markets, backwards, c.texts, c.scales), /is before/);
  });
});
