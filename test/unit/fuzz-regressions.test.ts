import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BookStore } from '../../domain/market-data/book-store';
import type { MarketEvent, UnitEvent } from '../../domain/market-data/events';
import type { BinaryOrderBook } from '../../domain/market-data/order-book';
import { NO_PRICE } from '../../domain/market-data/price-history';
import { PolymarketBookSync } from '../../venues/polymarket/book-sync';
import { readRecording, recordedFiles } from '../../venues/replay/gold-feed';
import { KalshiBookReplayer } from '../../venues/replay/kalshi-book-replay';
import { replayKalshiRecording } from '../../venues/replay/replay-source';
import { PACKED_FORMAT, packEvents } from '../../domain/market-data/batch-codec';
import { BatchApplier } from '../../workers/market-data/book-worker';

// The regression corpus of the fuzz bench (bench/fuzz.ts): cases that once crashed a parser,
// were accepted although invalid, or left a book crossed or half-applied.
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'fuzz');
interface Expectation {
  stale: boolean;
  yes?: [string, string][];
  no?: [string, string][];
  trades?: number;
}
const kalshi = JSON.parse(readFileSync(path.join(FIXTURES, 'kalshi.json'), 'utf8')) as { market: string; base: unknown[]; cases: { name: string; frames: unknown[]; expect: Expectation }[] };
const domain = JSON.parse(readFileSync(path.join(FIXTURES, 'domain.json'), 'utf8')) as { market: string; base: unknown; cases: { name: string; event: unknown; stale: boolean }[] };
const polymarket = JSON.parse(readFileSync(path.join(FIXTURES, 'polymarket.json'), 'utf8')) as { asset: string; base: unknown[]; cases: { name: string; messages: unknown[]; expect: Expectation }[] };

function assertBook(book: BinaryOrderBook, expect: Expectation, what: string): void {
  book.settle();
  assert.equal(book.stale, expect.stale, `${what}: stale (${book.staleBecause ?? 'fresh'})`);
  if (expect.stale) return;
  const levels = (ls: [string, string][]) => ls.map(([p, s]) => ({ price: priceUnits(p), size: sizeUnits(s) }));
  assert.deepEqual(book.levels('yes'), levels(expect.yes ?? []), `${what}: YES bids`);
  assert.deepEqual(book.levels('no'), levels(expect.no ?? []), `${what}: NO bids`);
}

const withLongTicker = (frames: unknown[]) => JSON.parse(JSON.stringify(frames).replaceAll('@LONG_TICKER@', 'K'.repeat(100_000))) as unknown[];

describe('fuzz regression corpus (test/fixtures/fuzz)', function () {
  this.timeout(20_000);

  describe('Kalshi: recorded source into the batch apply, and the book replayer', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(path.join(tmpdir(), 'kestrel-fuzz-fixtures-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const c of kalshi.cases) {
      it(c.name, async () => {
        const frames = [...kalshi.base, ...withLongTicker(c.frames)];
        const caseDir = path.join(dir, c.name.replace(/\W+/g, '-'));
        mkdirSync(path.join(caseDir, 'events', kalshi.market), { recursive: true });
        const lines = frames.map((event, i) => JSON.stringify({ recv_ms: 1786398369000 + i, event }));
        writeFileSync(path.join(caseDir, 'events', kalshi.market, '2026-08-10.ndjson.gz'), gzipSync(`${lines.join('\n')}\n`));

        // Recorded source → wire batch → book worker's batch apply.
        const events: MarketEvent[] = [];
        await replayKalshiRecording({ dataDir: caseDir, markets: [kalshi.market], pace: { kind: 'fast' }, emit: async (e) => void events.push(e) });
        const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
        const { outcome } = new BatchApplier(store).apply({ source: 'fixtures', partition: 0, batchSeq: 0, events: JSON.parse(JSON.stringify(events)) as unknown[] }, 0);
        assertBook(store.state(kalshi.market).book, c.expect, 'batch apply');
        const trades = events.filter((e) => e.t === 'trade').length - outcome.refused.filter((r) => events[r.index]?.t === 'trade').length;
        assert.equal(trades, c.expect.trades ?? 0, 'trades taken by the batch apply');
        assert.deepEqual([...store.markets.keys()], [kalshi.market], 'no other market was touched');

        // The same events packed, as the publisher sends them: the same book, trades and refusals.
        const packedStore = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
        const packed = new BatchApplier(packedStore).apply({ source: 'fixtures', partition: 0, batchSeq: 0, format: PACKED_FORMAT, count: events.length, packed: packEvents(events) }, 0);
        assertBook(packedStore.state(kalshi.market).book, c.expect, 'packed batch apply');
        assert.deepEqual(packed.outcome.refused, outcome.refused, 'packed: the same refusals');
        assert.deepEqual([...packedStore.markets.keys()], [kalshi.market], 'packed: no other market was touched');

        // The book replayer on the same recording (the reader's refusals go to it too).
        const replayer = new KalshiBookReplayer({ expectFilteredGaps: true });
        for (const file of recordedFiles(caseDir, kalshi.market)) {
          for await (const rec of readRecording(file, (bad) => replayer.refusedLine(bad))) replayer.apply(rec);
        }
        assertBook(replayer.book(kalshi.market), c.expect, 'replayer');
      });
    }
  });

  describe('Polymarket book sync', () => {
    for (const c of polymarket.cases) {
      it(c.name, () => {
        const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
        const malformed: string[] = [];
        const sync = new PolymarketBookSync(store, { requestResync: () => {}, onMalformed: (_raw, error) => malformed.push(error) });
        for (const msg of [...polymarket.base, ...c.messages]) assert.doesNotThrow(() => sync.handle(msg));
        assert.ok(!malformed.some((e) => e.startsWith('handling the message failed')), malformed.join('; '));
        assertBook(store.state(polymarket.asset).book, c.expect, 'sync');
        for (const l of store.state(polymarket.asset).book.levels('no')) assert.ok(l.price > 0 && l.price < 10_000, 'NO bids stay inside (0, 1)');
      });
    }
  });
});

describe('fuzz regression corpus: domain book apply (test/fixtures/fuzz/domain.json)', () => {
  for (const c of domain.cases) {
    it(`refuses ${c.name}`, () => {
      const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
      store.applyAll([domain.base as UnitEvent]);
      const before = store.state(domain.market).book.levels('yes');
      const event = JSON.parse(JSON.stringify(c.event).replace('@LONG_ID@', 'M'.repeat(100_000))) as UnitEvent;
      const outcome = store.applyAll([event]);
      assert.equal(outcome.applied, 0);
      assert.equal(outcome.refused.length, 1);
      const book = store.state(domain.market).book;
      assert.equal(book.stale, c.stale, book.staleBecause ?? 'fresh');
      if (!c.stale) assert.deepEqual(book.levels('yes'), before);
      assert.equal(store.state(domain.market).lastTradePrice, NO_PRICE, 'no trade price taken');
      assert.deepEqual([...store.markets.keys()], [domain.market]);
    });
  }
});

describe('book worker batch apply (BatchApplier)', () => {
  const M = 'KXGOLD15M-A';
  const N = 'KXGOLD15M-B';
  const snapshot = (m: string, bid = '0.4000') => ({ t: 'snapshot', m, ts: 1, yes: [[bid, '10.00']], no: [['0.5000', '5.00']] });
  const delta = (m: string, size: string, ts = 2) => ({ t: 'delta', m, ts, side: 'yes', price: '0.4000', delta: size });
  const batch = (batchSeq: number, events: unknown[]) => ({ source: 's', partition: 0, batchSeq, events });

  it('refuses one bad event alone: the rest of the batch applies, and only its market goes stale', () => {
    const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
    const applier = new BatchApplier(store);
    applier.apply(batch(0, [snapshot(M), snapshot(N)]), 0);
    const result = applier.apply(batch(1, [delta(M, '1.00'), { t: 'delta', m: N, ts: 2, side: 'yes', price: '0.12345', delta: '1' }, { t: 'trade', m: M, ts: 3, id: 'x', yesPrice: '0.4000', count: '-1', takerSide: 'yes' }, delta(M, '2.00', 3)]), 0);
    assert.equal(result.invalid.length, 1, 'the off-grid delta never reaches a book');
    assert.deepEqual(result.outcome.refused.map((r) => r.reason), ['trade count -1000000 is not positive']);
    assert.equal(store.state(M).book.sizeAt('yes', 4000), 13_000_000);
    assert.ok(!store.state(M).book.stale);
    assert.match(store.state(N).book.staleBecause ?? '', /0\.12345/);
  });

  it('a batch interrupted half-way and delivered again applies each event once', () => {
    const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
    const applier = new BatchApplier(store);
    applier.apply(batch(0, [snapshot(M)]), 0);
    const events = [delta(M, '1.00'), delta(M, '2.00'), delta(M, '3.00', 3), delta(M, '4.00', 4)];
    applier.apply(batch(1, events.slice(0, 2)), 0);
    const retry = applier.apply(batch(1, events), 0);
    assert.equal(retry.outcome.alreadyApplied, 2);
    applier.apply(batch(1, events), 0);
    assert.equal(store.state(M).book.sizeAt('yes', 4000), 20_000_000, '10 + 1 + 2 + 3 + 4, each once');
  });

  it('a gap in batch numbers stales the books the stream fed until a snapshot re-bases them', () => {
    const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
    const applier = new BatchApplier(store);
    applier.apply(batch(0, [snapshot(M), snapshot(N)]), 0);
    const gap = applier.apply(batch(3, [delta(M, '1.00')]), 0);
    assert.deepEqual(gap.staleAfterGap.sort(), [M, N]);
    assert.ok(store.state(M).book.stale && store.state(N).book.stale);
    assert.equal(store.state(M).book.sizeAt('yes', 4000), 10_000_000, 'the delta after the gap was not applied');
    assert.ok(gap.outcome.tops.has(N), 'the stale top of book is published');
    applier.apply(batch(4, [snapshot(M, '0.4100')]), 0);
    assert.ok(!store.state(M).book.stale);
    assert.ok(store.state(N).book.stale);
  });

  it('a gap is judged against the persisted checkpoint too (a restarted worker)', () => {
    const store = new BookStore({ historyCapacity: 4, sampleMs: 1000 });
    new BatchApplier(store).apply(batch(0, [snapshot(M)]), 0);
    const restarted = new BatchApplier(store);
    assert.deepEqual(restarted.apply(batch(6, [delta(M, '1.00')]), 0, 5).staleAfterGap, []);
    assert.deepEqual(restarted.apply(batch(8, [delta(M, '1.00')]), 0, 6).staleAfterGap, [M]);
  });
});
