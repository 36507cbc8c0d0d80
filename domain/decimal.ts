import Decimal from 'decimal.js';
import { z } from 'zod';

// One configured Decimal constructor for the whole engine: prices are dollars at 1e-4, sizes have
// 2 decimals, P&L aggregates many of them; 40 significant digits never rounds any of that.
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Dec = InstanceType<typeof Dec>;

const DECIMAL_TEXT = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/** Parses a decimal string (the only form prices and sizes travel in); throws on anything else. */
export function parseDecimal(text: string): Dec {
  if (!DECIMAL_TEXT.test(text.trim())) throw new Error(`not a decimal number: ${JSON.stringify(text)}`);
  return new Dec(text.trim());
}

/** zod schema: a decimal string, validated; output stays a string (wire form). */
export const decimalString = z.string().trim().regex(DECIMAL_TEXT, { message: 'expected a decimal number as a string, e.g. "0.6800"' });

/** zod schema: a decimal string parsed into a Decimal (config and domain inputs). */
export const decimalValue = decimalString.transform((s) => new Dec(s));

export function nonNegativeDecimal(what: string) {
  return decimalValue.refine((d) => d.gte(0), { message: `${what} must be >= 0` });
}

export function fractionDecimal(what: string) {
  return decimalValue.refine((d) => d.gte(0) && d.lte(1), { message: `${what} must be between 0 and 1` });
}

/** Canonical wire form: fixed number of decimals so equal values serialise identically. */
export function toWire(d: Dec, decimals: number): string {
  return d.toFixed(decimals);
}
