/** Operator alerts: what happened, how bad, and a key that groups repeats for rate limiting. */
export type AlertKind = 'breaker' | 'stale_data' | 'large_loss' | 'exit_failed' | 'game_data' | 'reconciliation' | 'signal_degradation' | 'signal_report' | 'feature_health' | 'daily_report';

export interface Alert {
  kind: AlertKind;
  /** `info`: a scheduled report, nothing wrong. */
  severity: 'critical' | 'warning' | 'info';
  title: string;
  detail: string;
  /** Repeats of the same key are rate-limited together (e.g. one breaker, one position). */
  key: string;
  atMs: number;
}

export type AlertSink = (alert: Omit<Alert, 'atMs'>) => void;

/**
 * At most `maxPerWindow` alerts per key in any `windowMs`; the rest are counted and the count rides
 * on the next alert that goes out, so an operator is told without being flooded.
 */
export class AlertRateLimiter {
  private readonly sent = new Map<string, number[]>();
  private readonly suppressed = new Map<string, number>();

  constructor(private readonly opts: { maxPerWindow: number; windowMs: number }) {}

  /** Whether to send now, and how many of this key were held back since the last one sent. */
  admit(key: string, nowMs: number): { send: true; suppressedBefore: number } | { send: false } {
    const times = (this.sent.get(key) ?? []).filter((t) => nowMs - t < this.opts.windowMs);
    if (times.length >= this.opts.maxPerWindow) {
      this.sent.set(key, times);
      this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
      return { send: false };
    }
    times.push(nowMs);
    this.sent.set(key, times);
    const suppressedBefore = this.suppressed.get(key) ?? 0;
    this.suppressed.delete(key);
    return { send: true, suppressedBefore };
  }
}
