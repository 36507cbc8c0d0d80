import assert from 'node:assert/strict';
import path from 'node:path';
import { benchReplay } from '../../bench/replay';

// The whole recorded feed (2.2M messages, ~30 s): every trade must agree with the rebuilt book.
describe('full recorded gold feed → books', function () {
  this.timeout(300_000);

  it('replays all 39 markets with 0 malformed, 0 refused deltas and 0 trades outside the book', async () => {
    const figures = await benchReplay({ dataDir: path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'kalshi-gold15m-ws'), log: () => {} });
    assert.equal(figures.messages, 2_197_585);
    assert.equal(figures.trades, 52_985);
    assert.equal(figures.malformed, 0);
    assert.equal(figures.refusedDeltas, 0);
    assert.equal(figures.tradesOutsideBook, 0);
    assert.equal(figures.tradesWithoutQuote, 0);
    assert.equal(figures.seqRegressions, 0);
    assert.equal((figures.tradesAtTop as number) + (figures.tradesDeeper as number), 52_985);
  });
});
