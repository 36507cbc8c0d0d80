import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configuredFees, withConfiguredTakerFee } from '../../config/fees';
import { resolveConfig } from '../../config/load';
import { Dec } from '../../domain/decimal';
import { momentumStrategy } from '../../domain/strategies/momentum';
import { decideEntry, type EntrySignal, type StrategyRules } from '../../domain/trading/strategy-rules';
import { kalshiMarketFees, takerFeeRate } from '../../domain/trading/taker-fee';
import { kalshiEventSchema, kalshiSeriesSchema } from '../../venues/kalshi/rest-client';

const SPECS = path.resolve(__dirname, '..', '..', '..', 'shared', 'specs', 'kalshi', 'fixtures-rest-2026-01');
const { config } = resolveConfig({});
const configured = configuredFees(config);

describe('taker fee: one rule, from the market when the venue says, else config', () => {
  it('reads a recorded Kalshi series (fee_type, fee_multiplier) as the market fee terms', () => {
    const recorded = JSON.parse(readFileSync(path.join(SPECS, 'series_single_response.json'), 'utf8')) as { response: { series: unknown } };
    const series = kalshiSeriesSchema.parse(recorded.response.series);
    const fees = kalshiMarketFees(series);
    assert.deepEqual(fees && { feeType: fees.feeType, multiplier: fees.multiplier.toString() }, { feeType: 'quadratic', multiplier: '1' });
    assert.equal(takerFeeRate(configured, fees).toString(), config.fees.kalshiTakerRate.toString());
  });

  it('an event override replaces the series terms, as a pair', () => {
    const series = { fee_type: 'quadratic', fee_multiplier: 1 };
    const event = kalshiEventSchema.parse({ event_ticker: 'E', fee_type_override: 'quadratic_with_maker_fees', fee_multiplier_override: 0.5 });
    assert.equal(takerFeeRate(configured, kalshiMarketFees(series, event)).toString(), config.fees.kalshiTakerRate.times('0.5').toString());
    assert.equal(kalshiMarketFees(series, { fee_type_override: null, fee_multiplier_override: null })?.multiplier.toString(), '1', 'a cleared override falls back to the series');
  });

  it('without usable terms the configured rate and multiplier apply', () => {
    assert.equal(kalshiMarketFees({}), undefined);
    assert.equal(kalshiMarketFees({ fee_type: 'per_contract_surcharge', fee_multiplier: 1 }), undefined, 'an unknown fee type is not guessed at');
    const doubled = configuredFees(resolveConfig({ inline: { 'paper.seriesFeeMultiplier': '2' } }).config);
    assert.equal(takerFeeRate(doubled).toString(), config.fees.kalshiTakerRate.times(2).toString());
    assert.equal(takerFeeRate(doubled, { feeType: 'quadratic', multiplier: new Dec('0.5') }).toString(), config.fees.kalshiTakerRate.times('0.5').toString(), "the market's own multiplier wins");
  });

  it('strategies do not state the fee: a run gets the configured one', () => {
    assert.equal(momentumStrategy(config).rules.takerFeeRate, undefined);
    assert.equal(withConfiguredTakerFee(momentumStrategy(config).rules, config).takerFeeRate, takerFeeRate(configured).toString());
  });

  it("an entry uses the signal's market rate over the run's, and refuses without either", () => {
    const rules: StrategyRules = { minEdge: '0.02', maxConcurrent: 3, size: '10', entrySlippageTicks: 1, tick: '0.01', entryTimeoutMs: 1000 };
    const signal: EntrySignal = { signalId: 's', market: 'M', outcome: 'yes', modelProbability: '0.60', ask: '0.55', closeTimeMs: 0, reason: 'test' };
    // Fee per contract at 0.55 (10 contracts, rounded up to $0.0001): 0.07 → 0.01733 (edge 0.0327); 0.14 → 0.03465 (edge 0.0154 < 0.02).
    assert.equal(decideEntry(signal, [], { ...rules, takerFeeRate: '0.07' }).decision, 'entered');
    assert.deepEqual(decideEntry({ ...signal, takerFeeRate: '0.14' }, [], { ...rules, takerFeeRate: '0.07' }), { decision: 'rejected', why: 'edge 0.0154 < 0.02' });
    assert.equal(decideEntry({ ...signal, takerFeeRate: '0.07' }, [], rules).decision, 'entered');
    assert.match(decideEntry(signal, [], rules).why, /no taker fee rate for M/);
  });
});
