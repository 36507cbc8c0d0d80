/**
 * Per-subscription sequence checking. Kalshi numbers messages per `sid`; on a live connection a gap
 * means lost messages and the books of that subscription must be resynced.
 *
 * One sid carries several markets, so a snapshot is numbered like any other message of its sid: a
 * snapshot one past the last seq is `next`, one further on is a `gap` (messages of other markets
 * may be lost). Only a snapshot numbered at or below what the sid reached starts a new numbering
 * (`restart`: a resubscribe or reconnect). With `restartScope: 'connection'` (a recording that
 * spans reconnects) such a snapshot restarts every sid, since they all belonged to the old
 * connection.
 *
 * A recording that kept one market out of a series-wide subscription has gaps by construction (the
 * other markets' messages were filtered out). `expectFilteredGaps` keeps the check on — duplicates
 * and regressions are still errors — but reports forward jumps as `filtered` instead of `gap`.
 */
export type SeqVerdict = 'first' | 'next' | 'gap' | 'filtered' | 'duplicate' | 'regression' | 'restart';

export interface SequenceOptions {
  expectFilteredGaps: boolean;
  /** What a snapshot numbered at or below its sid's last seq restarts; default `sid`. */
  restartScope?: 'sid' | 'connection';
}

export class SequenceTracker {
  private readonly lastBySid = new Map<number, number>();
  readonly counts: Record<SeqVerdict, number> = { first: 0, next: 0, gap: 0, filtered: 0, duplicate: 0, regression: 0, restart: 0 };

  constructor(private readonly opts: SequenceOptions) {}

  /** Checks `seq` of a message on `sid`; `isSnapshot` for `orderbook_snapshot` messages. */
  observe(sid: number, seq: number, isSnapshot = false): SeqVerdict {
    const last = this.lastBySid.get(sid);
    let verdict: SeqVerdict;
    if (last === undefined) verdict = 'first';
    else if (seq === last + 1) verdict = 'next';
    else if (seq > last + 1) verdict = this.opts.expectFilteredGaps ? 'filtered' : 'gap';
    else if (isSnapshot) verdict = 'restart';
    else verdict = seq === last ? 'duplicate' : 'regression';
    if (verdict === 'restart' && this.opts.restartScope === 'connection') this.lastBySid.clear();
    if (verdict !== 'duplicate' && verdict !== 'regression') this.lastBySid.set(sid, seq);
    this.counts[verdict]++;
    return verdict;
  }

  /** After a resync (new snapshot / resubscribe) numbering restarts for that sid. */
  reset(sid: number): void {
    this.lastBySid.delete(sid);
  }

  last(sid: number): number | undefined {
    return this.lastBySid.get(sid);
  }

  /** A new connection: every subscription numbers from scratch. */
  resetAll(): void {
    this.lastBySid.clear();
  }
}
