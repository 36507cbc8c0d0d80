import assert from 'node:assert/strict';
import type { DashboardData } from '../../observability/dashboard';
import { age, feedRows, fit, FIXED_ROWS, partitionSummary, sectionHeights, signed, sparkline, unrealizedTotal, windowStart, type TopSnapshot } from '../../cli/top/view';

const position = (market: string, unrealizedPnl: string | null): DashboardData['open'][number] => ({ positionId: `position/t/${market}/1`, market, outcome: 'yes', status: 'open', entryPrice: '0.5000', remaining: '4', mark: unrealizedPnl === null ? null : '0.4500', unrealizedPnl });

function snapshot(open: DashboardData['open'], tops: TopSnapshot['tops'], partitions: TopSnapshot['partitions'] = [], members: string[] = []): TopSnapshot {
  const data: DashboardData = { generatedAt: '2026-01-01T00:00:00.000Z', temporalUi: '', risk: { mode: 'ACTIVE', dailyPnl: '0', consecutiveLosses: 0, tripped: [] }, open, closed: [], pnlCurve: [], signals: [], strategyRuns: [], retraining: [] };
  return { data, tops, partitions, members, readAtMs: 100_000 };
}

describe('kestrel top view', () => {
  it('signs amounts at 4 decimals and says when there is none', () => {
    assert.equal(signed('0.12'), '+0.1200');
    assert.equal(signed('-0.05'), '-0.0500');
    assert.equal(signed('0'), '0.0000');
    assert.equal(signed(null), '—');
  });

  it('sums the marked unrealized P&L and counts the unmarked positions', () => {
    assert.deepEqual(unrealizedTotal([position('A', '-0.2000'), position('B', '0.0500'), position('C', null)]), { total: '-0.1500', unmarked: 1 });
  });

  it('draws a sparkline of the last points, lowest to highest', () => {
    assert.equal(sparkline(['0', '1', '2', '3', '4', '5', '6', '7'], 8), '▁▂▃▄▅▆▇█');
    assert.equal(sparkline(['9', '0', '7'], 2), '▁█', 'only the last `width` points');
    assert.equal(sparkline(['1', '1'], 5), '▄▄', 'a flat curve sits in the middle');
    assert.equal(sparkline([], 5), '');
  });

  it('puts stale and unpublished markets first and says why', () => {
    const tops = new Map([
      ['M-OK', { yesBid: '0.45', yesBidSize: '1', yesAsk: '0.50', yesAskSize: '1', ts: 1, stale: '', receivedAtMs: 98_500 }],
      ['M-STALE', { yesBid: '', yesBidSize: '', yesAsk: '0.50', yesAskSize: '1', ts: 1, stale: 'sequence gap', receivedAtMs: undefined }],
    ]);
    const rows = feedRows(snapshot([position('M-OK', '0'), position('M-NONE', null), position('M-STALE', null), position('M-OK', '0')], tops));
    assert.deepEqual(
      rows.map((r) => [r.market, r.state, r.bid, r.ask, r.age, r.detail]),
      [
        ['M-STALE', 'stale', '—', '0.50', '—', 'sequence gap'],
        ['M-NONE', 'no top', '—', '—', '—', 'no book worker has published this market'],
        ['M-OK', 'ok', '0.45', '0.50', '2s', ''],
      ],
    );
  });

  it('summarises partition ownership, naming the unowned ones', () => {
    const owned = partitionSummary(snapshot([], new Map(), [{ partition: 0, owner: 'a', ttlMs: 10 }, { partition: 1, owner: 'a', ttlMs: 10 }], ['a']));
    assert.deepEqual(owned, { text: 'partitions 2/2 owned, 1 market-data process', healthy: true });
    const gap = partitionSummary(snapshot([], new Map(), [{ partition: 0, owner: 'a', ttlMs: 10 }, { partition: 1, owner: null, ttlMs: null }], ['a', 'b']));
    assert.deepEqual(gap, { text: 'partitions 1/2 owned, 2 market-data processes; no owner: 1', healthy: false });
    assert.equal(partitionSummary(snapshot([], new Map())).healthy, false, 'no partitions at all is not healthy');
  });

  it('keeps the selected row inside the visible window', () => {
    assert.equal(windowStart(5, 4, 10), 0, 'everything fits');
    assert.equal(windowStart(100, 0, 10), 0);
    assert.equal(windowStart(100, 50, 10), 45, 'selection centred');
    assert.equal(windowStart(100, 99, 10), 90, 'the last page does not scroll past the end');
    assert.equal(windowStart(100, 500, 10), 90);
  });

  it('gives the positions what the other sections leave, and drops sections that do not fit', () => {
    const have = { positions: 50, feeds: 10, closed: 20, signals: 25, runs: 10 };
    const tall = sectionHeights(60, have);
    assert.deepEqual([tall.feeds, tall.closed, tall.signals, tall.runs], [4, 3, 5, 3]);
    assert.equal(tall.positions + tall.feeds + tall.closed + tall.signals + tall.runs + 5 * 2 + FIXED_ROWS, 60, 'every row used');
    const short = sectionHeights(16, have);
    assert.deepEqual(short, { positions: 5, feeds: 2, closed: 0, signals: 0, runs: 0 });
    assert.equal(sectionHeights(8, have).positions, 1, 'at least one position row');
    const empty = sectionHeights(40, { positions: 0, feeds: 0, closed: 0, signals: 0, runs: 0 });
    assert.deepEqual([empty.feeds, empty.closed, empty.signals, empty.runs], [1, 1, 1, 1], 'an empty section keeps a row to say so');
  });

  it('formats ages and truncates text with an ellipsis', () => {
    assert.deepEqual([age(850), age(12_400), age(4 * 60_000), age(3 * 3_600_000)], ['850ms', '12s', '4m', '3h']);
    assert.equal(fit('KXMARKET-123', 8), 'KXMARKE…');
    assert.equal(fit('short', 8), 'short');
  });
});
