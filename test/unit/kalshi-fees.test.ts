import assert from 'node:assert/strict';
import { Dec } from '../../domain/decimal';
import { DIRECT_MEMBER_BALANCE_PRECISION, kalshiFee, kalshiFeeRate, KalshiOrderFeeAccumulator, kalshiOrderFeeDifferences, MEMBER_BALANCE_PRECISION, type KalshiFillCharge } from '../../domain/fees';
import { priceUnits, sizeUnits } from '../../domain/fixed-point';
import { BinaryOrderBook } from '../../domain/market-data/order-book';
import { seededRandom } from '../../domain/random';
import { orderStateWire, SimMatchingEngine } from '../../domain/sim/matching';

const d = (x: string | number) => new Dec(x);
const RATES = { takerRate: d('0.07'), makerRate: d('0.0175') };

/** Three equal fills of one order through a fresh accumulator. */
function threeFills(contracts: string, price: string, tradeFee: string, precision: Dec = MEMBER_BALANCE_PRECISION): KalshiFillCharge[] {
  const acc = new KalshiOrderFeeAccumulator(precision);
  return [1, 2, 3].map(() => acc.charge({ action: 'buy', contracts: d(contracts), price: d(price), tradeFee: d(tradeFee) }));
}
/** The docs' table columns: net fee, rebate, balance change, and the accumulator once the fill's rounding is added (before its rebate). */
function columns(charges: KalshiFillCharge[]) {
  let accumulated = d(0);
  return charges.map((c) => {
    accumulated = accumulated.plus(c.roundingFee);
    const shown = accumulated;
    accumulated = accumulated.minus(c.rebate);
    return { rounding: c.roundingFee.toString(), accumulator: shown.toString(), rebate: c.rebate.toString(), net: c.fee.toString(), balanceChange: c.balanceChange.toString() };
  });
}

describe('Kalshi fees: trade fee, balance rounding, per-order accumulator', () => {
  // Source for the three examples: https://docs.kalshi.com/getting_started/fee_rounding ("Worked Examples",
  // target balance precision $0.01). The trade fees are the docs' inputs, quoted as given.
  it('docs example "Subpenny prices: buy 3 contracts at $0.055 (three 1-lot matches)"', () => {
    // | 1 | $0.0085 | $0.0065 | $0.0065 | — | $0.0150 | -$0.07 |
    // | 2 | $0.0085 | $0.0065 | $0.0130 | $0.0100 | $0.0050 | -$0.07 |
    // | 3 | $0.0085 | $0.0065 | $0.0095 | — | $0.0150 | -$0.07 |
    assert.deepEqual(columns(threeFills('1', '0.055', '0.0085')), [
      { rounding: '0.0065', accumulator: '0.0065', rebate: '0', net: '0.015', balanceChange: '-0.07' },
      { rounding: '0.0065', accumulator: '0.013', rebate: '0.01', net: '0.005', balanceChange: '-0.07' },
      { rounding: '0.0065', accumulator: '0.0095', rebate: '0', net: '0.015', balanceChange: '-0.07' },
    ]);
  });

  it('docs example "Fractional contracts: buy 0.90 contracts at $0.50 (three 0.30-lot matches)"', () => {
    // | 1 | $0.0041 | $0.0059 | $0.0059 | — | $0.0100 | -$0.16 |
    // | 2 | $0.0041 | $0.0059 | $0.0118 | $0.0100 | $0.0000 | -$0.16 |
    // | 3 | $0.0041 | $0.0059 | $0.0077 | — | $0.0100 | -$0.16 |
    assert.deepEqual(columns(threeFills('0.30', '0.50', '0.0041')), [
      { rounding: '0.0059', accumulator: '0.0059', rebate: '0', net: '0.01', balanceChange: '-0.16' },
      { rounding: '0.0059', accumulator: '0.0118', rebate: '0.01', net: '0', balanceChange: '-0.16' },
      { rounding: '0.0059', accumulator: '0.0077', rebate: '0', net: '0.01', balanceChange: '-0.16' },
    ]);
  });

  it('docs example "Combined: fractional contracts + subpenny prices (three 0.03-lot matches)"', () => {
    // | 1 | $0.0005 | $0.009597 | $0.009597 | — | $0.010097 | -$0.02 |
    // | 2 | $0.0005 | $0.009597 | $0.019194 | $0.0100 | $0.000097 | -$0.02 |
    // | 3 | $0.0005 | $0.009597 | $0.018791 | $0.0100 | $0.000097 | -$0.02 |
    // Fill 3 gets one cent although the accumulator holds $0.028791: one whole-cent rebate per fill.
    assert.deepEqual(columns(threeFills('0.03', '0.3301', '0.0005')), [
      { rounding: '0.009597', accumulator: '0.009597', rebate: '0', net: '0.010097', balanceChange: '-0.02' },
      { rounding: '0.009597', accumulator: '0.019194', rebate: '0.01', net: '0.000097', balanceChange: '-0.02' },
      { rounding: '0.009597', accumulator: '0.018791', rebate: '0.01', net: '0.000097', balanceChange: '-0.02' },
    ]);
    // And that example's trade fee is our trade fee: 0.07 × 0.03 × 0.3301 × 0.6699 = $0.000464…, up to $0.0005.
    assert.equal(kalshiFee({ contracts: d('0.03'), price: d('0.3301'), rate: d('0.07') }).toString(), '0.0005');
  });

  it('a direct member ("apply the same mechanics with $0.0001") pays the trade fee plus rounding to the centicent', () => {
    assert.deepEqual(threeFills('1', '0.055', '0.0085', DIRECT_MEMBER_BALANCE_PRECISION).map((c) => c.fee.toString()), ['0.0085', '0.0085', '0.0085'], '-$0.0635 is already on the $0.0001 grid');
    assert.deepEqual(threeFills('0.03', '0.3301', '0.0005', DIRECT_MEMBER_BALANCE_PRECISION).map((c) => [c.roundingFee.toString(), c.fee.toString()]), [['0.000097', '0.000597'], ['0.000097', '0.000597'], ['0.000097', '0.000597']]);
  });

  it('a sell receives its revenue: the balance is floored, so the rounding fee is still what the seller gives up', () => {
    // 10 × $0.45 maker sell: trade fee $0.0434 (0.0175 × 10 × 0.2475 = 0.0433125), +$4.50 − $0.0434 = $4.4566 → $4.45.
    const charge = new KalshiOrderFeeAccumulator(MEMBER_BALANCE_PRECISION).charge({ action: 'sell', contracts: d(10), price: d('0.45'), tradeFee: kalshiFee({ contracts: d(10), price: d('0.45'), rate: d('0.0175') }) });
    assert.deepEqual([charge.tradeFee.toString(), charge.roundingFee.toString(), charge.fee.toString(), charge.balanceChange.toString()], ['0.0434', '0.0066', '0.05', '4.45']);
  });

  it('a rebate never takes a fill below zero: it waits for a fill that can carry it', () => {
    const acc = new KalshiOrderFeeAccumulator(MEMBER_BALANCE_PRECISION);
    // 0.03 × $0.50: trade fee $0.0006, −$0.0156 → −$0.02, rounding $0.0044, net $0.005 (less than a cent).
    const fill = () => acc.charge({ action: 'buy', contracts: d('0.03'), price: d('0.50'), tradeFee: d('0.0006') });
    const small = [fill(), fill(), fill()];
    assert.deepEqual(small.map((c) => c.fee.toString()), ['0.005', '0.005', '0.005'], 'the third takes the accumulator past $0.01 but a rebate would make it −$0.005');
    assert.equal(acc.balance.toString(), '0.0132');
    const big = acc.charge({ action: 'buy', contracts: d(1), price: d('0.50'), tradeFee: d('0.0175') });
    assert.deepEqual([big.rebate.toString(), big.fee.toString()], ['0.01', '0.01'], 'the next fill of $0.02 carries it');
  });

  it('maker and taker rates come from the market’s own fee terms when known', () => {
    const withMakerFees = { feeType: 'quadratic_with_maker_fees' as const, multiplier: d('0.5') };
    assert.equal(kalshiFeeRate('maker', RATES).toString(), '0.0175', 'no market terms: the configured maker rate');
    assert.equal(kalshiFeeRate('maker', RATES, { feeType: 'quadratic', multiplier: d(1) }).toString(), '0', 'quadratic series charge makers nothing');
    assert.equal(kalshiFeeRate('maker', RATES, withMakerFees).toString(), '0.00875');
    assert.equal(kalshiFeeRate('taker', RATES, withMakerFees).toString(), '0.035');
    assert.equal(kalshiFeeRate('taker', { ...RATES, seriesMultiplier: d(2) }).toString(), '0.14');
  });

  describe('properties over random orders (seeded)', () => {
    const random = seededRandom(18);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    /** Fills of one order: prices on a cent or a sub-penny grid, whole or fractional counts, taker or maker. */
    const orders = Array.from({ length: 400 }, () => {
      const subpenny = random() < 0.5;
      const fractional = random() < 0.5;
      const action = pick(['buy', 'sell'] as const);
      return Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
        const price = subpenny ? d(1 + Math.floor(random() * 9998)).div(10_000) : d(1 + Math.floor(random() * 99)).div(100);
        const contracts = fractional ? d(1 + Math.floor(random() * 5000)).div(100) : d(1 + Math.floor(random() * 50));
        const liquidity = pick(['maker', 'taker'] as const);
        return { action, price, contracts, tradeFee: kalshiFee({ contracts, price, rate: kalshiFeeRate(liquidity, RATES) }) };
      });
    });
    const run = (fills: (typeof orders)[number], precision: Dec) => {
      const acc = new KalshiOrderFeeAccumulator(precision);
      const charges = fills.map((f) => acc.charge(f));
      return { charges, total: charges.reduce((n, c) => n.plus(c.fee), d(0)), tradeFees: charges.reduce((n, c) => n.plus(c.tradeFee), d(0)), balance: acc.balance };
    };

    it('charges are never negative; a rounding fee is under the balance precision; rebates are whole cents', () => {
      for (const precision of [MEMBER_BALANCE_PRECISION, DIRECT_MEMBER_BALANCE_PRECISION])
        for (const fills of orders)
          for (const c of run(fills, precision).charges) {
            assert.ok(c.fee.gte(0), `fee ${c.fee.toString()}`);
            assert.ok(c.roundingFee.gte(0) && c.roundingFee.lt(precision), `rounding ${c.roundingFee.toString()}`);
            assert.ok(c.rebate.isZero() || c.rebate.eq('0.01'));
            assert.ok(c.balanceChange.div(precision).isInteger(), 'the balance stays on its precision');
          }
    });

    it('an order pays its trade fees plus what its accumulator still holds: nothing is lost or made up', () => {
      for (const fills of orders) {
        const { total, tradeFees, balance } = run(fills, MEMBER_BALANCE_PRECISION);
        assert.equal(total.toString(), tradeFees.plus(balance).toString());
      }
    });

    it('direct vs non-direct: one fill differs by less than a cent; an order by less than two (its accumulator), rebates deferred aside', () => {
      let deferred = 0;
      for (const fills of orders) {
        const member = run(fills, MEMBER_BALANCE_PRECISION);
        const direct = run(fills, DIRECT_MEMBER_BALANCE_PRECISION);
        const first = member.charges[0]!.fee.minus(direct.charges[0]!.fee);
        assert.ok(first.gte(0) && first.lt('0.01'), `first fill: ${first.toString()}`);
        // A rebate waits only while fills cost under a cent each (sub-cent notionals); then the bound is the wait.
        if (member.balance.gte('0.02')) {
          deferred++;
          continue;
        }
        // Each total is its trade fees plus its accumulator: the difference is the two accumulators'.
        const difference = member.total.minus(direct.total);
        assert.equal(difference.toString(), member.balance.minus(direct.balance).toString());
        assert.ok(difference.abs().lt('0.02'), `order: ${difference.toString()}`);
      }
      assert.ok(deferred < orders.length / 20, `deferred rebates in ${deferred} orders`);
    });
  });

  describe('in the paper matching engine', () => {
    const p = priceUnits;
    const c = (n: number) => sizeUnits(String(n));
    /** YES asks 0.45×30, 0.50×80 (NO bids 0.55, 0.50). */
    const book = () => {
      const b = new BinaryOrderBook('M');
      b.applySnapshot([{ price: p('0.40'), size: c(100) }], [{ price: p('0.55'), size: c(30) }, { price: p('0.50'), size: c(80) }], 0);
      return b;
    };
    const submit = (engine: SimMatchingEngine, size: number) => engine.submit({ clientOrderId: 'o1', market: 'M', outcome: 'yes', action: 'buy', limitPrice: p('0.50'), size: c(size), tif: 'ioc' }, book(), 1);

    it('an order is charged through its accumulator; its fees are the sum of its fills’ charges', () => {
      const state = submit(new SimMatchingEngine({ ...RATES, balancePrecision: MEMBER_BALANCE_PRECISION }), 110);
      // 30 × $0.45: trade fee $0.5198 → $0.52 (rounding $0.0002); 80 × $0.50: $1.40 exactly.
      assert.deepEqual(state.fills.map((f) => f.fee.toString()), ['0.52', '1.4']);
      assert.equal(orderStateWire(state).fees, '1.920000');
    });

    it('a direct member (the default) pays the trade fee alone on whole contracts at cent prices', () => {
      const state = submit(new SimMatchingEngine(RATES), 110);
      assert.deepEqual(state.fills.map((f) => f.fee.toString()), ['0.5198', '1.4']);
    });

    it("uses the market's own fee terms when it is given them", () => {
      const engine = new SimMatchingEngine({ ...RATES, balancePrecision: DIRECT_MEMBER_BALANCE_PRECISION }, () => ({ feeType: 'quadratic', multiplier: d('0.5') }));
      assert.deepEqual(submit(engine, 30).fills.map((f) => f.fee.toString()), ['0.2599'], '0.035 × 30 × 0.2475 = 0.259875');
    });
  });

  it('the venue check replays an order’s fills through the accumulator: a rebated fill is not a difference', () => {
    const fill = (fillId: string, fee: string) => ({ fillId, liquidity: 'taker' as const, action: 'buy' as const, contracts: d('0.30'), price: d('0.50'), fee: d(fee) });
    // 0.30 × $0.50 taker: trade fee $0.0053, −$0.1553 → −$0.16, rounding $0.0047; the third fill's accumulator passes $0.01.
    const member = { ...RATES, balancePrecision: MEMBER_BALANCE_PRECISION };
    assert.deepEqual(kalshiOrderFeeDifferences([fill('a', '0.0100'), fill('b', '0.0100'), fill('c', '0.0000')], member), []);
    assert.deepEqual(
      kalshiOrderFeeDifferences([fill('a', '0.0100'), fill('b', '0.0100'), fill('c', '0.0100')], member).map((x) => [x.fillId, x.expectedFee]),
      [['c', '0.0000']],
    );
  });
});
