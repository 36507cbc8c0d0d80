import assert from 'node:assert/strict';
import { Dec, decimalString, decimalValue, parseDecimal, toWire } from '../../domain/decimal';

describe('decimal', () => {
  it('parses decimal strings exactly', () => {
    assert.equal(parseDecimal('0.1').plus(parseDecimal('0.2')).toString(), '0.3');
    assert.equal(parseDecimal(' 46.02 ').toString(), '46.02');
  });
  it('rejects non-decimal text', () => {
    for (const bad of ['', 'abc', '1e5', '0x10', 'NaN', 'Infinity', '1.2.3']) assert.throws(() => parseDecimal(bad), /not a decimal number/);
  });
  it('zod schemas reject numbers: prices travel as strings', () => {
    assert.equal(decimalString.safeParse(0.5).success, false);
    assert.ok(decimalValue.parse('0.6800').equals(new Dec('0.68')));
  });
  it('serialises to a canonical wire form', () => {
    assert.equal(toWire(new Dec('0.68'), 4), '0.6800');
  });
});
