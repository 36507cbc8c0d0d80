import { Dec } from '../../../domain/decimal';
import { ONE_DOLLAR, priceText, priceUnits, sizeDecimal, sizeUnits } from '../../../domain/fixed-point';

// Kalshi's wire forms: prices `FixedPointDollars` (4 decimals), counts `FixedPointCount` (2 decimals
// in responses), money in dollars (4 decimals) and, on legacy fields, integer cents.

export const COUNT_DECIMALS = 2;

export const countFp = (units: number): string => sizeDecimal(units).toFixed(COUNT_DECIMALS);
export const dollars = (amount: Dec): string => amount.toFixed(4);
export const priceDollars = (units: number): string => priceText(units);
export const noPriceDollars = (yesUnits: number): string => priceText(ONE_DOLLAR - yesUnits);
/** Legacy integer cents (truncated toward zero, as Kalshi's integer fields are). */
export const cents = (amount: Dec): number => amount.times(100).toDecimalPlaces(0, Dec.ROUND_DOWN).toNumber();
export const legacyCount = (units: number): number => sizeDecimal(units).toDecimalPlaces(0, Dec.ROUND_DOWN).toNumber();
export const isoTime = (ms: number): string => new Date(ms).toISOString();
export const seconds = (ms: number): number => Math.floor(ms / 1000);

/** A request count: a positive `FixedPointCount` with at most 2 decimals, in 1e-6 units; undefined if invalid. */
export function parseCount(text: string): number | undefined {
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return undefined;
  const units = sizeUnits(text);
  return units > 0 ? units : undefined;
}

/** A request price: a `FixedPointDollars` with at most 4 decimals, in 1e-4 units; undefined if invalid. */
export function parsePrice(text: string): number | undefined {
  if (!/^\d?\.\d{1,4}$|^\d$/.test(text)) return undefined;
  return priceUnits(text);
}
