import assert from 'node:assert/strict';
import { evaluateFeatureHealth, featureChanges, featureHealthSettingsSchema, worstStatus, type FeatureObservations } from '../../domain/feature-health';

const settings = featureHealthSettingsSchema.parse({});
const NOW = 1_800_000_000_000;

function observations(overrides: Partial<FeatureObservations> = {}): FeatureObservations {
  return { nowMs: NOW, feeds: [], signalTicks: [], partitions: [], processes: 1, retraining: { everyMs: 86_400_000 }, ...overrides };
}
const find = (o: FeatureObservations, feature: string) => evaluateFeatureHealth(o, settings).find((r) => r.feature === feature);

describe('feature health (pure)', () => {
  it('judges a feed by the age of its last event, and a closed feed as stopped, not silent', () => {
    const o = observations({
      feeds: [
        { source: 'fresh', lastEventAtMs: NOW - 2_000 },
        { source: 'slow', lastEventAtMs: NOW - 15_000 },
        { source: 'silent', lastEventAtMs: NOW - 45_000 },
        { source: 'finished', lastEventAtMs: NOW - 50_000, closedAtMs: NOW - 49_000 },
        { source: 'long-gone', lastEventAtMs: NOW - 7_200_000, closedAtMs: NOW - 7_200_000 },
        { source: 'orphan', lastEventAtMs: NOW - 5_000, processGone: true },
      ],
    });
    assert.equal(find(o, 'feed:fresh')!.status, 'ok');
    assert.equal(find(o, 'feed:slow')!.status, 'degraded');
    assert.equal(find(o, 'feed:silent')!.status, 'down');
    assert.match(find(o, 'feed:silent')!.detail, /silent: last event 45 s ago/);
    assert.equal(find(o, 'feed:finished')!.status, 'ok');
    assert.match(find(o, 'feed:finished')!.detail, /stopped/);
    assert.equal(find(o, 'feed:long-gone'), undefined, 'a feed closed over an hour ago is dropped');
    assert.equal(find(o, 'feed:orphan')!.status, 'down');
    assert.match(find(o, 'feed:orphan')!.detail, /process is gone/);
    // A feed reopened after it closed is live again.
    assert.equal(find(observations({ feeds: [{ source: 'again', lastEventAtMs: NOW - 40_000, closedAtMs: NOW - 60_000 }] }), 'feed:again')!.status, 'down');
  });

  it('calls price history stalled only when market data arrived after its last write', () => {
    assert.equal(find(observations(), 'price-history')!.status, 'ok');
    const feeds = [{ source: 'live', lastEventAtMs: NOW - 1_000 }];
    assert.equal(find(observations({ feeds, priceHistoryWriteAtMs: NOW - 3_000 }), 'price-history')!.status, 'ok');
    assert.equal(find(observations({ feeds, priceHistoryWriteAtMs: NOW - 30_000 }), 'price-history')!.status, 'degraded');
    const stalled = find(observations({ feeds, priceHistoryWriteAtMs: NOW - 90_000 }), 'price-history')!;
    assert.equal(stalled.status, 'down');
    assert.match(stalled.detail, /stalled/);
    // The write is old, but nothing arrived since: idle, not stalled.
    assert.equal(find(observations({ feeds: [{ source: 'quiet', lastEventAtMs: NOW - 600_000, closedAtMs: NOW - 590_000 }], priceHistoryWriteAtMs: NOW - 600_000 }), 'price-history')!.status, 'ok');
  });

  it('flags a signal-engine rate that collapsed against its trailing baseline, not a quiet one', () => {
    // 100 ticks/s for ten minutes, then the last 30 s at a given rate.
    const samples = (lastRate: number) => {
      const s = [];
      let total = 0;
      for (let t = NOW - 630_000; t <= NOW - 30_000; t += 15_000) {
        s.push({ atMs: t, total });
        total += 1_500;
      }
      total -= 1_500;
      s.push({ atMs: NOW - 15_000, total: total + lastRate * 15 }, { atMs: NOW, total: total + lastRate * 30 });
      return s;
    };
    assert.equal(find(observations({ signalTicks: samples(90) }), 'signal-engine')!.status, 'ok');
    assert.equal(find(observations({ signalTicks: samples(30) }), 'signal-engine')!.status, 'degraded');
    const collapsed = find(observations({ signalTicks: samples(2) }), 'signal-engine')!;
    assert.equal(collapsed.status, 'down');
    assert.match(collapsed.detail, /collapsed to 2% of baseline/);
    // A trickle below the minimum baseline is not judged.
    const trickle = [{ atMs: NOW - 600_000, total: 0 }, { atMs: NOW - 30_000, total: 100 }, { atMs: NOW, total: 100 }];
    assert.equal(find(observations({ signalTicks: trickle }), 'signal-engine')!.status, 'ok');
    assert.match(find(observations({ signalTicks: [] }), 'signal-engine')!.detail, /warming up/);
  });

  it('judges partitions by owner and the age of their oldest waiting batch', () => {
    const o = observations({
      partitions: [
        { partition: 0, owner: 'a', waiting: 0 },
        { partition: 1, owner: 'a', waiting: 3, oldestWaitingAgeMs: 8_000 },
        { partition: 2, owner: 'b', waiting: 40, oldestWaitingAgeMs: 45_000 },
        { partition: 3, owner: null, waiting: 0 },
        { partition: 4, owner: null, waiting: 2, oldestWaitingAgeMs: 1_000 },
      ],
    });
    assert.deepEqual(evaluateFeatureHealth(o, settings).filter((r) => r.feature.startsWith('partition:')).map((r) => r.status), ['ok', 'degraded', 'down', 'degraded', 'down']);
    // No process at all: one line, not one per partition.
    const none = evaluateFeatureHealth({ ...o, processes: 0 }, settings);
    assert.equal(none.filter((r) => r.feature.startsWith('partition:')).length, 0);
    assert.deepEqual(none.filter((r) => r.feature === 'processes').map((r) => [r.status, r.detail]), [['down', 'no Kestrel process is running (45 market-data batch(es) waiting)']]);
  });

  it('reports retraining and reconciliation late after two intervals, reconciliation differences as degraded, and paper as not applicable', () => {
    const day = 86_400_000;
    assert.equal(find(observations({ retraining: { everyMs: day, lastRunAtMs: NOW - day, lastStatus: 'rejected' } }), 'retraining')!.status, 'ok');
    assert.match(find(observations({ retraining: { everyMs: day, lastRunAtMs: NOW - 3 * day } }), 'retraining')!.detail, /late/);
    assert.equal(find(observations({ retraining: { everyMs: day } }), 'retraining')!.detail, 'no run yet (every 24 h)');
    assert.match(find(observations(), 'reconciliation')!.detail, /not applicable/);
    assert.equal(find(observations({ reconciliation: { everyMs: 60_000, lastRunAtMs: NOW - 10_000, differences: 0 } }), 'reconciliation')!.status, 'ok');
    assert.equal(find(observations({ reconciliation: { everyMs: 60_000, lastRunAtMs: NOW - 10_000, differences: 2 } }), 'reconciliation')!.status, 'degraded');
    assert.equal(find(observations({ reconciliation: { everyMs: 60_000, lastRunAtMs: NOW - 200_000, differences: 0 } }), 'reconciliation')!.status, 'degraded');
  });

  it('names the worst status and the changes since the last alert (a new feature that is ok is no change)', () => {
    const reports = evaluateFeatureHealth(observations({ feeds: [{ source: 'x', lastEventAtMs: NOW - 45_000 }, { source: 'y', lastEventAtMs: NOW }], priceHistoryWriteAtMs: NOW }), settings);
    assert.equal(worstStatus(reports), 'down');
    assert.deepEqual(featureChanges({ 'feed:y': 'degraded' }, reports).map((c) => [c.report.feature, c.was, c.report.status]), [['feed:x', 'ok', 'down'], ['feed:y', 'degraded', 'ok']]);
  });

  it('refuses thresholds in the wrong order', () => {
    assert.throws(() => featureHealthSettingsSchema.parse({ feedDegradedMs: 60_000, feedDownMs: 30_000 }), /degraded threshold must be below/);
  });
});
