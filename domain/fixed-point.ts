import { Dec } from './decimal';

/**
 * Exact integer units for hot paths: prices in 1e-4 dollars, sizes in 1e-6 contracts. Parsing is
 * done on the text, so no value ever passes through a binary float.
 */
export const PRICE_DECIMALS = 4;
// Kalshi sizes carry 2 decimals, Polymarket share amounts 6; one unit size serves both.
export const SIZE_DECIMALS = 6;
export const PRICE_SCALE = 10 ** PRICE_DECIMALS;
/** $1.00 in price units: a YES price p and a NO price (1 − p) add up to this. */
export const ONE_DOLLAR = PRICE_SCALE;

const FIXED_TEXT = /^([-+]?)(\d*)(?:\.(\d*))?$/;

/** "0.6800" → 6800 (decimals = 4). Throws if the text has more precision than `decimals` allows. */
export function textToUnits(text: string, decimals: number): number {
  const m = FIXED_TEXT.exec(text);
  if (!m || !/\d/.test(text)) throw new Error(`not a fixed-point number: ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = ''] = m;
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > decimals) throw new Error(`${JSON.stringify(text)} has more than ${decimals} decimals`);
  const units = Number(whole || '0') * 10 ** decimals + (trimmed ? Number(trimmed.padEnd(decimals, '0')) : 0);
  if (!Number.isSafeInteger(units)) throw new Error(`${JSON.stringify(text)} is out of range`);
  return sign === '-' ? -units : units;
}

export function unitsToText(units: number, decimals: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(units)).padStart(decimals + 1, '0');
  const text = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return negative ? `-${text}` : text;
}

export const priceUnits = (text: string) => textToUnits(text, PRICE_DECIMALS);
export const sizeUnits = (text: string) => textToUnits(text, SIZE_DECIMALS);
export const priceText = (units: number) => unitsToText(units, PRICE_DECIMALS);
export const sizeText = (units: number) => unitsToText(units, SIZE_DECIMALS);
export const priceDecimal = (units: number) => new Dec(priceText(units));
export const sizeDecimal = (units: number) => new Dec(sizeText(units));
