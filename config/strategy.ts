import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { decimalString } from '../domain/decimal';
import { describeIssues } from '../domain/validation';
import { SIGNAL_TYPES } from '../domain/signals/types';
import { MODEL_EDGE_SIGNAL } from '../domain/sports/model-edge-signal';
import { bucketArbParamsSchema, bucketArbParamsWire } from '../domain/strategies/bucket-arb';

/** What a strategy version holds: the strategy workflow's rules, position timing and what it subscribes to. */
export const strategyConfigSchema = z
  .object({
    rules: z.object({
      minEdge: decimalString,
      maxConcurrent: z.number().int().min(1),
      size: decimalString,
      entrySlippageTicks: z.number().int().min(0),
      tick: decimalString,
      entryTimeoutMs: z.number().int().positive(),
      sizing: z.union([z.object({ kind: z.literal('fixed') }), z.object({ kind: z.literal('kelly'), kellyFraction: decimalString, capital: decimalString })]).optional(),
    }),
    position: z.object({
      cadence: z.object({ normalMs: z.number().int().positive(), urgentMs: z.number().int().positive(), pollMs: z.number().int().positive(), settleTimeoutMs: z.number().int().positive() }),
      exitConfig: z.record(z.string(), z.unknown()).optional(),
      planConfig: z.record(z.string(), z.unknown()).optional(),
    }),
    // The signal engine's detectors, or the sports model-edge path (`model_edge`, priced by `sports.model`).
    signalTypes: z.array(z.enum([...SIGNAL_TYPES, MODEL_EDGE_SIGNAL])).min(1),
    categories: z.array(z.string().min(1)).prefault([]),
  })
  .strict();
export type StrategyConfig = z.infer<typeof strategyConfigSchema>;

/**
 * A bucket-arbitrage strategy version (`kind: bucket-arb`): no signal subscription; it scans mutually
 * exclusive multi-bucket events for baskets. Stored with every parameter written out (defaults filled in).
 */
export const bucketArbStrategyConfigSchema = z
  .object({
    kind: z.literal('bucket-arb'),
    params: bucketArbParamsSchema.prefault({}).transform(bucketArbParamsWire),
    categories: z.array(z.string().min(1)).prefault([]),
  })
  .strict();
export type BucketArbStrategyConfig = z.infer<typeof bucketArbStrategyConfigSchema>;

/** Any strategy version a file may hold: a signal strategy (no `kind`) or a bucket-arb one. */
export type StrategyVersionConfig = StrategyConfig | BucketArbStrategyConfig;

export function isBucketArbConfig(config: unknown): config is BucketArbStrategyConfig {
  return typeof config === 'object' && config !== null && (config as { kind?: unknown }).kind === 'bucket-arb';
}

export function readStrategyConfig(file: string): StrategyVersionConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    // A file that is missing or unreadable is the caller's to fix: say which and why, without a stack.
    throw new Error(`${file}: cannot read the strategy config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (isBucketArbConfig(raw)) {
    const arb = bucketArbStrategyConfigSchema.safeParse(raw);
    if (!arb.success) throw new Error(`${file}: invalid bucket-arb strategy config: ${describeIssues(arb.error.issues)}`);
    return arb.data;
  }
  // Versions stored before the fee came from one place still parse (the key is dropped); a new file may not restate it.
  const rules = (raw as { rules?: unknown } | null)?.rules;
  if (typeof rules === 'object' && rules !== null && 'takerFeeRate' in rules) throw new Error(`${file}: rules.takerFeeRate is not a strategy setting: the taker fee comes from the market's venue metadata, else config fees.kalshiTakerRate`);
  const parsed = strategyConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: invalid strategy config: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

