import type { Client } from '@temporalio/client';
import type { StrategySubscription } from '../../db/signals-repo';
import type { EntrySignal } from '../../workflows/strategy';
import { signalsSignal } from '../../workflows/strategy';

export interface SignalRouterOptions {
  temporal: Pick<Client, 'workflow'>;
  subscriptions(): Promise<StrategySubscription[]>;
  batchMs: number;
  log?: (line: string) => void;
  onSent?(workflowId: string, count: number): void;
  /**
   * The market's own taker fee rate from the venue's metadata (live venues), stamped on signals
   * that carry none; undefined or a failed read leaves the strategy's configured rate in force.
   */
  takerFeeRate?(market: string): Promise<string | undefined>;
}

/**
 * Collects actionable signals and sends them to each subscribed strategy workflow as one Temporal
 * signal per flush (never one per tick). A failed send is kept and retried at the next flush.
 */
export class SignalRouter {
  private pending: EntrySignal[] = [];
  private readonly retry = new Map<string, EntrySignal[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly opts: SignalRouterOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.batchMs);
  }

  offer(signal: EntrySignal): void {
    this.pending.push(signal);
  }

  /** Sends what is pending now; concurrent calls share one flush. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const taken = this.pending;
    this.pending = [];
    const batch = await this.withMarketFees(taken);
    const subs = batch.length > 0 || this.retry.size > 0 ? await this.opts.subscriptions().catch((err: Error) => (this.opts.log?.(`signal router: cannot read subscriptions: ${err.message}`), undefined)) : [];
    if (!subs) {
      this.pending.unshift(...batch);
      return;
    }
    for (const sub of subs) {
      const mine = [...(this.retry.get(sub.workflowId) ?? []), ...batch.filter((s) => (sub.signalTypes.length === 0 || sub.signalTypes.includes(s.type ?? '')) && (sub.categories.length === 0 || sub.categories.includes(s.category ?? '')))];
      this.retry.delete(sub.workflowId);
      if (mine.length === 0) continue;
      try {
        await this.opts.temporal.workflow.getHandle(sub.workflowId).signal(signalsSignal, mine);
        this.opts.onSent?.(sub.workflowId, mine.length);
      } catch (err) {
        this.opts.log?.(`signal router: sending ${mine.length} signals to ${sub.workflowId} failed: ${(err as Error).message}`);
        // A strategy that is gone stops being retried when its subscription is no longer running.
        this.retry.set(sub.workflowId, mine.slice(-1000));
      }
    }
    for (const id of this.retry.keys()) if (!subs.some((s) => s.workflowId === id)) this.retry.delete(id);
  }

  private async withMarketFees(batch: EntrySignal[]): Promise<EntrySignal[]> {
    const rateOf = this.opts.takerFeeRate;
    if (!rateOf) return batch;
    const markets = [...new Set(batch.filter((s) => s.takerFeeRate === undefined).map((s) => s.market))];
    const rates = new Map<string, string>();
    await Promise.all(
      markets.map(async (m) => {
        const rate = await rateOf(m).catch((err: Error) => void this.opts.log?.(`signal router: fee terms of ${m} unavailable, the configured rate applies: ${err.message}`));
        if (rate !== undefined) rates.set(m, rate);
      }),
    );
    return batch.map((s) => {
      const rate = s.takerFeeRate === undefined ? rates.get(s.market) : undefined;
      return rate === undefined ? s : { ...s, takerFeeRate: rate };
    });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
