import { z } from 'zod';
import { fractionDecimal, nonNegativeDecimal } from '../domain/decimal';

const durationMs = z.number().int().positive();

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
  risk: z
    .object({
      capital: nonNegativeDecimal('risk.capital').prefault('10000'),
      maxPositionFraction: fractionDecimal('risk.maxPositionFraction').prefault('0.10'),
      maxTotalExposureFraction: fractionDecimal('risk.maxTotalExposureFraction').prefault('0.30'),
      maxConcurrentPositions: z.number().int().min(0).prefault(5),
      dailyLossLimitFraction: fractionDecimal('risk.dailyLossLimitFraction').prefault('0.05'),
      maxConsecutiveLosses: z.number().int().min(1).prefault(5),
      staleDataMs: durationMs.prefault(15_000),
      maxMarketExposureFraction: fractionDecimal('risk.maxMarketExposureFraction').prefault('0.10'),
      maxEventExposureFraction: fractionDecimal('risk.maxEventExposureFraction').prefault('0.20'),
      noEntryBeforeCloseMs: z.number().int().nonnegative().prefault(120_000),
      maxVenueErrorRate: fractionDecimal('risk.maxVenueErrorRate').prefault('0.10'),
      minVenueRequestsForErrorRate: z.number().int().min(1).prefault(20),
    })
    .prefault({}),
  fees: z
    .object({
      kalshiTakerRate: nonNegativeDecimal('fees.kalshiTakerRate').prefault('0.07'),
      kalshiMakerRate: nonNegativeDecimal('fees.kalshiMakerRate').prefault('0.0175'),
    })
    .prefault({}),
  marketData: z
    .object({
      queueBase: z.string().min(1).prefault('kestrel-md'),
      partitions: z.number().int().min(1).max(64).prefault(4),
      batchSize: z.number().int().min(1).max(50_000).prefault(2000),
      maxBatchDelayMs: durationMs.prefault(50),
      historyCapacity: z.number().int().min(10).max(1_000_000).prefault(1000),
      historySampleMs: z.number().int().min(0).prefault(1000),
      historyRetentionDays: z.number().int().min(1).prefault(30),
      /** How often the daily roll-up and retention job runs. */
      maintenanceEveryMs: durationMs.prefault(3_600_000),
    })
    .prefault({}),
  venues: z
    .object({
      kalshiRestUrl: z.string().url().prefault('https://external-api.kalshi.com/trade-api/v2'),
      kalshiWsUrl: z.string().regex(/^wss?:\/\//).prefault('wss://external-api-ws.kalshi.com/trade-api/ws/v2'),
      polymarketRestUrl: z.string().url().prefault('https://clob.polymarket.com'),
      polymarketWsUrl: z.string().regex(/^wss?:\/\//).prefault('wss://ws-subscriptions-clob.polymarket.com/ws/market'),
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
  replay: z
    .object({
      dataDir: z.string().min(1).prefault('../shared/data/kalshi-gold15m-ws'),
    })
    .prefault({}),
});

export type KestrelConfig = z.output<typeof configSchema>;
export type KestrelConfigInput = z.input<typeof configSchema>;

/** Keys that cannot come from the database override table (they are needed to reach the database). */
export const BOOTSTRAP_KEYS = ['database.url', 'database.poolMax', 'environment'] as const;
