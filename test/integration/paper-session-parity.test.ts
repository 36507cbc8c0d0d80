import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { runMarketClockPaperSession, type MarketClockSessionSummary } from '../../runs/paper-session';
import { getHarness } from '../support/harness';

// A recorded window the momentum rule trades (entries, exits and a settlement).
const MARKET = 'KXGOLD15M-26AUG060800-00';

/** A position without the run's strategy id (each session has its own), in fixed decimals. */
const comparable = (s: MarketClockSessionSummary) =>
  s.positions.map((p) => ({
    position: p.positionId.replace(/^position\/[^/]+\//, ''),
    status: p.status,
    outcome: p.outcome,
    entryPrice: p.entryPrice === null ? null : new Dec(p.entryPrice).toFixed(6),
    size: new Dec(p.size).toFixed(6),
    realizedPnl: new Dec(p.realizedPnl).toFixed(6),
    fees: new Dec(p.fees).toFixed(6),
    exits: p.exits,
  }));

describe('paper session on the market clock: the recording vs the Kalshi emulator over its WebSocket', function () {
  this.timeout(300_000);

  it('trades the same positions with the same P&L from either source', async () => {
    const harness = await getHarness();
    // The shared test database may hold other suites' positions: limits that only this session's trades meet.
    const config = harness.config({ 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const run = (feed: 'replay' | 'kalshi-emulator') => runMarketClockPaperSession({ config, feed, markets: [MARKET], log: () => {}, stack: { workflowBundle: harness.workflowBundle } });
    const replay = await run('replay');
    const emulated = await run('kalshi-emulator');

    assert.ok(replay.positions.length > 0, 'the window trades');
    assert.equal(emulated.feed, 'kalshi-emulator');
    // The data arrived over the WebSocket: messages were received, none malformed, no gap on a clean run.
    const counters = emulated.feedCounters!;
    assert.ok(counters.messages > 1000, JSON.stringify(counters));
    assert.equal(counters.malformed, 0);
    assert.equal(counters.gaps, 0);
    assert.equal(emulated.signals, replay.signals, 'the same signals reached the strategy');
    assert.deepEqual(comparable(emulated), comparable(replay));
    assert.equal(emulated.totalPnl, replay.totalPnl);
    assert.equal(emulated.totalFees, replay.totalFees);
    console.log(`      parity on ${MARKET}: ${replay.positions.length} position(s), P&L ${replay.totalPnl} after ${replay.totalFees} fees; replay ${replay.events} events, emulator ${emulated.events} events over ${counters.messages} WebSocket messages`);
  });

  it('trading on the emulator through the Kalshi execution client (--venue kalshi) gives the paper run\'s fills and P&L, and ends flat at the venue', async () => {
    const harness = await getHarness();
    const config = harness.config({ 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const run = (execution: 'paper' | 'kalshi') => runMarketClockPaperSession({ config, feed: 'kalshi-emulator', execution, markets: [MARKET], log: () => {}, stack: { workflowBundle: harness.workflowBundle } });
    const paper = await run('paper');
    const live = await run('kalshi');
    assert.ok(paper.positions.length > 0, 'the window trades');
    assert.deepEqual(comparable(live), comparable(paper));
    assert.equal(live.totalPnl, paper.totalPnl);
    assert.equal(live.totalFees, paper.totalFees);
    assert.deepEqual(live.venue!.netPositions, { [MARKET]: '0.00' }, 'flat at the venue');
    assert.ok(live.venue!.orders >= paper.positions.length, `the orders went to the venue: ${JSON.stringify(live.venue)}`);
    await assert.rejects(runMarketClockPaperSession({ config, feed: 'replay', execution: 'kalshi', markets: [MARKET], log: () => {} }), /only on the emulator feed/);
    console.log(`      venue parity on ${MARKET}: ${live.positions.length} position(s), ${live.venue!.orders} venue orders, P&L ${live.totalPnl} after ${live.totalFees} fees`);
  });
});
