import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readEventCache, writeEventCache } from '../../backtest/event-cache';
import { backtestConfig } from '../../backtest/gold-backtest';
import { resolveConfig } from '../../config/load';
import { Backtester, type SignalRule } from '../../domain/backtest/backtester';
import { BookStore } from '../../domain/market-data/book-store';
import { EventColumns, EventColumnsBuilder } from '../../domain/market-data/event-columns';
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
  for (const seed of [1, 2, 3]) {
    it(`BookStore.applyColumns leaves books and histories exactly as applyAll does (seed ${seed})`, () => {
      const events = stream(seed, 4000);
      const columns = columnsOf(events);
      assert.deepEqual(columns.toArray(), events);
      const objects = new BookStore({ historyCapacity: 50, sampleMs: 1000 });
      const fromColumns = new BookStore({ historyCapacity: 50, sampleMs: 1000 });
      byInstant(columns.columns.ts, (from, to) => {
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
    const [fromObjects, fromColumns] = [await run(events), await run(columnsOf(events))];
    assert.ok(fromObjects.orders.length > 0, 'the stream trades, so the comparison means something');
    assert.deepEqual(fromColumns, fromObjects);
  });

  it('a cache file round-trips every event and text (Latin-1 and UTF-16 texts)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-columns-'));
    try {
      for (const events of [stream(4, 2000), stream(5, 300).filter((e) => e.t !== 'stale'), stream(6, 300).filter((e) => e.t !== 'stale' && e.t !== 'trade')]) {
        const columns = columnsOf(events);
        writeEventCache(dir, 'key', columns, 3);
        const read = readEventCache(dir, 'key');
        assert.equal(read.status, 'hit');
        if (read.status !== 'hit') return;
        assert.ok(read.events instanceof EventColumns);
        assert.deepEqual(read.events.toArray(), events);
        assert.equal(read.malformed, 3);
      }
      assert.equal(readEventCache(dir, 'other key').status, 'missing');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
