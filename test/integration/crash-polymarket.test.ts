import assert from 'node:assert/strict';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { Dec } from '../../domain/decimal';
import { runPolymarketCrashCycles } from '../support/crash-polymarket';
import { getHarness } from '../support/harness';

describe('worker trading on the Polymarket emulator killed (SIGKILL) mid-exit and restarted', function () {
  this.timeout(420_000);
  let db: DatabaseHandle | undefined;
  after(() => db?.close());

  it('every position closes with its walk in order, no venue order Kestrel did not record or sent twice, and the venue\'s shares match Kestrel\'s', async () => {
    const harness = await getHarness();
    db = openDatabase(harness.databaseUrl, { max: 2 });
    // Killed at the walk's first attempt, then at its second (cancel-and-replace: the venue cannot amend).
    const totals = await runPolymarketCrashCycles({ harness, db: db.db, cycles: 2, log: () => {} });
    assert.deepEqual([totals.kills, totals.lostPositions, totals.duplicateOrders, totals.venueDuplicateOrders, totals.venuePositionMismatches], [2, 0, 0, 0, 0], JSON.stringify(totals));
    assert.ok(totals.killedAtAttempts.every((a) => a !== null && a >= 1), `killed mid-walk: ${JSON.stringify(totals.killedAtAttempts)}`);
    // Each cycle: the entry and one order per exit attempt, all at the venue, all recorded.
    assert.equal(totals.venueOrders, totals.ordersSent);
    // Entry and exit each traded: two taker trades a cycle, with Polymarket's fee.
    assert.equal(totals.venueTrades, 4);
    assert.ok(new Dec(totals.venueFees).gt(0));
  });
});
