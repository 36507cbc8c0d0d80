import type { Logger } from 'pino';
import type { Database } from '../db/client';
import { OUTCOME_UNKNOWN, TradingRepository } from '../db/trading-repo';
import type { BasketPlan, LegOrderState, LegResult } from '../domain/arbitrage/legs';
import type { Clock } from '../domain/clock';
import { Dec } from '../domain/decimal';
import { InsufficientFunds, InvalidOrder, MarketClosed, OrderNotFound, ValidationError } from '../domain/errors';
import type { ExecutionClient, TradingVenue } from '../domain/ports';
import { orderRequestWireSchema, type OrderRequestWire, type OrderStateWire } from '../domain/trading/wire';
import { describeIssues } from '../domain/validation';
import { withFailureMapping } from './failures';

/** The execution client of each venue a basket may route a leg to. */
export type ExecutionRegistry = Partial<Record<TradingVenue, ExecutionClient>>;

export interface ArbitrageDeps {
  db: Database;
  venues: ExecutionRegistry;
  clock: Clock;
  /**
   * How long an IOC order's fills may take to be itemised after the venue answered: Polymarket
   * answers "matched" at once and brings the trades (prices, fees) on its user channel.
   */
  fillSettleMs?: number;
  log?: (line: string) => void;
  logger?: Logger;
}

const POLL_MS = 25;

/**
 * Basket activities: each leg's orders go to its venue's execution client (the registry), and are
 * recorded, with their venue, in the same orders/fills/positions tables as every other order.
 */
export function createArbitrageActivities(deps: ArbitrageDeps) {
  const repo = new TradingRepository(deps.db);
  const fillSettleMs = deps.fillSettleMs ?? 2000;
  const clientOf = (venue: TradingVenue): ExecutionClient => {
    const client = deps.venues[venue];
    if (!client) throw new ValidationError(`no execution client for venue ${venue} (configured: ${Object.keys(deps.venues).join(', ') || 'none'})`);
    return client;
  };
  const itemised = (s: OrderStateWire) => s.fills.reduce((sum, f) => sum.plus(f.size), new Dec(0)).gte(s.filled);

  /**
   * An IOC order once it is final: one the venue still shows resting (it had not finished matching)
   * is cancelled; one whose fills are not itemised yet is read again until they are, or until
   * `fillSettleMs` passes (then its average or limit price stands in, see filledSummary).
   */
  async function finalIoc(client: ExecutionClient, state: OrderStateWire): Promise<OrderStateWire> {
    let current = state;
    if (current.status === 'resting') current = await client.cancel(current.clientOrderId);
    const deadline = Date.now() + fillSettleMs;
    while (new Dec(current.filled).gt(0) && !itemised(current) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      current = (await client.get(current.clientOrderId)) ?? current;
    }
    return current;
  }

  /** Records the venue's word on an order; the limit travels along for fills not itemised yet. */
  const recorded = async (state: OrderStateWire, limitPrice: string): Promise<LegOrderState> => {
    await repo.recordOrderState(state);
    return { ...state, limitPriceHint: limitPrice };
  };

  return withFailureMapping({
    /**
     * Sends one basket order to its leg's venue, exactly once: the request is recorded (with its
     * venue) before it is sent; an order recorded earlier whose outcome never came back is looked up
     * at the venue first, and only an order the venue has never seen is sent. A venue refusing the
     * order is an outcome (rejected), for the rollback rule to act on, not a failed activity.
     */
    async submitBasketOrder(input: { venue: TradingVenue; order: OrderRequestWire }): Promise<LegOrderState> {
      const parsed = orderRequestWireSchema.safeParse(input.order);
      if (!parsed.success) throw new ValidationError(`invalid basket order: ${describeIssues(parsed.error.issues)}`);
      const order = parsed.data;
      const client = clientOf(input.venue);
      const stored = await repo.loadOrder(order.clientOrderId);
      if (stored && stored.venue !== input.venue) throw new ValidationError(`order ${order.clientOrderId} was recorded for ${stored.venue}, not ${input.venue}`);
      if (stored && stored.status !== OUTCOME_UNKNOWN && stored.status !== 'resting') return { ...stored.state, limitPriceHint: order.limitPrice };
      if (stored) {
        const atVenue = await client.get(order.clientOrderId);
        if (atVenue) return recorded(order.tif === 'ioc' ? await finalIoc(client, atVenue) : atVenue, order.limitPrice);
      } else await repo.recordOrderIntent(order, input.venue, deps.clock.nowMs());
      let state: OrderStateWire;
      try {
        state = await client.submit(order);
      } catch (err) {
        if (!(err instanceof InvalidOrder || err instanceof MarketClosed || err instanceof InsufficientFunds)) throw err;
        deps.log?.(`${input.venue} refused ${order.clientOrderId}: ${err.message}`);
        return recorded({ clientOrderId: order.clientOrderId, status: 'rejected', size: order.size, filled: '0', fees: '0', fills: [], rejectReason: `${err.name}: ${err.message}` }, order.limitPrice);
      }
      return recorded(order.tif === 'ioc' ? await finalIoc(client, state) : state, order.limitPrice);
    },

    /**
     * What became of a basket order whose submit failed (timed out, venue unavailable): the venue's
     * state if it has the order, else what Kestrel recorded; null when nothing was ever sent.
     * Resting IOC remains are cancelled, so a late order cannot fill after the basket moved on.
     */
    async lookupBasketOrder(input: { venue: TradingVenue; clientOrderId: string; limitPrice: string }): Promise<LegOrderState | null> {
      const client = clientOf(input.venue);
      const atVenue = await client.get(input.clientOrderId);
      if (atVenue) {
        try {
          return await recorded(atVenue.status === 'resting' ? await finalIoc(client, atVenue) : atVenue, input.limitPrice);
        } catch (err) {
          if (err instanceof OrderNotFound) return null;
          throw err;
        }
      }
      const stored = await repo.loadOrder(input.clientOrderId);
      if (!stored || stored.status === OUTCOME_UNKNOWN) return null;
      return { ...stored.state, limitPriceHint: input.limitPrice };
    },

    /** One position row per leg, with its venue: what it holds, its fees and its realized P&L so far. */
    async recordBasketLegs(input: { plan: BasketPlan; results: LegResult[]; pairId?: string }): Promise<void> {
      const nowMs = deps.clock.nowMs();
      for (const r of input.results) {
        const bought = new Dec(r.bought);
        const held = new Dec(r.held);
        const status = bought.isZero() ? 'entry_failed' : held.isZero() ? 'closed' : 'open';
        await repo.recordPosition(
          {
            positionId: `${input.plan.basketId}/${r.legId}`,
            strategyId: input.plan.strategyId,
            market: r.market,
            outcome: r.outcome,
            status,
            entryPrice: r.averageBuyPrice,
            size: r.bought,
            remainingSize: r.held,
            realizedPnl: r.realizedPnl,
            fees: r.fees,
            state: { basketId: input.plan.basketId, legId: r.legId, pairId: input.pairId, sold: r.sold, averageSellPrice: r.averageSellPrice, entryRejectReason: r.entryRejectReason },
            openedAtMs: bought.isZero() ? undefined : nowMs,
            closedAtMs: status === 'open' ? undefined : nowMs,
          },
          r.venue,
          nowMs,
        );
      }
    },
  }, deps.logger);
}

export type ArbitrageActivities = ReturnType<typeof createArbitrageActivities>;
