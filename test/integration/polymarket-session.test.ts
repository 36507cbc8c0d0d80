import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { polymarketTakerFee } from '../../domain/fees';
import { runPolymarketEmulatorSession, type PolymarketSessionSummary } from '../../runs/polymarket-session';
import { getHarness } from '../support/harness';

/** The recording's token with the tightest book nearest even odds: 0.46 bid (38.13) / 0.47 ask (1401.82), tick 0.01. */
const ASSET = '1627500284739545390204314775735988068784669364445492030335161034375823784781';
const FEE_BPS = 200;

/** A position without the run's strategy id, in fixed decimals. */
const comparable = (s: PolymarketSessionSummary) =>
  s.positions.map((p) => ({
    position: p.positionId.replace(/^position\/[^/]+\//, ''),
    market: p.market,
    status: p.status,
    entryPrice: p.entryPrice === null ? null : new Dec(p.entryPrice).toFixed(6),
    size: new Dec(p.size).toFixed(6),
    realizedPnl: new Dec(p.realizedPnl).toFixed(6),
    fees: new Dec(p.fees).toFixed(6),
    exits: p.exits,
  }));

describe('Polymarket session: the emulator over its WebSocket protocol, the BullMQ ingest path, a position through the workflows', function () {
  this.timeout(300_000);

  it('ingests every recorded message through the book workers and trades one position on paper with Polymarket\'s taker fee; the same run through the Polymarket execution client on the emulator gives equal fills and fees and ends flat', async () => {
    const harness = await getHarness();
    // The shared test database may hold other suites' positions: limits that only this session's trade meets.
    const config = harness.config({ 'fees.polymarketTakerRateBps': FEE_BPS, 'risk.maxConcurrentPositions': 1000, 'risk.maxMarketExposureFraction': '1', 'risk.maxEventExposureFraction': '1', 'risk.maxTotalExposureFraction': '1' });
    const run = (execution: 'paper' | 'polymarket') => runPolymarketEmulatorSession({ config, execution, log: () => {}, stack: { workflowBundle: harness.workflowBundle }, holdMs: 200 });
    const paper = await run('paper');

    // What arrived: 10 books (one snapshot each) and 10 last-trade prints over 20 messages, none refused, all applied by the book workers.
    assert.equal(paper.ingested.malformed, 0);
    assert.equal(paper.ingested.resyncs, 0);
    assert.equal(paper.ingested.events.snapshot, 10, JSON.stringify(paper.ingested));
    assert.equal(paper.ingested.events.trade, 10, JSON.stringify(paper.ingested));
    assert.equal(paper.ingested.events.stale, 0);
    assert.equal(paper.ingested.applied, paper.events);
    assert.ok(paper.ingested.batches >= 1);
    // Token ids are the markets: both tick grids (0.01 and 0.001) came through the books unrounded.
    const view = (asset: string) => paper.assets.find((a) => a.asset === asset);
    assert.deepEqual([view(ASSET)?.bid, view(ASSET)?.ask, view(ASSET)?.bidLevels, view(ASSET)?.askLevels], ['0.46', '0.47', 38, 38]);
    assert.deepEqual([view('54686656666443885986573295372690758310199066081424255164816980635327619857547')?.bid, view('54686656666443885986573295372690758310199066081424255164816980635327619857547')?.ask], ['0.996', '0.997']);

    // One position: 10 bought at the ask as a taker, sold at the bid as a taker; each fill pays 10 × 0.02 × p × (1 − p), floored to 5 places.
    assert.equal(paper.entry?.asset, ASSET);
    assert.equal(paper.positions.length, 1, JSON.stringify(paper.positions));
    const [position] = paper.positions;
    const rate = new Dec(FEE_BPS).div(10_000);
    const fee = (price: string) => polymarketTakerFee({ contracts: new Dec(10), price: new Dec(price), rate, exponent: 1 });
    assert.equal(position!.status, 'closed');
    assert.equal(new Dec(position!.entryPrice!).toFixed(4), '0.4700');
    assert.equal(new Dec(position!.fees).toFixed(5), fee('0.47').plus(fee('0.46')).toFixed(5), 'Polymarket taker fees, not Kalshi\'s');
    assert.equal(new Dec(position!.fees).toFixed(5), '0.09950');
    assert.deepEqual(position!.exits, ['manual: session end (manual exit) 10@0.460000']);

    const live = await run('polymarket');
    assert.equal(live.execution, 'polymarket');
    assert.deepEqual(comparable(live), comparable(paper));
    assert.equal(live.totalPnl, paper.totalPnl);
    assert.equal(live.totalFees, paper.totalFees);
    // The orders went to the emulator: an entry and an exit, two taker trades, flat at the end.
    assert.deepEqual([live.venue!.orders, live.venue!.trades, live.venue!.fees], [2, 2, '0.09950']);
    assert.deepEqual(live.venue!.netShares, { [ASSET]: '0' });
    console.log(`      ${paper.ingested.messages} messages → ${paper.events} events applied in ${paper.ingested.batches} batch(es); position ${position!.entryPrice} → 0.46, P&L ${paper.totalPnl} after ${paper.totalFees} fees on paper and on the emulator (${live.venue!.orders} venue orders)`);
  });
});
