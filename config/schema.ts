import { z } from 'zod';
import { fractionDecimal, nonNegativeDecimal } from '../domain/decimal';
import { featureHealthSettingsSchema } from '../domain/feature-health';
import { riskLimitsSchema } from '../domain/risk/risk-manager';
import { DEFAULT_THRESHOLDS, signalThresholdsSchema, SIGNAL_TYPES } from '../domain/signals/types';
import { describeIssues } from '../domain/validation';

const durationMs = z.number().int().positive();

/** A list written as comma-separated text (so it travels through YAML, env and the DB table alike). */
const commaList = <T extends z.ZodType>(item: T) =>
  z.union([z.string(), z.array(z.unknown())]).transform((raw, ctx) => {
    const parts = (Array.isArray(raw) ? raw.map(String) : raw.split(',')).map((p) => p.trim()).filter((p) => p !== '');
    const out: z.output<T>[] = [];
    for (const part of parts) {
      const parsed = item.safeParse(/^-?\d+(\.\d+)?$/.test(part) ? Number(part) : part);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `"${part}": ${parsed.error.issues[0]?.message}` });
        return z.NEVER;
      }
      out.push(parsed.data);
    }
    return out;
  });

/** Per-category threshold overrides as JSON text: {"gold": {"volumeSpikeRatio": 4}}. */
const categoryOverrides = z.string().transform((raw, ctx) => {
  let value: unknown;
  try {
    value = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not JSON: ${(e as Error).message}` });
    return z.NEVER;
  }
  const parsed = z.record(z.string().min(1), signalThresholdsSchema.partial().strict()).safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: describeIssues(parsed.error.issues) });
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * The full Kestrel configuration. Every price/size/fraction is a Decimal (parsed from a string);
 * every duration is in milliseconds so tests can shrink them (no time-skipping in the dev server).
 */
export const configSchema = z.object({
  environment: z.enum(['development', 'test', 'production']).prefault('development'),
  database: z
    .object({
      url: z.string().url().prefault('postgres://postgres@127.0.0.1:5432/kestrel'),
      poolMax: z.number().int().min(1).max(100).prefault(10),
    })
    .prefault({}),
  redis: z
    .object({
      url: z.string().regex(/^rediss?:\/\//, { message: 'expected redis://host:port' }).prefault('redis://127.0.0.1:6379'),
      keyPrefix: z.string().min(1).prefault('kestrel'),
    })
    .prefault({}),
  temporal: z
    .object({
      address: z.string().min(1).prefault('127.0.0.1:7233'),
      namespace: z.string().min(1).prefault('default'),
      taskQueue: z.string().min(1).prefault('kestrel'),
      uiPort: z.number().int().min(1).max(65535).prefault(8233),
      shutdownGraceMs: durationMs.prefault(10_000),
    })
    .prefault({}),
  ingest: z
    .object({
      queueName: z.string().min(1).prefault('kestrel-ingest'),
      batchSize: z.number().int().min(1).max(10_000).prefault(500),
      concurrency: z.number().int().min(1).max(64).prefault(4),
      jobAttempts: z.number().int().min(1).max(100).prefault(5),
    })
    .prefault({}),
  /** The risk manager's limits: the domain's own schema, defaults and all. */
  risk: riskLimitsSchema.prefault({}),
  fees: z
    .object({
      kalshiTakerRate: nonNegativeDecimal('fees.kalshiTakerRate').prefault('0.07'),
      kalshiMakerRate: nonNegativeDecimal('fees.kalshiMakerRate').prefault('0.0175'),
      /** Kalshi direct members' balances settle to $0.0001, everyone else's to $0.01: the fee's rounding part (domain/fees.ts). */
      kalshiDirectMember: z.boolean().prefault(true),
      /**
       * Polymarket's taker fee rate in basis points, what the paper exchange charges takers on a
       * Polymarket market (C × rate × p × (1 − p), floored to $0.00001; makers pay nothing). The
       * recorded markets (polymarket-ws-samples) trade at fee_rate_bps 0.
       */
      polymarketTakerRateBps: z.number().int().min(0).max(10_000).prefault(0),
    })
    .prefault({}),
  marketData: z
    .object({
      queueBase: z.string().min(1).prefault('kestrel-md'),
      partitions: z.number().int().min(1).max(64).prefault(4),
      batchSize: z.number().int().min(1).max(50_000).prefault(2000),
      maxBatchDelayMs: durationMs.prefault(50),
      /** The same for live venue feeds, where a tick's latency to an exit order counts more than batch size. */
      liveMaxBatchDelayMs: durationMs.prefault(5),
      historyCapacity: z.number().int().min(10).max(1_000_000).prefault(1000),
      historySampleMs: z.number().int().min(0).prefault(1000),
      historyRetentionDays: z.number().int().min(1).prefault(30),
      /** How often the daily roll-up and retention job runs. */
      maintenanceEveryMs: durationMs.prefault(3_600_000),
      /**
       * Each partition is owned by one live process through a Redis lease of this TTL, renewed every
       * third of it: a dead owner's partitions are taken over within about this long.
       */
      leaseTtlMs: z.number().int().min(300, 'marketData.leaseTtlMs must be at least 300 ms (it is renewed every third of it)').max(600_000).prefault(5000),
      /** Live Kalshi feed (`--feed kalshi`): which markets to discover by REST and follow. */
      kalshi: z
        .object({
          series: commaList(z.string().min(1)).prefault('KXGOLD15M'),
          events: commaList(z.string().min(1)).prefault(''),
          status: z.enum(['open', 'unopened', 'closed', 'settled', '']).prefault('open'),
          maxMarkets: z.number().int().min(1).max(10_000).prefault(200),
        })
        .prefault({}),
      /** Polymarket feed: the tokens (asset ids) to follow; empty: the open markets REST /markets lists, at most maxMarkets markets. */
      polymarket: z
        .object({
          assets: commaList(z.string().regex(/^\d{1,78}$/, 'a Polymarket asset (token) id is a decimal number')).prefault(''),
          maxMarkets: z.number().int().min(1).max(10_000).prefault(50),
        })
        .prefault({}),
    })
    .prefault({}),
  venues: z
    .object({
      /** Where the position workflows' orders go: the paper exchange, Kalshi or Polymarket (venues.<venue>.environment says which one). */
      execution: z.enum(['paper', 'kalshi', 'polymarket']).prefault('paper'),
      /**
       * Exits on pushed book updates: a book batch that triggers an open position's exit wakes it at
       * once (not at its next poll), at most once per this interval per position (0: polling only).
       */
      exitWatchMinIntervalMs: z.number().int().min(0).prefault(200),
      /**
       * How often open positions are valued against the total-exposure limit; over it, the largest
       * are asked to exit (the `rebalance` exit, LOW). 0 turns the rebalance watch off.
       */
      rebalanceEveryMs: z.number().int().min(0).prefault(60_000),
      kalshi: z
        .object({
          /** Which Kalshi to talk to: the documented production or demo hosts, or the local emulator (`kestrel venue emulate kalshi`). */
          environment: z.enum(['production', 'demo', 'emulator']).prefault('demo'),
          /** Overrides of the environment's URLs (empty: the environment's own). */
          restUrl: z.union([z.literal(''), z.string().url()]).prefault(''),
          wsUrl: z.union([z.literal(''), z.string().regex(/^wss?:\/\//)]).prefault(''),
          /** Where the emulator listens when environment is `emulator`. */
          emulatorHost: z.string().min(1).prefault('127.0.0.1'),
          emulatorPort: z.number().int().min(1).max(65535).prefault(8787),
          /** How often resting orders are re-read for fills and status changes. */
          orderPollMs: durationMs.prefault(1000),
          /** Reconciliation of orders and positions against the venue: at start, then this often (0: only at start and on demand). */
          reconcileEveryMs: z.number().int().min(0).prefault(60_000),
          /** Cancel orders resting at the venue that Kestrel never sent (else they are only reported). */
          cancelUnknownOrders: z.boolean().prefault(false),
        })
        .prefault({}),
      polymarket: z
        .object({
          /**
           * Which Polymarket CLOB: production (Polygon, chain 137), amoy (the official client's testnet
           * chain, 80002) or the local emulator (`kestrel venue emulate polymarket`).
           */
          environment: z.enum(['production', 'amoy', 'emulator']).prefault('production'),
          /** Overrides of the environment's URLs (empty: the environment's own). */
          restUrl: z.union([z.literal(''), z.string().url()]).prefault(''),
          /** The market channel (…/ws/market) and the user channel (…/ws/user). */
          wsUrl: z.union([z.literal(''), z.string().regex(/^wss?:\/\//)]).prefault(''),
          userWsUrl: z.union([z.literal(''), z.string().regex(/^wss?:\/\//)]).prefault(''),
          /** Where the emulator listens when environment is `emulator`. */
          emulatorHost: z.string().min(1).prefault('127.0.0.1'),
          emulatorPort: z.number().int().min(1).max(65535).prefault(8788),
          /** The EIP-712 domains' chain; 0: the environment's (production and emulator 137, amoy 80002). */
          chainId: z.union([z.literal(0), z.literal(137), z.literal(80002)]).prefault(0),
          /**
           * How orders are signed (the official client's SignatureType): eoa (the key's own wallet),
           * poly_proxy (a Polymarket proxy wallet) or poly_gnosis_safe; the latter two trade the funds of `funder`.
           */
          signatureType: z.enum(['eoa', 'poly_proxy', 'poly_gnosis_safe']).prefault('eoa'),
          funder: z.union([z.literal(''), z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'venues.polymarket.funder must be an address (0x + 40 hex digits)')]).prefault(''),
          /** Heartbeats keep resting orders alive (the venue cancels them 10 s after the last); 0 sends none. */
          heartbeatMs: z.number().int().min(0).max(9000).prefault(5000),
        })
        .prefault({})
        .refine((p) => p.signatureType === 'eoa' || p.funder !== '', { message: 'venues.polymarket.funder is required with signatureType poly_proxy or poly_gnosis_safe', path: ['funder'] }),
    })
    .prefault({}),
  sports: z
    .object({
      /** Poll ESPN scoreboards into `game_states` (needs the internet; off by default). */
      pollGames: z.boolean().prefault(false),
      espnBaseUrl: z.string().url().prefault('https://site.api.espn.com/apis/site/v2/sports'),
      leagues: commaList(z.enum(['nba', 'nfl', 'mlb', 'nhl', 'soccer'])).prefault('nba,nfl'),
      /** Poll cadence while a league has a game live, and otherwise. */
      liveEveryMs: durationMs.prefault(15_000),
      idleEveryMs: durationMs.prefault(300_000),
      /** A live game whose feed has not moved for this long is reported stale. */
      staleGameMs: durationMs.prefault(180_000),
      /** The live model-edge path: the model version that prices game markets, and the entry rule. */
      model: z.string().min(1).prefault('nba-ensemble'),
      minEdge: fractionDecimal('sports.minEdge').prefault('0.05'),
      minConfidence: z.number().min(0).max(1).prefault(0.7),
      /** How often the active model version is re-read. */
      modelRefreshMs: durationMs.prefault(60_000),
    })
    .prefault({}),
  paper: z
    .object({
      /** Simulated order round-trip latency of the paper exchange. */
      latencyMs: z.number().int().min(0).prefault(50),
      seriesFeeMultiplier: nonNegativeDecimal('paper.seriesFeeMultiplier').prefault('1'),
    })
    .prefault({}),
  metrics: z
    .object({
      host: z.string().min(1).prefault('127.0.0.1'),
      /** Prometheus /metrics and /health; 0 picks a free port. */
      port: z.number().int().min(0).max(65535).prefault(9464),
    })
    .prefault({}),
  signals: z
    .object({
      queueName: z.string().min(1).prefault('kestrel-signals'),
      /**
       * Signal engines, one queue and checkpoint each; a market goes to its event's shard (correlated
       * markets share an engine). Changing it discards the checkpoints (markets move between shards).
       */
      shards: z.number().int().min(1, 'signals.shards must be at least 1').max(64, 'signals.shards must be at most 64').prefault(1),
      thresholds: signalThresholdsSchema.partial().prefault({}).transform((t) => ({ ...DEFAULT_THRESHOLDS, ...t })),
      categoryOverrides: categoryOverrides.prefault(''),
      correlation: z
        .object({
          sampleMs: durationMs.prefault(60_000),
          /** Short windows first, the baseline window last (1h, 4h; 8h). */
          windowsMs: commaList(durationMs).prefault('3600000,14400000,28800000').refine((w) => w.length >= 2, 'needs a short window and a baseline window'),
          maxLagSamples: z.number().int().min(0).prefault(10),
        })
        .prefault({}),
      /** When outcomes are measured after a signal fires (+10m, +30m, +1h, +4h). */
      horizonsMs: commaList(durationMs).prefault('600000,1800000,3600000,14400000'),
      /** Only these cross to strategies. */
      actionableMinConfidence: z.number().min(0).max(1).prefault(0.6),
      actionablePriorities: commaList(z.enum(['HIGH', 'MEDIUM', 'LOW'])).prefault('HIGH,MEDIUM'),
      actionableTypes: commaList(z.enum(SIGNAL_TYPES)).prefault(SIGNAL_TYPES.filter((t) => t !== 'mm_withdrawal').join(',')),
      /** Actionable signals are sent to strategies at most this often, as one batch. */
      batchMs: durationMs.prefault(1000),
      outcomeEveryMs: durationMs.prefault(60_000),
      /** How often the signal engine's state is checkpointed to Redis (and at shutdown); 0 = off, a restart starts empty. */
      checkpointMs: z.number().int().min(0).prefault(5000),
      /** Pseudo-outcomes that pull thin cells' weights toward "no edge". */
      weightPriorCount: z.number().min(0).prefault(20),
      /** A signal type × category with fewer acted-on outcomes than this gets no weight in a fitted model. */
      weightMinCount: z.number().int().min(1).prefault(10),
    })
    .prefault({}),
  alerts: z
    .object({
      /** Slack/Discord-compatible incoming webhook; empty = off. */
      webhookUrl: z.union([z.literal(''), z.string().url()]).prefault(''),
      /** SMTP relay host; empty = off. The password comes only from KESTREL_SMTP_PASSWORD. */
      smtpHost: z.string().prefault(''),
      smtpPort: z.number().int().min(1).max(65535).prefault(25),
      smtpSecure: z.boolean().prefault(false),
      smtpUser: z.string().prefault(''),
      from: z.string().min(3).prefault('kestrel@localhost'),
      to: commaList(z.string().email()).prefault(''),
      maxPerWindow: z.number().int().min(1).prefault(3),
      windowMs: durationMs.prefault(600_000),
      /** A closed position losing at least this much raises an alert. */
      largeLossDollars: nonNegativeDecimal('alerts.largeLossDollars').prefault('50'),
      /** How often open positions' markets are checked for stale data (0 = off); the limit is risk.staleDataMs. */
      staleWatchMs: z.number().int().min(0).prefault(5000),
      /**
       * A signal type whose win rate or P&L per trade over its last `signalDegradationRecentTrades` closed
       * positions falls more than this many percent below the same over the `signalDegradationBaselineTrades`
       * before them raises an alert (checked every `signalDegradationEveryMs`; 0 = off).
       */
      signalDegradationPct: z.number().gt(0, 'alerts.signalDegradationPct must be above 0').max(100).prefault(20),
      signalDegradationRecentTrades: z.number().int().min(1).prefault(20),
      signalDegradationBaselineTrades: z.number().int().min(1).prefault(100),
      signalDegradationEveryMs: z.number().int().min(0).prefault(3_600_000),
    })
    .prefault({})
    .refine((a) => a.smtpHost === '' || a.to.length > 0, { message: 'alerts.to needs at least one address when alerts.smtpHost is set', path: ['to'] }),
  retraining: z
    .object({
      /** Temporal Schedule id; `kestrel up` creates or updates it (overlap policy SKIP). */
      scheduleId: z.string().min(1).prefault('kestrel-retrain-signal-weights'),
      everyMs: durationMs.prefault(86_400_000),
      modelName: z.string().min(1).prefault('signal-weights'),
      trainWindowMs: durationMs.prefault(7 * 86_400_000),
      testWindowMs: durationMs.prefault(86_400_000),
      horizonMs: durationMs.prefault(600_000),
      /** Out-of-sample edge may be at most this fraction below in-sample for a promotion. */
      maxShortfall: z.number().min(0).max(1).prefault(0.2),
      minOutcomes: z.number().int().min(1).prefault(30),
    })
    .prefault({}),
  reports: z
    .object({
      /** The signal attribution report (Markdown file + alert channels) runs this often (0 = off); it covers the interval before it. */
      signalReportEveryMs: z.number().int().min(0).prefault(7 * 86_400_000),
      /** The daily P&L and activity report (Markdown file + alert channels): a cron pattern in UTC, empty = off. */
      dailyReportCron: z
        .string()
        .trim()
        .refine((c) => c === '' || /^(\S+\s+){4,5}\S+$/.test(c), { message: "must be a cron pattern of 5 fields (or 6 with seconds), e.g. '5 0 * * *', or empty for off" })
        .prefault('5 0 * * *'),
      /** Where report files go; empty = the user's data directory ($XDG_DATA_HOME or ~/.local/share, then kestrel/reports). */
      dir: z.string().prefault(''),
    })
    .prefault({}),
  /** Per-feature health (feeds, price history, signal engine, partitions, retraining, reconciliation) and its alerts. */
  health: featureHealthSettingsSchema.prefault({}),
  logging: z
    .object({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).prefault('info'),
    })
    .prefault({}),
  replay: z
    .object({
      dataDir: z.string().min(1).prefault('../shared/data/kalshi-gold15m-ws'),
      /** The recorded Polymarket market channel the in-process Polymarket emulator plays (`up --feed polymarket-emulator`). */
      polymarketDataDir: z.string().min(1).prefault('../shared/data/polymarket-ws-samples'),
    })
    .prefault({}),
});

export type KestrelConfig = z.output<typeof configSchema>;
export type KestrelConfigInput = z.input<typeof configSchema>;

/** Keys that cannot come from the database override table (they are needed to reach the database). */
export const BOOTSTRAP_KEYS = ['database.url', 'database.poolMax', 'environment'] as const;
