import { Dec } from '../domain/decimal';
import type { AlertSink } from '../domain/alerts';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client';
import { exitAttempts, positionExits, positions } from '../db/schema';
import type { Clock } from '../domain/clock';
import type { SettlementSource } from '../domain/ports';
import { ValidationError } from '../domain/errors';
import { quoteFromBook } from '../domain/trading/quote';
import { orderRequestWireSchema, type ExitAttemptRecord, type OrderRequestWire, type OrderStateWire, type PositionExitRecord, type PositionRecord, type QuoteWire } from '../domain/trading/wire';

export type { ExitAttemptRecord, PositionExitRecord, PositionRecord };
import type { BookSource, SimVenue } from '../venues/sim/sim-venue';
import { describeIssues } from '../domain/validation';

export interface TradingDeps {
  db: Database;
  venue: SimVenue;
  books: BookSource;
  settlements: SettlementSource;
  clock: Clock;
  alert?: AlertSink;
}

export function createTradingActivities(deps: TradingDeps) {
  return {
    /** Best bid/ask for the held outcome: a NO bid is a YES ask seen from the other side. */
    async getQuote(input: { market: string; outcome: 'yes' | 'no' }): Promise<QuoteWire> {
      return quoteFromBook(deps.books.book(input.market), input.market, input.outcome);
    },

    async submitOrder(input: OrderRequestWire): Promise<OrderStateWire> {
      const parsed = orderRequestWireSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(`invalid order: ${describeIssues(parsed.error.issues)}`);
      return deps.venue.submit(parsed.data);
    },

    async getOrder(clientOrderId: string): Promise<OrderStateWire> {
      const state = await deps.venue.get(clientOrderId);
      if (!state) throw new ValidationError(`unknown order ${clientOrderId}`);
      return state;
    },

    async cancelOrder(clientOrderId: string): Promise<OrderStateWire> {
      const state = await deps.venue.cancel(clientOrderId);
      if (!state) throw new ValidationError(`unknown order ${clientOrderId}`);
      return state;
    },

    async marketResult(market: string): Promise<'yes' | 'no' | null> {
      return (await deps.settlements.result(market)) ?? null;
    },

    async recordPosition(p: PositionRecord): Promise<void> {
      const values = {
        strategyId: p.strategyId,
        venue: 'sim',
        marketTicker: p.market,
        outcome: p.outcome,
        status: p.status,
        entryPrice: p.entryPrice ?? null,
        size: p.size,
        remainingSize: p.remainingSize,
        realizedPnl: p.realizedPnl,
        fees: p.fees,
        state: p.state,
        openedAt: p.openedAtMs === undefined ? null : new Date(p.openedAtMs),
        closedAt: p.closedAtMs === undefined ? null : new Date(p.closedAtMs),
        strategyVersionId: p.provenance?.strategyVersionId ?? null,
        modelVersionId: p.provenance?.modelVersionId ?? null,
        signalId: p.provenance?.signalId ?? null,
        updatedAt: new Date(deps.clock.nowMs()),
      };
      await deps.db.insert(positions).values({ positionId: p.positionId, ...values }).onConflictDoUpdate({ target: positions.positionId, set: values });
    },

    async recordExitAttempt(a: ExitAttemptRecord): Promise<void> {
      const { attemptedAtMs, ...rest } = a;
      await deps.db.insert(exitAttempts).values({ ...rest, attemptedAt: new Date(attemptedAtMs) }).onConflictDoNothing();
    },

    async recordPositionExit(e: PositionExitRecord): Promise<void> {
      const { finishedAtMs, averagePrice, ...rest } = e;
      const inserted = await deps.db.insert(positionExits).values({ ...rest, averagePrice: averagePrice ?? null, finishedAt: new Date(finishedAtMs) }).onConflictDoNothing().returning({ exitNo: positionExits.exitNo });
      // An urgent exit that ended with contracts still held needs a human (once per exit, not per retry).
      if (inserted.length > 0 && (e.urgency === 'CRITICAL' || e.urgency === 'HIGH') && new Dec(e.filledSize).lt(e.requestedSize)) {
        deps.alert?.({ kind: 'exit_failed', severity: 'critical', title: `exit #${e.exitNo} of ${e.positionId} incomplete`, detail: `${e.reason} (${e.urgency}): filled ${e.filledSize} of ${e.requestedSize} after ${e.attempts} attempts`, key: e.positionId });
      }
    },

    async loadPosition(positionId: string) {
      const [row] = await deps.db.select().from(positions).where(eq(positions.positionId, positionId));
      return row ?? null;
    },
  };
}

export type TradingActivities = ReturnType<typeof createTradingActivities>;
