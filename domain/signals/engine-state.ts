import { z } from 'zod';

/**
 * The signal engine's whole state as plain data (JSON values, and Float64Arrays for the correlation
 * matrices' series and moments): what a checkpoint holds so that a restarted signal worker carries
 * on with its windows, pair moments and cooldowns instead of starting empty (an 8 h correlation
 * baseline would otherwise take 8 h to come back). Validated on the way in: a checkpoint is data
 * from outside this process.
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

/**
 * A run of doubles, every one finite: a Float64Array (binary checkpoints), or a list of numbers
 * (JSON; checkpoints written before), which becomes one. Checked in one pass, not per element.
 */
const doubles = z
  .custom<Float64Array | number[]>((v) => v instanceof Float64Array || Array.isArray(v), 'expected a Float64Array or a list of numbers')
  .superRefine((values, ctx) => {
    for (let i = 0; i < values.length; i++) {
      const v: unknown = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        ctx.addIssue({ code: 'custom', message: 'not a finite number', path: [i] });
        return;
      }
    }
  })
  .transform((values) => (values instanceof Float64Array ? values : Float64Array.from(values)));

export const correlationMatrixStateSchema = z.object({
  markets: z.array(z.string().min(1)).min(2),
  windows: z.array(z.number().int().min(2)).min(1),
  samples: count,
  series: doubles,
  moments: doubles,
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
