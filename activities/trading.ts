import { Dec } from '../domain/decimal';
import type { AlertSink } from '../domain/alerts';
import type { Database } from '../db/client';
import { OUTCOME_UNKNOWN, TradingRepository } from '../db/trading-repo';
import type { Clock } from '../domain/clock';
import type { ExecutionClient, SettlementSource } from '../domain/ports';
import { InsufficientFunds, InvalidOrder, MarketClosed, OrderNotFound, ValidationError } from '../domain/errors';
import { quoteFromBook } from '../domain/trading/quote';
import type { ExitWatchWire } from '../domain/trading/exit-watch';
import { orderAmendmentSchema, orderRequestWireSchema, type ExitAttemptRecord, type OrderRequestWire, type OrderStateWire, type PositionExitRecord, type PositionRecord, type QuoteWire } from '../domain/trading/wire';
import type { BookSource } from '../venues/sim/sim-venue';
import { describeIssues } from '../domain/validation';

export type { ExitAttemptRecord, PositionExitRecord, PositionRecord };

export interface TradingDeps {
  db: Database;
  /** Where orders go: the paper exchange or a venue's execution client (venues/<venue>/factory.ts). */
  execution: ExecutionClient;
  books: BookSource;
  /** The quote of a market whose book another process holds (its owner's published top); undefined: read `books`. */
  quote?: (market: string, outcome: 'yes' | 'no') => Promise<QuoteWire | undefined>;
  settlements: SettlementSource;
  clock: Clock;
  alert?: AlertSink;
  /** Wakes positions on book updates that trigger their exits (workers/exit-watch.ts). */
  exitWatch?: { register(market: string, outcome: 'yes' | 'no', watch: ExitWatchWire): void };
  log?: (line: string) => void;
}

export function createTradingActivities(deps: TradingDeps) {
  const repo = new TradingRepository(deps.db);
  const venue = deps.execution.venue;
  /** Positions whose exit watch was refused, reported once each. */
  const unwatchable = new Set<string>();
  const recorded = async (state: OrderStateWire) => {
    await repo.recordOrderState(state);
    return state;
  };
  return {
    /**
     * Best bid/ask for the held outcome: a NO bid is a YES ask seen from the other side. An open
     * position's read also (re)registers its exit watch, so a book update can wake it before its next poll.
     */
    async getQuote(input: { market: string; outcome: 'yes' | 'no'; watch?: ExitWatchWire }): Promise<QuoteWire> {
      const quote = (await deps.quote?.(input.market, input.outcome)) ?? quoteFromBook(deps.books.book(input.market), input.market, input.outcome);
      if (input.watch && deps.exitWatch) {
        // The watch only speeds exits up: a registration it refuses leaves the position on its polls, never without a quote.
        try {
          deps.exitWatch.register(input.market, input.outcome, input.watch);
        } catch (err) {
          if (!unwatchable.has(input.watch.positionId) && unwatchable.add(input.watch.positionId)) deps.log?.(`exit watch: ${input.watch.positionId} not watched (polls only): ${(err as Error).message}`);
        }
      }
      return quote;
    },

    /**
     * Exactly once: the request is recorded before it is sent; an order recorded earlier whose
     * outcome never came back (a crash or a timeout after sending) is looked up at the venue first,
     * and only an order the venue has never seen is sent.
     */
    async submitOrder(input: OrderRequestWire): Promise<OrderStateWire> {
      const parsed = orderRequestWireSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(`invalid order: ${describeIssues(parsed.error.issues)}`);
      const order = parsed.data;
      const stored = await repo.loadOrder(order.clientOrderId);
      if (stored && stored.status !== OUTCOME_UNKNOWN) return stored.state;
      if (stored) {
        const atVenue = await deps.execution.get(order.clientOrderId);
        if (atVenue) return recorded(atVenue);
      } else await repo.recordOrderIntent(order, venue, deps.clock.nowMs());
      try {
        return await recorded(await deps.execution.submit(order));
      } catch (err) {
        // A venue refusing the order is an order outcome (rejected), not a failed workflow.
        if (!(err instanceof InvalidOrder || err instanceof MarketClosed || err instanceof InsufficientFunds)) throw err;
        return recorded({ clientOrderId: order.clientOrderId, status: 'rejected', size: order.size, filled: '0', fees: '0', fills: [], rejectReason: err.message });
      }
    },

    async getOrder(clientOrderId: string): Promise<OrderStateWire> {
      const state = await deps.execution.get(clientOrderId);
      if (state) return recorded(state);
      const stored = await repo.loadOrder(clientOrderId);
      if (!stored) throw new ValidationError(`unknown order ${clientOrderId}`);
      return stored.state;
    },

    async cancelOrder(clientOrderId: string): Promise<OrderStateWire> {
      try {
        return recorded(await deps.execution.cancel(clientOrderId));
      } catch (err) {
        if (err instanceof OrderNotFound) throw new ValidationError(`unknown order ${clientOrderId}`);
        throw err;
      }
    },

    /**
     * Moves a resting order to a new limit. Idempotent (the target is absolute), so a retry after a
     * lost answer changes nothing more. An order the venue cannot amend, or whose amendment it
     * refuses, is canceled instead: the walk then goes on with a new order, never with two resting.
     */
    async amendOrder(input: { clientOrderId: string; limitPrice: string; size: string }): Promise<OrderStateWire> {
      const parsed = orderAmendmentSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(`invalid amendment: ${describeIssues(parsed.error.issues)}`);
      const { clientOrderId, limitPrice, size } = parsed.data;
      try {
        if (!deps.execution.capabilities.amend) return recorded(await deps.execution.cancel(clientOrderId));
        const state = await deps.execution.amend(clientOrderId, { limitPrice, size });
        // Filled: by the amendment crossing the book (or, rarely, just before it).
        if (state.status !== 'canceled') await repo.recordAmendment(clientOrderId, limitPrice);
        return recorded(state);
      } catch (err) {
        if (err instanceof OrderNotFound) throw new ValidationError(`unknown order ${clientOrderId}`);
        if (!(err instanceof InvalidOrder || err instanceof MarketClosed)) throw err;
        deps.log?.(`amend of ${clientOrderId} refused (${err.message}); canceling it instead`);
        return recorded(await deps.execution.cancel(clientOrderId));
      }
    },

    async marketResult(market: string): Promise<'yes' | 'no' | null> {
      return (await deps.settlements.result(market)) ?? null;
    },

    async recordPosition(p: PositionRecord): Promise<void> {
      await repo.recordPosition(p, venue, deps.clock.nowMs());
    },

    async recordExitAttempt(a: ExitAttemptRecord): Promise<void> {
      await repo.recordExitAttempt(a);
    },

    async recordPositionExit(e: PositionExitRecord): Promise<void> {
      const first = await repo.recordPositionExit(e);
      // An urgent exit that ended with contracts still held needs a human (once per exit, not per retry).
      if (first && (e.urgency === 'CRITICAL' || e.urgency === 'HIGH') && new Dec(e.filledSize).lt(e.requestedSize)) {
        deps.alert?.({ kind: 'exit_failed', severity: 'critical', title: `exit #${e.exitNo} of ${e.positionId} incomplete`, detail: `${e.reason} (${e.urgency}): filled ${e.filledSize} of ${e.requestedSize} after ${e.attempts} attempts`, key: e.positionId });
      }
    },
  };
}

export type TradingActivities = ReturnType<typeof createTradingActivities>;
