import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client';
import { orders, positions, reconciliationEvents } from '../db/schema';
import { OUTCOME_UNKNOWN, TradingRepository } from '../db/trading-repo';
import type { AlertSink } from '../domain/alerts';
import type { Clock } from '../domain/clock';
import { Dec } from '../domain/decimal';
import type { ExecutionClient } from '../domain/ports';
import { reconcile, type ReconciliationDifference, type VenueOrderView } from '../domain/trading/reconciliation';
import { OPEN_STATUSES } from '../domain/trading/strategy-rules';
import type { KalshiRestClient } from '../venues/kalshi/rest-client';

export type ReconciliationTrigger = 'start' | 'reconnect' | 'timer' | 'cli';
export type ReconciliationAction = 'applied' | 'cancelled' | 'reported';

export interface ReconciliationReport {
  runId: string;
  trigger: ReconciliationTrigger;
  checked: { venueOrders: number; recordedOrders: number; recordedPositions: number; venuePositions: number };
  differences: (ReconciliationDifference & { action: ReconciliationAction })[];
}

const VENUE_STATUS = { resting: 'resting', executed: 'filled', canceled: 'canceled' } as const;

/**
 * Reconciles Kalshi against Kestrel's records: orders we track that the venue moved on (fills we
 * missed, cancels) are read back and recorded; orders resting at the venue that we never sent are
 * reported and, when configured, cancelled; net positions that differ are reported. Every
 * difference is a `reconciliation_events` row and an alert.
 */
export class KalshiReconciler {
  private readonly repo: TradingRepository;

  constructor(
    private readonly deps: {
      db: Database;
      rest: KalshiRestClient;
      execution: ExecutionClient;
      clock: Clock;
      cancelUnknownOrders: boolean;
      alert?: AlertSink;
      log: (line: string) => void;
    },
  ) {
    this.repo = new TradingRepository(deps.db);
  }

  async run(trigger: ReconciliationTrigger): Promise<ReconciliationReport> {
    const { db, rest, execution } = this.deps;
    const recordedOrders = await db
      .select({ clientOrderId: orders.clientOrderId, venueOrderId: orders.venueOrderId, market: orders.marketTicker, status: orders.status, filled: orders.filledSize })
      .from(orders)
      .where(and(eq(orders.venue, 'kalshi'), inArray(orders.status, ['resting', OUTCOME_UNKNOWN])));
    const recordedPositions = await db
      .select({ positionId: positions.positionId, market: positions.marketTicker, outcome: positions.outcome, remaining: positions.remainingSize })
      .from(positions)
      .where(and(eq(positions.venue, 'kalshi'), inArray(positions.status, [...OPEN_STATUSES])));

    // The venue's view: everything resting, plus the current state of every order we think is open.
    const venueOrders = new Map<string, VenueOrderView>();
    for await (const o of rest.orders({ status: 'resting' })) venueOrders.set(o.client_order_id, { venueOrderId: o.order_id, clientOrderId: o.client_order_id, market: o.ticker, status: VENUE_STATUS[o.status], filled: o.fill_count_fp });
    for (const ours of recordedOrders) {
      if (venueOrders.has(ours.clientOrderId)) continue;
      const state = await execution.get(ours.clientOrderId);
      if (state?.venueOrderId) venueOrders.set(ours.clientOrderId, { venueOrderId: state.venueOrderId, clientOrderId: ours.clientOrderId, market: ours.market, status: state.status === 'rejected' ? 'canceled' : state.status, filled: state.filled });
    }
    const venuePositions: { market: string; netYes: string }[] = [];
    for await (const p of rest.positions()) if (!new Dec(p.position_fp).isZero()) venuePositions.push({ market: p.ticker, netYes: p.position_fp });

    const differences = reconcile(
      { orders: recordedOrders.map((o) => ({ ...o, venueOrderId: o.venueOrderId ?? undefined })), positions: recordedPositions.map((p) => ({ ...p, outcome: p.outcome as 'yes' | 'no' })) },
      { orders: [...venueOrders.values()], positions: venuePositions },
    );
    const report: ReconciliationReport = {
      runId: randomUUID(),
      trigger,
      checked: { venueOrders: venueOrders.size, recordedOrders: recordedOrders.length, recordedPositions: recordedPositions.length, venuePositions: venuePositions.length },
      differences: [],
    };
    for (const difference of differences) {
      const action = await this.act(difference);
      report.differences.push({ ...difference, action });
      await db.insert(reconciliationEvents).values({
        runId: report.runId,
        venue: 'kalshi',
        trigger,
        kind: difference.kind,
        market: difference.market,
        clientOrderId: 'clientOrderId' in difference ? difference.clientOrderId : null,
        action,
        details: difference,
        at: new Date(this.deps.clock.nowMs()),
      });
      this.deps.alert?.({ kind: 'reconciliation', severity: difference.kind === 'position_mismatch' || difference.kind === 'unknown_venue_order' ? 'critical' : 'warning', title: `reconciliation: ${difference.kind} in ${difference.market}`, detail: `${JSON.stringify(difference)} → ${action}`, key: `${difference.kind}:${difference.market}` });
    }
    this.deps.log(`reconciliation (${trigger}): ${differences.length} difference(s) over ${report.checked.recordedOrders} recorded / ${report.checked.venueOrders} venue orders and ${report.checked.venuePositions} venue positions`);
    return report;
  }

  private async act(difference: ReconciliationDifference): Promise<ReconciliationAction> {
    switch (difference.kind) {
      case 'order_behind':
      case 'order_outcome_found': {
        // The venue's state (fills included) becomes the record; the position's workflow reads it on its next poll.
        const state = await this.deps.execution.get(difference.clientOrderId);
        if (!state) return 'reported';
        await this.repo.recordOrderState(state);
        return 'applied';
      }
      case 'unknown_venue_order':
        if (!this.deps.cancelUnknownOrders) return 'reported';
        await this.deps.rest.cancelOrder(difference.venueOrderId);
        return 'cancelled';
      case 'order_missing_at_venue':
      case 'position_mismatch':
        return 'reported';
    }
  }
}
