import { z } from 'zod';
import { ValidationError } from '../errors';
import { outcomeSchema } from '../trading/wire';
import { describeIssues } from '../validation';

/*
 * The reviewed mapping of contracts that pay on the same thing at two venues. Cross-venue arbitrage
 * trades only pairs written here by a person and reviewed: equivalence is never guessed from titles.
 * Each side states, in its venue's own terms, the underlying event, the outcome it pays $1 on, the
 * settlement source and the settlement time; `checkEquivalence` refuses a pair where they differ.
 */

const text = z.string().trim().min(1).max(500);
const isoTime = z.string().datetime({ offset: true });
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected a date as YYYY-MM-DD' });

/** What one side of a pair says about the contract: checked against the other side, field by field. */
const contractTermsSchema = z.object({
  /** The underlying event as this venue's rules state it (e.g. "COMEX gold front-month price at 2026-08-10 18:30 ET"). */
  event: text,
  /** The outcome this leg pays $1 on, stated the same way on both sides (e.g. "at or above 4128.56"). */
  pays: text,
  /** Who or what decides the result (e.g. "CME Group gold futures settlement price"). */
  settlementSource: text,
  /** When the result is fixed. */
  settlementTime: isoTime,
});

export const kalshiSideSchema = contractTermsSchema.extend({
  /** Kalshi market ticker. */
  market: z.string().trim().regex(/^[A-Z0-9][A-Z0-9._-]*$/, { message: 'expected a Kalshi market ticker (upper case)' }),
  /** Which Kalshi side pays on `pays`: YES, or NO for a contract worded the other way round. */
  outcome: outcomeSchema,
});

export const polymarketSideSchema = contractTermsSchema.extend({
  conditionId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, { message: 'expected a condition id (0x + 64 hex digits)' }),
  /** The token (asset id) that pays on `pays`. */
  tokenId: z.string().regex(/^\d{1,80}$/, { message: 'expected a token id (decimal digits)' }),
  /** The market's other token: it pays when `pays` does not happen. */
  complementTokenId: z.string().regex(/^\d{1,80}$/, { message: 'expected a token id (decimal digits)' }),
  /** The venue's label of the token (e.g. "Yes"): for people reading the file. */
  outcomeLabel: text,
  /** The market's taker fee curve exponent (fee = C × rate × (p(1−p))^exponent); the rate is the market's own. */
  feeExponent: z.number().int().min(0).max(4).prefault(1),
});

export const arbitragePairSchema = z.object({
  id: z.string().trim().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'expected a lower-case id of letters, digits and dashes' }),
  kalshi: kalshiSideSchema,
  polymarket: polymarketSideSchema,
  review: z.object({ reviewer: text, reviewedOn: isoDate, notes: z.string().max(2000).optional() }),
  /** True when the pairing was made up for a test (no real overlapping pair): stated, never hidden. */
  synthetic: z.boolean().prefault(false),
});
export type ArbitragePair = z.infer<typeof arbitragePairSchema>;

export const arbitrageMappingSchema = z.object({
  version: z.literal(1),
  /**
   * How far apart the two settlement times may be. Venues state close times to the minute or
   * second; beyond this the contracts can settle on different prints and are not the same.
   */
  settlementTimeToleranceSeconds: z.number().int().min(0).max(3600).prefault(60),
  pairs: z.array(arbitragePairSchema).min(1),
});
export type ArbitrageMapping = z.infer<typeof arbitrageMappingSchema>;

/** A mapping file that cannot be used as written. */
export class MappingError extends ValidationError {}

/** Parses a mapping document (already read from YAML); a bad file gets one error naming every problem. */
export function parseArbitrageMapping(doc: unknown, source = 'mapping'): ArbitrageMapping {
  const parsed = arbitrageMappingSchema.safeParse(doc);
  if (!parsed.success) throw new MappingError(`${source}: ${describeIssues(parsed.error.issues)}`);
  const ids = new Set<string>();
  for (const p of parsed.data.pairs) {
    if (ids.has(p.id)) throw new MappingError(`${source}: pair id ${p.id} appears twice`);
    ids.add(p.id);
  }
  return parsed.data;
}

export type Equivalence = { equivalent: true } | { equivalent: false; reasons: string[] };

/** Compares stated terms: case, spacing and trailing punctuation do not count, words do. */
function normalized(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.;,]+$/, '');
}

/**
 * Whether the two sides of a pair are the same contract: same underlying event, same outcome,
 * same settlement source, settlement times within the file's tolerance, a reviewer and review date
 * no later than `nowMs`, and a Polymarket token distinct from its complement. Every difference is
 * named, so the file's author sees all that is wrong at once.
 */
export function checkEquivalence(pair: ArbitragePair, opts: { settlementTimeToleranceSeconds: number; nowMs: number }): Equivalence {
  const reasons: string[] = [];
  const { kalshi: k, polymarket: p } = pair;
  if (normalized(k.event) !== normalized(p.event)) reasons.push(`underlying event differs: Kalshi "${k.event}" vs Polymarket "${p.event}"`);
  if (normalized(k.pays) !== normalized(p.pays)) reasons.push(`outcome differs: Kalshi ${k.outcome.toUpperCase()} pays on "${k.pays}", Polymarket token pays on "${p.pays}"`);
  if (normalized(k.settlementSource) !== normalized(p.settlementSource)) reasons.push(`settlement source differs: Kalshi "${k.settlementSource}" vs Polymarket "${p.settlementSource}"`);
  const apartMs = Math.abs(Date.parse(k.settlementTime) - Date.parse(p.settlementTime));
  if (apartMs > opts.settlementTimeToleranceSeconds * 1000) reasons.push(`settlement times ${k.settlementTime} and ${p.settlementTime} are ${apartMs / 1000} s apart (tolerance ${opts.settlementTimeToleranceSeconds} s)`);
  if (p.tokenId === p.complementTokenId) reasons.push('the Polymarket token and its complement are the same token');
  if (Date.parse(`${pair.review.reviewedOn}T00:00:00Z`) > opts.nowMs) reasons.push(`review date ${pair.review.reviewedOn} is in the future`);
  return reasons.length === 0 ? { equivalent: true } : { equivalent: false, reasons };
}

/** The pairs of a mapping that pass `checkEquivalence`, and the refused ones with their reasons. */
export function equivalentPairs(mapping: ArbitrageMapping, nowMs: number): { accepted: ArbitragePair[]; refused: { pair: ArbitragePair; reasons: string[] }[] } {
  const accepted: ArbitragePair[] = [];
  const refused: { pair: ArbitragePair; reasons: string[] }[] = [];
  for (const pair of mapping.pairs) {
    const verdict = checkEquivalence(pair, { settlementTimeToleranceSeconds: mapping.settlementTimeToleranceSeconds, nowMs });
    if (verdict.equivalent) accepted.push(pair);
    else refused.push({ pair, reasons: verdict.reasons });
  }
  return { accepted, refused };
}
