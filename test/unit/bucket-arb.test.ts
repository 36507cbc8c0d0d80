import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyseBucketArbitrage, bucketSums, loadKalshiRestSnapshots, opportunityRuns, strikeResolution, tickerPatternPartition, type SourcedSnapshot } from '../../backtest/bucket-arb';
import { readStrategyConfig } from '../../config/strategy';
import { Dec } from '../../domain/decimal';
import {
  basketEconomics,
  BUCKET_ARB_RULES_VERSION,
  bucketCoverage,
  findBucketArbitrage,
  legOrderFee,
  parseBucketArbParams,
  settleBasket,
  strikesPartition,
  type BucketArbParams,
  type BucketEventSnapshot,
  type BucketQuote,
} from '../../domain/strategies/bucket-arb';
import { entryOrder } from '../../domain/arbitrage/legs';
import { bucketBasketPlan } from '../../domain/strategies/bucket-arb-plan';
import { kestrel } from '../support/cli';

const d = (x: string | number) => new Dec(x);
const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'bucket-arb');
const REPO = path.resolve(__dirname, '..', '..');

/** A bucket quoted bid/ask with the given depths (dollars as strings; null = that side empty). */
function bucket(market: string, bid: string | null, ask: string | null, depth: { bid?: string; ask?: string } = {}, result?: 'yes' | 'no'): BucketQuote {
  return {
    market,
    yesBid: bid === null ? null : { price: d(bid), size: d(depth.bid ?? '100') },
    yesAsk: ask === null ? null : { price: d(ask), size: d(depth.ask ?? '100') },
    quotedAtMs: 1_000,
    result: result ?? null,
  };
}
function event(buckets: BucketQuote[], over: Partial<BucketEventSnapshot> = {}): BucketEventSnapshot {
  return { eventTicker: 'EV', observedAtMs: 1_000, mutuallyExclusive: true, partition: 'strikes', buckets, ...over };
}
const params = (over: Record<string, unknown> = {}): BucketArbParams => parseBucketArbParams({ minEdge: '0', ...over });

describe('bucket arbitrage: parameters', () => {
  it('fills defaults and names every bad field in one error', () => {
    const p = parseBucketArbParams({});
    assert.equal(p.minEdge.toString(), '0.01');
    assert.equal(p.fees.takerRate.toString(), '0.07');
    assert.equal(p.fees.balancePrecision.toString(), '0.01');
    assert.deepEqual(p.baskets, ['yes', 'no']);
    assert.throws(
      () => parseBucketArbParams({ minEdge: 'abc', maxSize: '0', baskets: [], fees: { takerRate: '-1' }, surprise: 1 }),
      (e: Error) => /minEdge: expected a decimal/.test(e.message) && /maxSize: maxSize must be > 0/.test(e.message) && /baskets: baskets must name at least one/.test(e.message) && /fees\.takerRate: fees\.takerRate must be >= 0/.test(e.message) && /surprise/.test(e.message),
    );
    assert.throws(() => parseBucketArbParams({ minDepth: '50', maxSize: '10' }), /minDepth: minDepth \(50\) exceeds maxSize \(10\)/);
    assert.throws(() => parseBucketArbParams({ maxSize: 100 }), /maxSize: Invalid input: expected string, received number/);
  });

  it('config/strategies/bucket-arb.yaml is a bucket-arb strategy version with every parameter written out', () => {
    const v = readStrategyConfig(path.join(REPO, 'config', 'strategies', 'bucket-arb.yaml'));
    assert.ok('kind' in v && v.kind === 'bucket-arb');
    assert.equal((v.params as { minEdge: string }).minEdge, '0.01');
    assert.deepEqual(parseBucketArbParams(v.params), parseBucketArbParams({ minEdge: '0.01', partitionEvidence: ['strikes'] }));
    // A version file is held to the same rules, with the file named.
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'kestrel-strategy-')), 'bad.yaml');
    writeFileSync(bad, readFileSync(path.join(REPO, 'config', 'strategies', 'bucket-arb.yaml'), 'utf8').replace('minDepth: "1"', 'minDepth: "500"').replace('baskets: [yes, no]', 'baskets: [maybe]'));
    assert.throws(() => readStrategyConfig(bad), (e: Error) => e.message.startsWith(`${bad}: invalid bucket-arb strategy config: `) && /params\.baskets\.0: Invalid option/.test(e.message));
    writeFileSync(bad, readFileSync(path.join(REPO, 'config', 'strategies', 'bucket-arb.yaml'), 'utf8').replace('minDepth: "1"', 'minDepth: "500"'));
    assert.throws(() => readStrategyConfig(bad), /params\.minDepth: minDepth \(500\) exceeds maxSize \(100\)/);
  });
});

describe('bucket arbitrage: profit formulas and fees', () => {
  it('YES basket: buying every bucket pays $1 per contract; profit = q(1 − Σasks) − per-leg fees', () => {
    const ev = event([bucket('A', '0.28', '0.30'), bucket('B', '0.28', '0.30'), bucket('C', '0.28', '0.30')]);
    const b = findBucketArbitrage(ev, params({ baskets: ['yes'] }));
    assert.equal(b.kind, 'basket');
    if (b.kind !== 'basket') return;
    // Each leg: 0.07 × 100 × 0.3 × 0.7 = 1.47 exactly (no rounding); cost 90.
    assert.equal(b.cost.toString(), '90');
    assert.equal(b.fees.toString(), '4.41');
    assert.equal(b.guaranteedPayout.toString(), '100');
    assert.equal(b.guaranteedProfit.toString(), '5.59');
    assert.equal(b.edgePerContract.toString(), '0.0559');
    // Whichever bucket wins, the settled profit is the guaranteed one.
    for (const winner of ['A', 'B', 'C']) {
      const results = new Map(['A', 'B', 'C'].map((m) => [m, m === winner ? ('yes' as const) : ('no' as const)]));
      assert.equal(settleBasket(b, results).profit.toString(), '5.59');
    }
  });

  it('NO basket: buying NO on n buckets pays n − 1; profit = q(Σbids − 1) − fees; pays n if no bucket wins', () => {
    const ev = event([bucket('A', '0.40', null), bucket('B', '0.40', null), bucket('C', '0.35', null)]);
    const b = findBucketArbitrage(ev, params({ maxSize: '10' }));
    assert.equal(b.kind, 'basket');
    if (b.kind !== 'basket') return;
    assert.equal(b.basket, 'no');
    assert.deepEqual(
      b.legs.map((l) => [l.market, l.side, l.limitPrice.toString()]),
      [
        ['A', 'no', '0.6'],
        ['B', 'no', '0.6'],
        ['C', 'no', '0.65'],
      ],
    );
    // Fees: 0.07×10×0.6×0.4 = 0.168 → 0.17 (cent balance); 0.07×10×0.65×0.35 = 0.15925 → 0.1593 → 0.16.
    assert.equal(b.fees.toString(), '0.5');
    assert.equal(b.cost.toString(), '18.5');
    assert.equal(b.guaranteedPayout.toString(), '20');
    assert.equal(b.guaranteedProfit.toString(), '1');
    assert.equal(b.priceSum.toString(), '1.15');
    assert.equal(settleBasket(b, new Map([['A', 'no'], ['B', 'yes'], ['C', 'no']])).profit.toString(), '1');
    assert.equal(settleBasket(b, new Map([['A', 'no'], ['B', 'no'], ['C', 'no']])).profit.toString(), '11');
  });

  it('fees are per leg order, rounded up per order: a 1-lot basket that clears $1 before fees loses, the 100-lot one does not', () => {
    const ev = (size: string) => event([bucket('A', null, '0.05', { ask: size }), bucket('B', null, '0.05', { ask: size }), bucket('C', null, '0.88', { ask: size })]);
    // 1 contract: every leg's fee (0.0033, 0.0033, 0.0074) rounds up to a cent: 1 − 0.98 − 0.03 = −0.01.
    const one = findBucketArbitrage(ev('1'), params({ baskets: ['yes'] }));
    assert.equal(one.kind, 'none');
    assert.match(one.kind === 'none' ? one.reasons.join() : '', /YES asks sum 0\.9800, edge -0\.0100\/contract after fees 0\.0300 on 1 < minEdge 0\.0000/);
    // 100 contracts: 0.3325 → 0.34 twice, 0.7392 → 0.74: 100 − 98 − 1.42 = 0.58.
    const hundred = findBucketArbitrage(ev('100'), params({ baskets: ['yes'], minEdge: '0.005' }));
    assert.equal(hundred.kind, 'basket');
    if (hundred.kind === 'basket') assert.equal(hundred.guaranteedProfit.toString(), '0.58');
    // A direct member's balance keeps $0.0001: fees 0.3325 + 0.3325 + 0.7392.
    assert.equal(basketEconomics('yes', [d('0.05'), d('0.05'), d('0.88')], d(100), { ...params().fees, balancePrecision: d('0.0001') }).fees.toString(), '1.4042');
    assert.equal(legOrderFee(d(1), d('0.5'), params().fees).toString(), '0.02');
    assert.equal(legOrderFee(d(1), d('0.5'), { ...params().fees, seriesMultiplier: d('0') }).toString(), '0');
  });

  it('an edge exactly at minEdge is taken; one ten-thousandth below is not', () => {
    const ev = event([bucket('A', null, '0.30'), bucket('B', null, '0.30'), bucket('C', null, '0.30')]);
    assert.equal(findBucketArbitrage(ev, params({ baskets: ['yes'], minEdge: '0.0559' })).kind, 'basket');
    assert.equal(findBucketArbitrage(ev, params({ baskets: ['yes'], minEdge: '0.056' })).kind, 'none');
  });
});

describe('bucket arbitrage: exclusivity and exhaustiveness', () => {
  const cheap = [bucket('A', null, '0.30'), bucket('B', null, '0.30'), bucket('C', null, '0.30')];

  it('refuses an event not flagged mutually exclusive, or whose exclusivity is only inferred from names', () => {
    for (const partition of [null, 'strikes'] as const) {
      const flaggedFalse = findBucketArbitrage(event(cheap, { mutuallyExclusive: false, partition }), params());
      assert.deepEqual(flaggedFalse.kind === 'none' && flaggedFalse.reasons, ['venue flag mutually_exclusive is false']);
    }
    const byName = findBucketArbitrage(event(cheap, { mutuallyExclusive: null, partition: 'ticker-pattern' }), params());
    assert.match(byName.kind === 'none' ? byName.reasons[0]! : '', /only inferred \(ticker-pattern\), not accepted by partitionEvidence/);
    assert.equal(findBucketArbitrage(event(cheap, { mutuallyExclusive: null, partition: 'ticker-pattern' }), params({ partitionEvidence: ['ticker-pattern'] })).kind, 'basket');
  });

  it('a flagged event without proof that some bucket wins gets no YES basket unless assumed; settled with no winner refutes it', () => {
    const flagged = event(cheap, { partition: null });
    const refused = findBucketArbitrage(flagged, params({ baskets: ['yes'] }));
    assert.deepEqual(refused.kind === 'none' && refused.reasons, ['yes basket: no evidence that some bucket must settle YES']);
    assert.equal(findBucketArbitrage(flagged, params({ baskets: ['yes'], assumeExhaustiveWhenExclusive: true })).kind, 'basket');
    const noWinner = event(
      cheap.map((b) => ({ ...b, result: 'no' as const })),
      { partition: null },
    );
    const cov = bucketCoverage(noWinner, params({ assumeExhaustiveWhenExclusive: true }));
    assert.deepEqual(cov.exhaustive, { established: false, refuted: true, why: 'every bucket settled NO: not exhaustive' });
    assert.equal(findBucketArbitrage(noWinner, params({ baskets: ['yes'], assumeExhaustiveWhenExclusive: true })).kind, 'none');
    const twoWinners = event(cheap.map((b, i) => ({ ...b, result: i < 2 ? ('yes' as const) : ('no' as const) })));
    assert.deepEqual(findBucketArbitrage(twoWinners, params()).kind === 'none' && (findBucketArbitrage(twoWinners, params()) as { reasons: string[] }).reasons, ['2 buckets settled YES: not mutually exclusive']);
  });

  it('the NO basket needs exclusivity only: it is taken on a flagged event without exhaustiveness, leaving out buckets without a bid', () => {
    const ev = event([bucket('A', '0.60', null), bucket('B', '0.50', null), bucket('C', null, null)], { partition: null });
    const b = findBucketArbitrage(ev, params());
    assert.equal(b.kind, 'basket');
    if (b.kind !== 'basket') return;
    assert.deepEqual(
      b.legs.map((l) => l.market),
      ['A', 'B'],
    );
    assert.equal(b.guaranteedPayout.toString(), '100');
    // C wins: both NO legs pay; A wins: B's NO pays. Never below the guaranteed payout.
    assert.equal(settleBasket(b, new Map([['A', 'no'], ['B', 'no']])).payout.toString(), '200');
    assert.equal(settleBasket(b, new Map([['A', 'yes'], ['B', 'no']])).payout.toString(), '100');
  });

  it('strikes partition: contiguous less/between/greater ranges on the outcome grid; a gap or an overlap is refused', () => {
    const s = (market: string, type: string, floor: string | null, cap: string | null) => ({ market, type, floor: floor === null ? null : d(floor), cap: cap === null ? null : d(cap) });
    // Shaped like ACPICORE-2024: "0.9% or below" (< 1), 1.0–1.9, 2.0–2.9, "3.0% or higher" (> 2.9).
    const core = [s('C1.0', 'less', null, '1'), s('B1.5', 'between', '1', '1.9'), s('B2.5', 'between', '2', '2.9'), s('C3.0', 'greater', '2.9', null)];
    const coreGap = [s('C1.0', 'less', null, '1'), s('B1.5', 'between', '1', '1.9'), s('C7.0', 'greater', '2.9', null)];
    assert.equal(strikeResolution(core).toString(), '0.1');
    assert.deepEqual(strikesPartition(core, d('0.1')), { partition: true, why: '4 contiguous ranges at resolution 0.1' });
    assert.match(strikesPartition(coreGap, d('0.1')).why, /C7\.0 starts at 3, not 2 after B1\.5: a gap/);
    // ACPI-2024: "7.0% or above" recorded as greater than 7, which leaves 7.0 itself uncovered.
    assert.match(strikesPartition([s('C1.0', 'less', null, '1'), s('B6.5', 'between', '1', '6.9'), s('C7.0', 'greater', '7', null)], d('0.1')).why, /C7\.0 starts at 7\.1, not 7 after B6\.5: a gap/);
    assert.match(strikesPartition([s('L', 'less', null, '2'), s('B', 'between', '1', '3'), s('G', 'greater', '3', null)], d(1)).why, /an overlap/);
    assert.match(strikesPartition([s('B', 'between', '1', '3'), s('G', 'greater', '3', null)], d(1)).why, /0 lower and 1 upper tail/);
    assert.match(strikesPartition([s('X', 'custom', null, null), s('G', 'greater', '3', null)], d(1)).why, /X: strike custom is not a less\/between\/greater range/);
  });
});

describe('bucket arbitrage: sizing and legs', () => {
  it('sizes by the thinnest leg (capped by maxSize, whole contract steps) and refuses below minDepth', () => {
    const ev = event([bucket('A', null, '0.30', { ask: '500' }), bucket('B', null, '0.30', { ask: '7.5' }), bucket('C', null, '0.30', { ask: '300' })]);
    const b = findBucketArbitrage(ev, params({ baskets: ['yes'] }), { strategyVersion: 'v3' });
    assert.equal(b.kind, 'basket');
    if (b.kind !== 'basket') return;
    assert.equal(b.size.toString(), '7');
    assert.deepEqual(b.legs[1], { market: 'B', side: 'yes', action: 'buy', limitPrice: d('0.3'), size: d(7), timeInForce: 'IOC' });
    assert.equal(b.rollback, 'unwind-filled-legs');
    assert.equal(b.rulesVersion, BUCKET_ARB_RULES_VERSION);
    assert.equal(b.strategyVersion, 'v3');
    assert.match(b.reason, /yes basket on 3 buckets of EV .*YES asks sum 0\.9000, 7 contracts \(thinnest leg B\)/);
    const capped = findBucketArbitrage(ev, params({ baskets: ['yes'], maxSize: '5' }));
    assert.equal(capped.kind === 'basket' && capped.size.toString(), '5');
    const thin = findBucketArbitrage(ev, params({ baskets: ['yes'], minDepth: '10' }));
    assert.deepEqual(thin.kind === 'none' && thin.reasons, ['yes basket: B shows 7.5 < minDepth 10']);
  });

  it('picks the more profitable basket when both clear minEdge, and refuses quotes too far apart in time', () => {
    const ev = event([bucket('A', '0.55', '0.30'), bucket('B', '0.55', '0.30')]);
    const b = findBucketArbitrage(ev, params());
    assert.equal(b.kind === 'basket' && b.basket, 'yes');
    const skewed = event([{ ...bucket('A', '0.55', '0.30'), quotedAtMs: 0 }, { ...bucket('B', '0.55', '0.30'), quotedAtMs: 120_000 }]);
    assert.deepEqual(findBucketArbitrage(skewed, params()).kind === 'none' && (findBucketArbitrage(skewed, params()) as { reasons: string[] }).reasons, ['quotes 120000 ms apart (maxQuoteSkewMs 60000)']);
    assert.deepEqual((findBucketArbitrage(event([bucket('A', '0.5', '0.5')]), params()) as { reasons: string[] }).reasons, ['1 bucket(s): not a multi-bucket event']);
  });

  it('counts a run of consecutive snapshots once, ending at the first snapshot without it', () => {
    const at = (ms: number, ask: string): SourcedSnapshot => ({ source: 'market_history', atMs: ms, depthKnown: false, settledBuckets: 0, unknownBuckets: 0, event: { ...event([bucket('A', null, ask), bucket('B', null, '0.30')]), observedAtMs: ms } });
    const snaps = [at(1, '0.80'), at(2, '0.30'), at(3, '0.31'), at(4, '0.32'), at(5, '0.80'), at(6, '0.30')];
    const runs = opportunityRuns(snaps, (s) => {
      const x = findBucketArbitrage(s.event, params({ baskets: ['yes'] }));
      return x.kind === 'basket' ? x : null;
    }, new Map());
    assert.deepEqual(
      runs.map((r) => [r.startMs, r.endMs, r.snapshots]),
      [
        [2, 5, 3],
        [6, null, 1],
      ],
    );
  });
});

describe('bucket arbitrage: the recorded Kalshi REST snapshots (fixture slice)', () => {
  const data = loadKalshiRestSnapshots(FIXTURE);

  it('reads the legacy format: YES ask = 100 − best NO bid with its size; 0 bids and 100 asks are empty sides', () => {
    const book = data.snapshots.find((s) => s.source === 'orderbook' && s.event.eventTicker === 'APRPOTUS-24JUL19')!;
    assert.equal(book.event.buckets.length, 9);
    const top = book.event.buckets.find((b) => b.market === 'APRPOTUS-24JUL19-T40.8')!;
    // _yes [[5,100],[6,100],[7,100]], _no [[86,100],[87,100],[88,100]].
    assert.deepEqual([top.yesBid!.price.toString(), top.yesBid!.size.toString(), top.yesAsk!.price.toString(), top.yesAsk!.size.toString()], ['0.07', '100', '0.12', '100']);
    const sums = bucketSums(book.event);
    assert.equal(sums.askSum!.toString(), '1.18');
    assert.equal(sums.bidSum!.toString(), '0.8');
    // HIGHNY-24JUL14-T88's book is empty: no complete sum.
    const ny = data.snapshots.find((s) => s.source === 'orderbook' && s.event.eventTicker === 'HIGHNY-24JUL14')!;
    assert.equal(ny.unknownBuckets, 1);
    assert.equal(bucketSums(ny.event).askSum, null);
    // ACPI-2024-B1.5 is quoted 0 / 100 in market_data: neither side.
    const acpi = data.snapshots.find((s) => s.source === 'market_data' && s.event.eventTicker === 'ACPI-2024')!;
    assert.deepEqual(acpi.event.buckets.find((b) => b.market === 'ACPI-24-B1.5'), { market: 'ACPI-24-B1.5', yesBid: null, yesAsk: null, quotedAtMs: 0, result: null });
  });

  it('flags and partitions: the venue flag, strikes (ACPICORE yes, ACPI no: 7.0 uncovered), range tickers', () => {
    assert.equal(data.events.get('ACPICORE-2024')!.partition, 'strikes');
    assert.equal(data.events.get('ACPI-2024')!.partition, null);
    assert.equal(data.events.get('ACPI-2024')!.mutuallyExclusive, true);
    assert.equal(data.events.get('APRPOTUS-24JUL19')!.partition, 'ticker-pattern');
    assert.equal(data.events.get('APRPOTUS-24JUL19')!.mutuallyExclusive, null);
    assert.equal(data.events.get('EMMYCACTO-23')!.mutuallyExclusive, false);
    assert.ok(tickerPatternPartition(['X-T88', 'X-B88.5', 'X-B90.5', 'X-T91']));
    assert.ok(!tickerPatternPartition(['X-T6.6', 'X-T6.7', 'X-T6.8']));
    assert.ok(!tickerPatternPartition(['X-T80', 'X-B88.5', 'X-B90.5', 'X-T91']));
  });

  it('the history is an as-of join of change logs: each time holds every bucket’s last quote at or before it', () => {
    const hist = data.snapshots.filter((s) => s.source === 'market_history');
    assert.ok(hist.length > 1);
    assert.ok(hist.every((s, i) => i === 0 || s.atMs! > hist[i - 1]!.atMs!));
    // Before APRPOTUS-24JUL19-B40.4 is first quoted (1720883625) it is unknown.
    const first = hist[0]!;
    assert.equal(first.atMs, 1720879203000);
    assert.equal(first.unknownBuckets, 8);
  });

  it('a history cut by the 100-point cap is unknown after its last point; a shorter one stands until the next change', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-bucket-arb-cap-'));
    const point = (ts: number) => ({ _ts: ts, _yes_bid: 40, _yes_ask: 45, _no_bid: 55, _no_ask: 60 });
    writeFileSync(path.join(dir, 'event_data.json'), '[]');
    writeFileSync(path.join(dir, 'market_data.json'), '[]');
    writeFileSync(path.join(dir, 'orderbook_data.json'), '[]');
    writeFileSync(path.join(dir, 'market_history.json'), JSON.stringify([{ 'X-B1': Array.from({ length: 100 }, (_, i) => point(i + 1)) }, { 'X-B2': [point(50), point(150)] }]));
    const hist = loadKalshiRestSnapshots(dir).snapshots;
    const at = (s: number) => hist.find((h) => h.atMs === s * 1000)!;
    assert.deepEqual([at(1).unknownBuckets, at(50).unknownBuckets, at(100).unknownBuckets, at(150).unknownBuckets], [1, 0, 0, 1]);
    assert.equal(at(150).event.buckets[0]!.yesAsk, null);
    writeFileSync(path.join(dir, 'market_history.json'), JSON.stringify([{ 'X-B1': [{ _ts: 1, _yes_bid: 101 }] }]));
    assert.throws(() => loadKalshiRestSnapshots(dir), /X-B1: _yes_bid must be integer cents in \[0, 100\], got 101/);
  });

  it('finds no basket on these snapshots, and says why', () => {
    const a = analyseBucketArbitrage(data, parseBucketArbParams({}));
    assert.equal(a.runs.length, 0);
    const core = a.perEvent.find((e) => e.source === 'market_data' && e.eventTicker === 'ACPICORE-2024')!;
    assert.deepEqual(core.refusals, { 'yes basket: no YES ask on <market>': 1, 'no basket: # bucket(s) with a YES bid': 1 });
    const emmy = a.perEvent.find((e) => e.eventTicker === 'EMMYCACTO-23')!;
    assert.deepEqual(emmy.refusals, { 'bucket(s) finalized: quote not tradeable': 1 });
    const book = a.perEvent.find((e) => e.source === 'orderbook' && e.eventTicker === 'APRPOTUS-24JUL19')!;
    assert.deepEqual([book.askSum.min, book.bidSum.min], ['1.18', '0.80']);
  });

  it('kestrel backtest --strategy bucket-arb prints its figures and writes report.md and report.json', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'kestrel-bucket-arb-'));
    const r = await kestrel(['backtest', '--strategy', 'bucket-arb', '--snapshots', FIXTURE, '--out', out, '--folds', '3', '--train-folds', '1'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /multi-bucket: 3 flagged mutually exclusive, 1 with strikes covering every value/);
    assert.match(r.stdout, /orderbook\s+APRPOTUS-24JUL19\s+9 buckets\s+Σasks 1\.18\.\.1\.18 \(n=1\)/);
    assert.match(r.stdout, /walk-forward over 3 time slices \(2 folds\)/);
    assert.ok(existsSync(path.join(out, 'report.md')));
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as { walkForward: { folds: unknown[] }; parameters: { minEdge: string } };
    assert.equal(report.walkForward.folds.length, 2);
    assert.equal(report.parameters.minEdge, '0.01');
  });

  it('bad arguments are usage errors with the reason', async () => {
    const cases: [string[], RegExp][] = [
      [['--strategy', 'bucket-arb'], /--snapshots is required/],
      [['--strategy', 'bucket-arb', '--snapshots', '/nonexistent/dir'], /--snapshots \/nonexistent\/dir is not a directory/],
      [['--strategy', 'bucket-arb', '--snapshots', FIXTURE, '--folds', '3', '--train-folds', '3'], /--train-folds \(3\) must be less than --folds \(3\)/],
      [['--strategy', 'bucket-arb', '--snapshots', FIXTURE, '--min-edge', 'lots'], /minEdge: expected a decimal number/],
      [['--strategy', 'bucket-arb', '--snapshots', FIXTURE, '--file', path.join(REPO, 'config', 'strategies', 'imbalance.yaml')], /is not a bucket-arb strategy version/],
      [['--strategy', 'bucket-arb', '--snapshots', path.join(REPO, 'config')], /event_data\.json: cannot read/],
      [['--snapshots', FIXTURE], /--snapshots is an option of --strategy bucket-arb/],
    ];
    for (const [args, message] of cases) {
      const r = await kestrel(['backtest', ...args], {});
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('bucket arbitrage: the generic basket executor takes a bucket basket', () => {
  it('every leg becomes a Kalshi IOC leg of one plan with a deterministic basket id', () => {
    const ev = event([bucket('KX-B1', '0.40', null), bucket('KX-B2', '0.40', null), bucket('KX-B3', '0.35', null)]);
    const b = findBucketArbitrage(ev, params({ maxSize: '10' }));
    assert.equal(b.kind, 'basket');
    if (b.kind !== 'basket') return;
    const plan = bucketBasketPlan(b, { strategyId: 'bucket-arb-v1', observedAtMs: 1_000, unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 } });
    assert.equal(plan.basketId, 'bucket-arb/EV/no/1000');
    assert.deepEqual(plan.legs[2], { legId: 'leg-2', venue: 'kalshi', market: 'KX-B3', outcome: 'no', limitPrice: '0.6500', size: '10' });
    assert.equal(plan.expectedEdge, '1.0000');
    assert.deepEqual(entryOrder(plan, plan.legs[0]!), { clientOrderId: 'bucket-arb/EV/no/1000:leg-0:entry', positionId: 'bucket-arb/EV/no/1000/leg-0', purpose: 'entry', market: 'KX-B1', outcome: 'no', action: 'buy', limitPrice: '0.6000', size: '10', tif: 'ioc' });
  });
});

describe('bucket arbitrage: the whole kalshi-2024-rest-snapshots directory', () => {
  // The shared data sits next to the repository (see shared/data/SOURCES.md).
  const dir = path.resolve(REPO, '..', 'shared', 'data', 'kalshi-2024-rest-snapshots');

  it('examines every multi-bucket event and finds no basket that survives fees (the recorded finding)', function () {
    if (!existsSync(dir)) this.skip();
    const data = loadKalshiRestSnapshots(dir);
    const a = analyseBucketArbitrage(data, parseBucketArbParams({}));
    assert.deepEqual(a.examined, { eventsListed: 100, eventsSeen: 114, multiBucket: 55, multiBucketFlaggedExclusive: 4, multiBucketPartitionByTickers: 9, multiBucketPartitionByStrikes: 1 });
    const history = a.perEvent.find((e) => e.source === 'market_history' && e.eventTicker === 'APRPOTUS-24JUL19')!;
    assert.deepEqual([history.askSum.complete, history.askSum.min, history.askSum.max, history.bidSum.min, history.bidSum.max], [60, '1.17', '1.25', '0.65', '0.84']);
    assert.equal(a.runs.length, 0);
    assert.deepEqual(a.withTickerPartitions, { yes: 0, no: 0, runs: 0, guaranteedProfit: '0.0000' });
    // Σ asks < 1 or Σ bids > 1 before fees happens only on events that are not mutually exclusive.
    const rawHits = a.perEvent.filter((e) => e.beforeFees.yes + e.beforeFees.no > 0);
    assert.ok(rawHits.length > 0);
    assert.ok(rawHits.every((e) => e.mutuallyExclusive === false));
  });
});
