import assert from 'node:assert/strict';
import path from 'node:path';
import { crossVenueBasket, detectCrossVenueGap, pairContract, type CrossVenueFees, type PairBook } from '../../domain/arbitrage/cross-venue';
import { entryOrder, legResult, rollbackRule, unwindLimit, unwindOrder, type BasketPlan } from '../../domain/arbitrage/legs';
import { checkEquivalence, equivalentPairs, MappingError, parseArbitrageMapping, type ArbitragePair } from '../../domain/arbitrage/mapping';
import { Dec } from '../../domain/decimal';
import { pnlAcrossVenues } from '../../cli/commands/report';
import { loadArbitrageMapping } from '../../runs/cross-venue-arb';

const MAPPING_FILE = path.resolve(__dirname, '..', '..', 'config', 'arbitrage', 'gold-synthetic.yaml');
const NOW = Date.parse('2026-12-03T12:00:00Z');
const d = (s: string) => new Dec(s);

describe('arbitrage mapping: reviewed pairs only, equivalence checked field by field', () => {
  const shipped = loadArbitrageMapping(MAPPING_FILE);
  const pair = shipped.pairs[0]!;
  const check = (p: ArbitragePair) => checkEquivalence(p, { settlementTimeToleranceSeconds: shipped.settlementTimeToleranceSeconds, nowMs: NOW });
  const edited = (change: (p: ArbitragePair) => void): ArbitragePair => {
    const copy = structuredClone(pair);
    change(copy);
    return copy;
  };

  it('the shipped file parses, says it is synthetic, and its pair is equivalent', () => {
    assert.equal(pair.synthetic, true);
    assert.deepEqual(check(pair), { equivalent: true });
    assert.equal(equivalentPairs(shipped, NOW).accepted.length, 1);
  });

  it('refuses a pair whose event, outcome, source or time differ, naming each difference', () => {
    const bad = edited((p) => {
      p.polymarket.event = 'Gold 15 min window Aug 10 2026 6:30-6:45 PM EDT';
      p.polymarket.pays = 'gold below 4391.39 USD';
      p.polymarket.settlementSource = 'CME gold futures';
      p.polymarket.settlementTime = '2026-08-10T22:31:01Z';
    });
    const verdict = check(bad);
    assert.equal(verdict.equivalent, false);
    const reasons = verdict.equivalent ? [] : verdict.reasons;
    assert.equal(reasons.length, 4, reasons.join('\n'));
    assert.match(reasons[0]!, /underlying event differs/);
    assert.match(reasons[1]!, /outcome differs/);
    assert.match(reasons[2]!, /settlement source differs/);
    assert.match(reasons[3]!, /61 s apart \(tolerance 60 s\)/);
  });

  it('takes settlement times within the tolerance, and case or spacing differences in stated terms', () => {
    const near = edited((p) => {
      p.polymarket.settlementTime = '2026-08-10T22:31:00Z';
      p.polymarket.settlementSource = '  pyth -  GOLD. ';
    });
    assert.deepEqual(check(near), { equivalent: true });
  });

  it('refuses a review dated in the future and a token paired with itself', () => {
    const verdict = check(edited((p) => {
      p.review.reviewedOn = '2027-01-01';
      p.polymarket.complementTokenId = p.polymarket.tokenId;
    }));
    assert.equal(verdict.equivalent, false);
    assert.equal(verdict.equivalent ? 0 : verdict.reasons.length, 2);
  });

  it('a file without a reviewer, or with a malformed id, is refused with a clear error', () => {
    const doc = { version: 1, pairs: [{ ...structuredClone(pair), review: { reviewedOn: '2026-12-01' } }] };
    assert.throws(() => parseArbitrageMapping(doc, 'x.yaml'), (e: Error) => e instanceof MappingError && /x\.yaml: .*review\.reviewer/.test(e.message));
    assert.throws(() => parseArbitrageMapping({ version: 1, pairs: [{ ...structuredClone(pair), id: 'Gold Pair' }] }), /lower-case id/);
    assert.throws(() => parseArbitrageMapping({ version: 1, pairs: [pair, pair] }), /appears twice/);
  });
});

describe('cross-venue gap detection (net of both venues\' taker fees)', () => {
  const pair = loadArbitrageMapping(MAPPING_FILE).pairs[0]!;
  const fees: CrossVenueFees = { kalshi: { takerRate: d('0.07') }, polymarket: { rate: d('0.02'), exponent: 1 } };
  const rules = { minEdgePerContract: d('0.01'), maxSize: d('10'), minSize: d('5') };
  const ask = (price: string, size: string) => ({ price: d(price), size: d(size) });

  it('YES on Polymarket at 0.47 + NO on Kalshi at 0.37: edge after fees, sized by the thinner book', () => {
    const books: Record<'kalshi' | 'polymarket', PairBook> = { kalshi: { no: ask('0.37', '8.5') }, polymarket: { yes: ask('0.47', '1401.82') } };
    const gap = detectCrossVenueGap(books, fees, rules)!;
    assert.equal(gap.yesOn, 'polymarket');
    assert.equal(gap.size.toString(), '8', 'whole contracts of the thinner side');
    // Kalshi: 0.07 × 8 × 0.37 × 0.63 = 0.130536 → 0.1306 (rounded up to $0.0001); Polymarket: 8 × 0.02 × 0.47 × 0.53 = 0.039856 → 0.03985 (floored to 5 decimals).
    assert.equal(gap.noFee.toString(), '0.1306');
    assert.equal(gap.yesFee.toString(), '0.03985');
    assert.equal(gap.cost.toString(), '6.89045');
    assert.equal(gap.edge.toString(), '1.10955');
  });

  it('no gap when the asks plus fees reach $1, or the edge is under the minimum', () => {
    assert.equal(detectCrossVenueGap({ kalshi: { no: ask('0.53', '100') }, polymarket: { yes: ask('0.47', '100') } }, fees, rules), undefined);
    // 0.50 + 0.47 = 0.97: 3 cents before fees, 0.756 cents after them.
    const thin = { kalshi: { no: ask('0.47', '100') }, polymarket: { yes: ask('0.50', '100') } };
    const edge = detectCrossVenueGap(thin, fees, { ...rules, minEdgePerContract: d('0') })!.edgePerContract;
    assert.equal(edge.toString(), '0.00756');
    assert.equal(detectCrossVenueGap(thin, fees, rules), undefined);
  });

  it('takes the better direction, and skips one side too thin for the minimum size', () => {
    const books = { kalshi: { yes: ask('0.40', '100'), no: ask('0.30', '100') }, polymarket: { yes: ask('0.55', '100'), no: ask('0.50', '100') } };
    const gap = detectCrossVenueGap(books, fees, rules)!;
    assert.deepEqual([gap.yesOn, gap.noOn], ['polymarket', 'kalshi'], 'YES 0.55 + NO 0.30 beats YES 0.40 + NO 0.50');
    assert.equal(detectCrossVenueGap({ ...books, kalshi: { yes: ask('0.40', '100'), no: ask('0.30', '4') } }, fees, rules)!.yesOn, 'kalshi');
  });

  it('maps the pair\'s yes/no onto each venue\'s contracts (a Kalshi NO-worded pair flips)', () => {
    assert.deepEqual(pairContract(pair, 'kalshi', 'no'), { market: 'KXGOLD15M-26AUG101830-30', outcome: 'no' });
    assert.deepEqual(pairContract({ ...pair, kalshi: { ...pair.kalshi, outcome: 'no' } }, 'kalshi', 'yes'), { market: 'KXGOLD15M-26AUG101830-30', outcome: 'no' });
    assert.deepEqual(pairContract(pair, 'polymarket', 'no'), { market: pair.polymarket.tokenId, outcome: 'no' });
    const gap = detectCrossVenueGap({ kalshi: { no: ask('0.37', '20') }, polymarket: { yes: ask('0.47', '20') } }, fees, rules)!;
    const plan = crossVenueBasket(pair, gap, { basketId: 'arb/x/1', strategyId: 's', unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 } });
    assert.deepEqual(plan.legs.map((l) => [l.legId, l.venue, l.outcome, l.limitPrice, l.size]), [['yes-polymarket', 'polymarket', 'yes', '0.4700', '10'], ['no-kalshi', 'kalshi', 'no', '0.3700', '10']]);
  });
});

describe('basket legs: deterministic orders and the rollback rule', () => {
  const plan: BasketPlan = {
    basketId: 'arb/p/run/1',
    strategyId: 'cross-venue-arb',
    legs: [
      { legId: 'yes-polymarket', venue: 'polymarket', market: 'tok', outcome: 'yes', limitPrice: '0.47', size: '10' },
      { legId: 'no-kalshi', venue: 'kalshi', market: 'KX', outcome: 'no', limitPrice: '0.37', size: '10' },
      { legId: 'b3', venue: 'kalshi', market: 'KY', outcome: 'yes', limitPrice: '0.05', size: '10' },
    ],
    unwind: { stepPrice: '0.02', floorPrice: '0.01', attempts: 3 },
  };

  it('keeps the complete sets and unwinds every leg\'s excess (N legs)', () => {
    const r = rollbackRule([{ legId: 'a', filled: d('10') }, { legId: 'b', filled: d('6') }, { legId: 'c', filled: d('8') }]);
    assert.equal(r.completeSets.toString(), '6');
    assert.deepEqual(r.unwinds.map((u) => [u.legId, u.size.toString()]), [['a', '4'], ['c', '2']]);
    assert.deepEqual(rollbackRule([{ legId: 'a', filled: d('10') }, { legId: 'b', filled: d('0') }]).unwinds.map((u) => u.size.toString()), ['10'], 'one leg refused: all of the other unwinds');
    assert.deepEqual(rollbackRule([{ legId: 'a', filled: d('5') }, { legId: 'b', filled: d('5') }]).unwinds, []);
  });

  it('client order ids derive from basket and leg; unwinds step down on the cent grid to the floor', () => {
    const [leg, , cheap] = plan.legs;
    assert.equal(entryOrder(plan, leg!).clientOrderId, 'arb/p/run/1:yes-polymarket:entry');
    const u2 = unwindOrder(plan, leg!, 2, d('4'));
    assert.deepEqual([u2.clientOrderId, u2.action, u2.tif, u2.limitPrice, u2.size, u2.reduceOnly], ['arb/p/run/1:yes-polymarket:unwind:2', 'sell', 'ioc', '0.4300', '4', true]);
    assert.equal(unwindLimit(plan, cheap!, 3).toString(), '0.01');
  });

  it('a leg\'s result: bought, sold back, fees and realized P&L net of every fee', () => {
    const leg = plan.legs[0]!;
    const entry = { clientOrderId: 'e', status: 'filled' as const, size: '10', filled: '10', fees: '0.04982', fills: [{ price: '0.47', size: '10', liquidity: 'taker' as const, fee: '0.04982', tsMs: 1 }] };
    // The venue reported the unwind's matched size before its fills: the limit price stands in.
    const unwind = { clientOrderId: 'u', status: 'filled' as const, size: '10', filled: '10', fees: '0', fills: [], limitPriceHint: '0.45' };
    const r = legResult(leg, entry, [unwind]);
    assert.deepEqual([r.bought, r.sold, r.held, r.averageBuyPrice, r.averageSellPrice, r.fees, r.realizedPnl], ['10', '10', '0', '0.470000', '0.450000', '0.049820', '-0.249820']);
  });
});

describe('report pnl: summed across venues', () => {
  it('each day\'s total is the sum of its venues; the window total has one row per venue', () => {
    const report = pnlAcrossVenues([
      { day: '2026-12-01', venue: 'kalshi', positions: 2, wins: 1, losses: 1, pnl: '1.1', fees: '0.2' },
      { day: '2026-12-01', venue: 'polymarket', positions: 1, wins: 0, losses: 1, pnl: '-0.3', fees: '0.05' },
      { day: '2026-12-02', venue: 'kalshi', positions: 1, wins: 1, losses: 0, pnl: '0.1', fees: '0.01' },
    ]);
    assert.deepEqual(report.days.map((x) => [x.day, x.positions, x.pnl, x.fees, x.venues.map((v) => v.venue)]), [['2026-12-01', 3, '0.8', '0.25', ['kalshi', 'polymarket']], ['2026-12-02', 1, '0.1', '0.01', ['kalshi']]]);
    assert.deepEqual([report.total.pnl, report.total.venues.map((v) => [v.venue, v.pnl])], ['0.9', [['kalshi', '1.2'], ['polymarket', '-0.3']]]);
  });
});
