import { z } from 'zod';

/**
 * Health per feature (feeds, price history, signal engine, partitions, retraining, reconciliation)
 * from what the running processes last recorded, judged against thresholds: an operator sees which
 * part stopped, not only that Postgres, Redis and Temporal answer.
 */
export type FeatureStatus = 'ok' | 'degraded' | 'down';

export interface FeatureReport {
  /** `feed:<source>`, `price-history`, `signal-engine`, `partition:<n>`, `retraining`, `reconciliation`. */
  feature: string;
  status: FeatureStatus;
  detail: string;
}

export interface FeatureObservations {
  nowMs: number;
  /** Each market-data stream: when it last published, and when it was closed (a finished replay is not an outage). */
  feeds: { source: string; lastEventAtMs: number; closedAtMs?: number; processGone?: boolean }[];
  /** When a book worker last persisted a batch's price history. */
  priceHistoryWriteAtMs?: number;
  /** Samples of the total ticks the signal engines processed (all processes), oldest first. */
  signalTicks: { atMs: number; total: number }[];
  partitions: { partition: number; owner: string | null; waiting: number; oldestWaitingAgeMs?: number }[];
  /** Live Kestrel processes (partition-lease members). */
  processes: number;
  retraining: { everyMs: number; lastRunAtMs?: number; lastStatus?: string };
  /** Undefined on the paper exchange (nothing to reconcile). */
  reconciliation?: { everyMs: number; lastRunAtMs?: number; differences?: number };
}

export const featureHealthSettingsSchema = z
  .object({
    /** How often each process checks (and alerts); an anomaly is reported within this plus the threshold. */
    checkEveryMs: z.number().int().min(100).prefault(15_000),
    feedDegradedMs: z.number().int().positive().prefault(10_000),
    feedDownMs: z.number().int().positive().prefault(30_000),
    /** A closed feed (or one whose process is gone) is listed this long after it stopped, then dropped. */
    closedFeedShownMs: z.number().int().positive().prefault(3_600_000),
    /** Market data arrived this long after the last price-history write. */
    historyDegradedMs: z.number().int().positive().prefault(20_000),
    historyDownMs: z.number().int().positive().prefault(60_000),
    /** Signal engine rate: the last window against the trailing baseline before it. */
    signalWindowMs: z.number().int().positive().prefault(30_000),
    signalBaselineMs: z.number().int().positive().prefault(600_000),
    /** Below this baseline (ticks/s) the rate is too low to judge a collapse. */
    signalMinBaselinePerSec: z.number().nonnegative().prefault(1),
    signalDegradedRatio: z.number().min(0).max(1).prefault(0.5),
    signalDownRatio: z.number().min(0).max(1).prefault(0.1),
    partitionLagDegradedMs: z.number().int().positive().prefault(5_000),
    partitionLagDownMs: z.number().int().positive().prefault(30_000),
    /** Retraining or reconciliation is late after this many of its intervals without a run. */
    lateAfterIntervals: z.number().positive().prefault(2),
  })
  .refine((s) => s.feedDegradedMs < s.feedDownMs && s.historyDegradedMs < s.historyDownMs && s.partitionLagDegradedMs < s.partitionLagDownMs, {
    message: 'each degraded threshold must be below its down threshold',
  })
  .refine((s) => s.signalDownRatio < s.signalDegradedRatio, { message: 'signalDownRatio must be below signalDegradedRatio' });
export type FeatureHealthSettings = z.output<typeof featureHealthSettingsSchema>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const duration = (ms: number) => (ms < 120_000 ? seconds(ms) : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${+(ms / 3_600_000).toFixed(1)} h`);
const ago = (ms: number) => `${duration(ms)} ago`;
const byAge = (ageMs: number, degradedMs: number, downMs: number): FeatureStatus => (ageMs > downMs ? 'down' : ageMs > degradedMs ? 'degraded' : 'ok');

function feeds(o: FeatureObservations, s: FeatureHealthSettings): FeatureReport[] {
  const reports: FeatureReport[] = [];
  for (const f of [...o.feeds].sort((a, b) => a.source.localeCompare(b.source))) {
    const age = o.nowMs - f.lastEventAtMs;
    if (f.closedAtMs !== undefined && f.closedAtMs >= f.lastEventAtMs) {
      if (o.nowMs - f.closedAtMs <= s.closedFeedShownMs) reports.push({ feature: `feed:${f.source}`, status: 'ok', detail: `stopped ${ago(o.nowMs - f.closedAtMs)} (last event ${ago(age)})` });
      continue;
    }
    if (f.processGone) {
      // Nobody restarts a stream whose process died: an outage until it is dropped from the list.
      if (age <= s.closedFeedShownMs) reports.push({ feature: `feed:${f.source}`, status: 'down', detail: `its process is gone (last event ${ago(age)})` });
      continue;
    }
    const status = byAge(age, s.feedDegradedMs, s.feedDownMs);
    reports.push({ feature: `feed:${f.source}`, status, detail: status === 'ok' ? `last event ${ago(age)}` : `silent: last event ${ago(age)}` });
  }
  return reports;
}

/** Stalled history is market data that arrived after the last write; no data, no stall. */
function priceHistory(o: FeatureObservations, s: FeatureHealthSettings): FeatureReport {
  const live = o.feeds.filter((f) => !f.processGone && (f.closedAtMs === undefined || f.closedAtMs < f.lastEventAtMs));
  const latestEvent = Math.max(-Infinity, ...live.map((f) => f.lastEventAtMs));
  const written = o.priceHistoryWriteAtMs;
  const last = written === undefined ? 'never written' : `last write ${ago(o.nowMs - written)}`;
  if (latestEvent === -Infinity) return { feature: 'price-history', status: 'ok', detail: `idle: no live feed (${last})` };
  // Unwritten data is as old as the first event after the write; without a write, as old as the oldest live feed's data allows.
  const behindMs = written === undefined ? o.nowMs - Math.min(...live.map((f) => f.lastEventAtMs)) : Math.max(0, Math.min(latestEvent, o.nowMs) - written);
  const status = written !== undefined && written >= latestEvent ? 'ok' : byAge(behindMs, s.historyDegradedMs, s.historyDownMs);
  return { feature: 'price-history', status, detail: status === 'ok' ? last : `stalled: market data ${seconds(behindMs)} newer than the ${last}` };
}

/** Ticks per second between two samples of the running total. */
function rateBetween(a: { atMs: number; total: number }, b: { atMs: number; total: number }): number {
  return b.atMs > a.atMs ? Math.max(0, b.total - a.total) / ((b.atMs - a.atMs) / 1000) : 0;
}

/** The sample at or just before a time (samples oldest first). */
function sampleAtOrBefore(samples: FeatureObservations['signalTicks'], atMs: number) {
  let found: (typeof samples)[number] | undefined;
  for (const sample of samples) if (sample.atMs <= atMs) found = sample;
  return found;
}

function signalEngine(o: FeatureObservations, s: FeatureHealthSettings): FeatureReport {
  const samples = o.signalTicks;
  const latest = samples.at(-1);
  const windowStart = latest && sampleAtOrBefore(samples, latest.atMs - s.signalWindowMs);
  const baselineStart = windowStart && (sampleAtOrBefore(samples, windowStart.atMs - s.signalBaselineMs) ?? samples[0]);
  if (!latest || !windowStart || !baselineStart || baselineStart === windowStart) return { feature: 'signal-engine', status: 'ok', detail: `warming up: ${samples.length} rate sample(s)` };
  const rate = rateBetween(windowStart, latest);
  const baseline = rateBetween(baselineStart, windowStart);
  const text = `${rate.toFixed(1)} ticks/s over ${seconds(latest.atMs - windowStart.atMs)}, baseline ${baseline.toFixed(1)}/s`;
  if (baseline < s.signalMinBaselinePerSec) return { feature: 'signal-engine', status: 'ok', detail: `${text} (too little traffic to judge)` };
  const ratio = rate / baseline;
  const status: FeatureStatus = ratio < s.signalDownRatio ? 'down' : ratio < s.signalDegradedRatio ? 'degraded' : 'ok';
  return { feature: 'signal-engine', status, detail: status === 'ok' ? text : `rate collapsed to ${(ratio * 100).toFixed(0)}% of baseline: ${text}` };
}

function partitions(o: FeatureObservations, s: FeatureHealthSettings): FeatureReport[] {
  // With no process at all, one line says so rather than one per ownerless partition.
  if (o.processes === 0) {
    const waiting = o.partitions.reduce((n, p) => n + p.waiting, 0);
    return [{ feature: 'processes', status: 'down', detail: `no Kestrel process is running (${waiting} market-data batch(es) waiting)` }];
  }
  return o.partitions.map((p) => {
    const lag = p.oldestWaitingAgeMs ?? 0;
    const waiting = `${p.waiting} batch(es) waiting${p.waiting > 0 ? `, oldest ${seconds(lag)}` : ''}`;
    if (p.owner === null) return { feature: `partition:${p.partition}`, status: p.waiting > 0 ? 'down' : 'degraded', detail: `no owner; ${waiting}` };
    const status = byAge(lag, s.partitionLagDegradedMs, s.partitionLagDownMs);
    return { feature: `partition:${p.partition}`, status, detail: `owner ${p.owner}; ${status === 'ok' ? waiting : `lagging: ${waiting}`}` };
  });
}

/** A job that runs every `everyMs`: late after `lateAfterIntervals` of them without a run. */
function periodic(feature: string, everyMs: number, lastRunAtMs: number | undefined, o: FeatureObservations, s: FeatureHealthSettings, extra: { status: FeatureStatus; detail: string } | undefined): FeatureReport {
  if (everyMs === 0) return { feature, status: 'ok', detail: 'not scheduled' };
  if (lastRunAtMs === undefined) return { feature, status: 'ok', detail: `no run yet (every ${duration(everyMs)})` };
  const age = o.nowMs - lastRunAtMs;
  if (age > everyMs * s.lateAfterIntervals) return { feature, status: 'degraded', detail: `late: last run ${ago(age)}, expected every ${duration(everyMs)}` };
  return { feature, status: extra?.status ?? 'ok', detail: `last run ${ago(age)}${extra ? `: ${extra.detail}` : ''}` };
}

export function evaluateFeatureHealth(o: FeatureObservations, s: FeatureHealthSettings): FeatureReport[] {
  const r = o.retraining;
  const retrainingOutcome = r.lastStatus === undefined ? undefined : { status: 'ok' as const, detail: r.lastStatus };
  const rec = o.reconciliation;
  const reconciliation: FeatureReport = rec
    ? periodic('reconciliation', rec.everyMs, rec.lastRunAtMs, o, s, rec.differences === undefined ? undefined : { status: rec.differences > 0 ? 'degraded' : 'ok', detail: `${rec.differences} difference(s)` })
    : { feature: 'reconciliation', status: 'ok', detail: 'not applicable: orders go to the paper exchange' };
  return [...feeds(o, s), priceHistory(o, s), signalEngine(o, s), ...partitions(o, s), periodic('retraining', r.everyMs, r.lastRunAtMs, o, s, retrainingOutcome), reconciliation];
}

const RANK: Record<FeatureStatus, number> = { ok: 0, degraded: 1, down: 2 };

export function worstStatus(reports: readonly FeatureReport[]): FeatureStatus {
  return reports.reduce<FeatureStatus>((worst, r) => (RANK[r.status] > RANK[worst] ? r.status : worst), 'ok');
}

/**
 * What changed since the statuses last alerted on: a feature that got worse, or recovered. A
 * feature no longer reported (a closed feed dropped) is forgotten, not announced.
 */
export function featureChanges(previous: Readonly<Record<string, FeatureStatus>>, reports: readonly FeatureReport[]): { report: FeatureReport; was: FeatureStatus }[] {
  return reports.filter((r) => (previous[r.feature] ?? 'ok') !== r.status).map((report) => ({ report, was: previous[report.feature] ?? 'ok' }));
}
