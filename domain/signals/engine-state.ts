import { z } from 'zod';

/**
 * The signal engine's whole state as plain JSON: what a checkpoint holds so that a restarted signal
 * worker carries on with its windows, pair moments and cooldowns instead of starting empty (an 8 h
 * correlation baseline would otherwise take 8 h to come back). Validated on the way in: a
 * checkpoint is data from outside this process.
 */
const finite = z.number().refine(Number.isFinite, 'not a finite number');
const count = z.number().int().nonnegative();
const pairs = <T extends z.ZodType>(value: T) => z.array(z.tuple([z.string(), value]));

const windowStats = z.object({ index: z.number().int(), volume: finite, yesFlow: finite, noFlow: finite, spreadSum: finite, depthSum: finite, samples: count });
const level = z.object({ price: finite, size: finite });
const tick = z.object({
  market: z.string().min(1),
  ts: finite,
  yesBids: z.array(level),
  noBids: z.array(level),
  trades: z.array(z.object({ ts: finite, price: finite, count: finite, takerSide: z.enum(['yes', 'no']) })),
});

export const trackerStateSchema = z.object({
  market: z.string().min(1),
  category: z.string(),
  closed: z.array(windowStats),
  current: windowStats.optional(),
  last: tick.optional(),
  levels: pairs(z.object({ sizes: z.array(finite), traded: finite, lastWindow: z.number().int() })),
});
export type TrackerState = z.infer<typeof trackerStateSchema>;

export const correlationMatrixStateSchema = z.object({
  markets: z.array(z.string().min(1)).min(2),
  windows: z.array(z.number().int().min(2)).min(1),
  samples: count,
  series: z.array(finite),
  moments: z.array(finite),
});
export type CorrelationMatrixState = z.infer<typeof correlationMatrixStateSchema>;

export const groupStateSchema = z.object({
  key: z.string(),
  markets: z.array(z.string().min(1)),
  matrix: correlationMatrixStateSchema.optional(),
  lastMid: pairs(finite),
  sampledMid: pairs(finite),
  volumeSinceSample: pairs(finite),
  volumes: pairs(z.array(finite)),
  nextSampleTs: finite.optional(),
  onsets: pairs(finite),
});
export type GroupState = z.infer<typeof groupStateSchema>;

export const SIGNAL_ENGINE_STATE_VERSION = 1;

export const signalEngineStateSchema = z.object({
  version: z.literal(SIGNAL_ENGINE_STATE_VERSION),
  /** Correlation window lengths in samples: a state from other windows cannot be carried on. */
  windowSamples: z.array(z.number().int().min(2)),
  trackers: z.array(trackerStateSchema),
  groups: z.array(groupStateSchema),
  lastFired: pairs(finite),
});
export type SignalEngineState = z.infer<typeof signalEngineStateSchema>;
