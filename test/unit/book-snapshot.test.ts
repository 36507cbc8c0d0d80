import assert from 'node:assert/strict';
import path from 'node:path';
import { BookStore, type MarketState } from '../../domain/market-data/book-store';
import { decodeMarketSnapshot, encodeMarketSnapshot, restoreMarketSnapshot } from '../../domain/market-data/book-snapshot';
import { toUnits, type UnitEvent } from '../../domain/market-data/events';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { listRecordedMarkets } from '../../venues/replay/gold-feed';
import { replayKalshiRecording } from '../../venues/replay/replay-source';

const GOLD = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'kalshi-gold15m-ws');
const HISTORY = { historyCapacity: 50, sampleMs: 1000 };

/** Everything of a market state but the history ring and the per-outcome point index. */
function comparable(s: MarketState) {
  return { book: s.book.exportState(), top: s.book.top(), stale: s.book.staleBecause, last: s.lastTradePrice, volume: s.cumulativeVolume, lastPointTs: s.lastPointTs, receivedAtMs: s.receivedAtMs, position: [s.appliedStream, s.appliedBatch, s.appliedIndex] };
}

/** A store made from another's snapshots, as a new partition owner builds it. */
function restoredCopy(from: BookStore): BookStore {
  const copy = new BookStore(HISTORY);
  for (const [market, state] of from.markets) restoreMarketSnapshot(copy.state(market), market, decodeMarketSnapshot(market, encodeMarketSnapshot(state)));
  return copy;
}

describe('book snapshots (a partition taken over continues exactly)', function () {
  this.timeout(60_000);

  it('restores a book with an open millisecond: its check and undo still happen after the restore', () => {
    const store = new BookStore(HISTORY);
    const apply = (s: BookStore, events: UnitEvent[]) => s.applyAll(events, 1000, { stream: 'src:0', batchSeq: 0 });
    apply(store, [{ t: 'snapshot', m: 'M', ts: 1, yes: [{ price: 4000, size: 100 }], no: [{ price: 5500, size: 100 }] }]);
    // Crosses the book (YES bid 0.47 + NO bid 0.55 ≥ $1) inside exchange ms 2: legal until ms 2 closes.
    store.applyAll([{ t: 'delta', m: 'M', ts: 2, side: 'yes', price: 4700, delta: 50 }], 1001, { stream: 'src:0', batchSeq: 1 });
    const copy = restoredCopy(store);
    assert.deepEqual(comparable(copy.state('M')), comparable(store.state('M')));
    // The next millisecond closes ms 2: both roll its delta back and mark the book stale.
    for (const s of [store, copy]) s.applyAll([{ t: 'delta', m: 'M', ts: 3, side: 'no', price: 5400, delta: 10 }], 1002, { stream: 'src:0', batchSeq: 2 });
    assert.ok(copy.state('M').book.stale);
    assert.equal(copy.state('M').book.sizeAt('yes', 4700), 0, 'the open millisecond was undone after the restore');
    assert.deepEqual(comparable(copy.state('M')), comparable(store.state('M')));
    // A redelivered batch is skipped on the copy too (the stream position came with it).
    const again = copy.applyAll([{ t: 'delta', m: 'M', ts: 3, side: 'no', price: 5400, delta: 10 }], 1003, { stream: 'src:0', batchSeq: 2 });
    assert.equal(again.alreadyApplied, 1);
  });

  it('keeps a stale book that holds a crossed state as it is', () => {
    const book = new BinaryOrderBook('M');
    book.applySnapshot([{ price: 4000, size: 100 }], [{ price: 5500, size: 100 }], 1);
    book.applyDelta('yes', 4700, 50, 2);
    book.markStale('feed gap');
    const copy = BinaryOrderBook.fromState('M', book.exportState());
    assert.deepEqual(copy.exportState(), book.exportState());
    assert.deepEqual(copy.top(), { yesBid: { price: 4700, size: 50 }, yesAsk: { price: 4500, size: 100 } });
    assert.equal(copy.staleBecause, 'feed gap');
  });

  it('refuses a damaged snapshot with what is wrong', () => {
    assert.throws(() => decodeMarketSnapshot('M', '{nope'), /book snapshot of M is not JSON/);
    assert.throws(() => decodeMarketSnapshot('M', JSON.stringify([1, [4000], [], null, 0, null, 0, 0, null, null, null, -1, -1])), /book snapshot of M is malformed: .*pairs/);
    assert.throws(() => decodeMarketSnapshot('M', JSON.stringify([2])), /book snapshot of M is malformed/);
  });

  it('a recorded session cut anywhere and restored from snapshots ends with the same books as one that never stopped', async () => {
    const markets = listRecordedMarkets(GOLD).slice(0, 3);
    const events: UnitEvent[] = [];
    await replayKalshiRecording({ dataDir: GOLD, markets, pace: { kind: 'fast' }, emit: async (e) => void events.push(toUnits(e)) });
    assert.ok(events.length > 10_000, `expected a real session, got ${events.length} events`);
    const batchSize = 997;
    const straight = new BookStore(HISTORY);
    let resumed = new BookStore(HISTORY);
    let restores = 0;
    for (let from = 0, batchSeq = 0; from < events.length; from += batchSize, batchSeq++) {
      const batch = events.slice(from, from + batchSize);
      const position = { stream: 'gold:0', batchSeq };
      straight.applyAll(batch, batchSeq, position);
      resumed.applyAll(batch, batchSeq, position);
      // Every third batch the partition changes hands: the new owner has only the snapshots.
      if (batchSeq % 3 === 2) {
        resumed = restoredCopy(resumed);
        restores++;
      }
    }
    assert.ok(restores > 5);
    assert.deepEqual([...resumed.markets.keys()].sort(), [...straight.markets.keys()].sort());
    for (const [market, state] of straight.markets) assert.deepEqual(comparable(resumed.state(market)), comparable(state), market);
  });
});
