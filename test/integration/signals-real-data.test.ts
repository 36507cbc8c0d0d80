import assert from 'node:assert/strict';
import path from 'node:path';
import { signalsRealData } from '../../bench/signals-real-data';
import { DEFAULT_THRESHOLDS } from '../../domain/signals/types';
import { SHARED_DATA_DIR } from '../support/harness';

describe('correlation spikes on real Kalshi bucket markets (2024 REST history)', function () {
  this.timeout(60_000);

  it('finds co-movement in real bucket events and almost none once each series is shuffled (default thresholds)', async () => {
    const result = await signalsRealData({ dataDir: path.join(SHARED_DATA_DIR, 'kalshi-2024-rest-snapshots'), shuffles: 40, log: () => {} });
    assert.ok(result.events >= 5, `bucket events found: ${result.events}`);
    const atDefault = result.bySetting.find((s) => s.minCoMoves === DEFAULT_THRESHOLDS.correlationMinCoMoves)!;
    assert.ok(atDefault.spikes > 0, 'real co-movement is found');
    // Shuffled series: the false-positive rate, at most a twentieth of what real data shows.
    assert.ok(atDefault.shuffledSpikesPerRun * 20 <= atDefault.spikes, `shuffled ${atDefault.shuffledSpikesPerRun} per run vs ${atDefault.spikes} real`);
    // Without the co-move floor, coincident jumps in sparse series pass as spikes: the floor is what keeps them out.
    assert.ok(result.bySetting.find((s) => s.minCoMoves === 2)!.shuffledSpikesPerRun > 0);
    // Bucket markets of one event are tied together: adjacent buckets move strongly together or against each other.
    assert.ok(result.strongPairs >= 10);
  });
});
