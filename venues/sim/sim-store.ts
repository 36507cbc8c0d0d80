import type { Redis } from 'ioredis';
import type { SimMatchingEngine, SimMarketState, SimOrderState } from '../../domain/sim/matching';
import { decodeSimMarket, decodeSimOrder, encodeSimMarket, encodeSimOrder } from '../../domain/sim/state-codec';

/**
 * Where the paper exchange keeps its orders and the liquidity its fills consumed, so every process
 * sees one exchange: an order placed through one process is matched, amended, cancelled and looked
 * up by any other, and a restart loses no resting order.
 */
export interface SimStore {
  /** The order's last state (resting or finished); undefined if it was never placed here. */
  order(clientOrderId: string): Promise<SimOrderState | undefined>;
  /** Those of `markets` that have at least one resting order. */
  marketsWithRestingOrders(markets: readonly string[]): Promise<string[]>;
  /**
   * Runs `change` on an engine holding the market's resting orders, consumed liquidity and fee
   * balances (and the order `orderId` in whatever state), then stores what it left, atomically
   * against every other process. On a concurrent write the change runs again on the new state, so
   * it must do nothing but change the engine.
   */
  update<T>(market: string, orderId: string | undefined, change: (engine: SimMatchingEngine) => T): Promise<T>;
  close(): Promise<void>;
}

/** Finished orders are kept this long for lookups (after that Kestrel's own order records answer). */
const FINISHED_ORDER_TTL_S = 7 * 24 * 3600;
/** A market without resting orders keeps its consumed liquidity this long (a level refreshes long before). */
const IDLE_MARKET_TTL_S = 24 * 3600;
/** Writers that keep colliding on one market give up after this many tries (the caller's retry takes over). */
const MAX_ATTEMPTS = 100;

/** What an engine left of one market: its resting orders go back to the market's state, every order to its own key. */
function split(engine: SimMatchingEngine, market: string): { orders: SimOrderState[]; resting: SimMarketState } {
  const state = engine.marketState(market);
  const resting = state.orders.filter((o) => o.status === 'resting');
  const restingIds = new Set(resting.map((o) => o.request.clientOrderId));
  return { orders: state.orders, resting: { orders: resting, consumed: state.consumed, feeBalances: state.feeBalances.filter((b) => restingIds.has(b.clientOrderId)) } };
}

/**
 * The paper exchange's state in Redis: one key per market (its resting orders, consumed liquidity
 * and fee balances, as JSON), one per order, and the set of markets with resting orders. Writes are
 * optimistic transactions (WATCH the market and order keys, MULTI/EXEC, again on a conflict), so
 * processes never hold a lock a crash could leave behind. WATCH belongs to a connection: this
 * store has its own and runs its operations one at a time.
 */
export class RedisSimStore implements SimStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly newEngine: () => SimMatchingEngine,
  ) {}

  private marketKey(market: string): string {
    return `${this.prefix}:sim:market:${market}`;
  }

  private orderKey(clientOrderId: string): string {
    return `${this.prefix}:sim:order:${clientOrderId}`;
  }

  private get restingKey(): string {
    return `${this.prefix}:sim:resting-markets`;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const step = async () => {
      await this.connected();
      return op();
    };
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Waits out an outage before a transaction starts (the connection has no offline queue: see createSimVenue). */
  private async connected(): Promise<void> {
    if (this.redis.status === 'ready') return;
    if (this.redis.status === 'end') throw new Error('paper exchange store: its Redis connection is closed');
    await new Promise<void>((resolve) => this.redis.once('ready', () => resolve()));
  }

  order(clientOrderId: string): Promise<SimOrderState | undefined> {
    return this.serial(async () => {
      const text = await this.redis.get(this.orderKey(clientOrderId));
      return text === null ? undefined : decodeSimOrder(text);
    });
  }

  marketsWithRestingOrders(markets: readonly string[]): Promise<string[]> {
    if (markets.length === 0) return Promise.resolve([]);
    return this.serial(async () => {
      const member = await this.redis.smismember(this.restingKey, ...markets);
      return markets.filter((_, i) => member[i] === 1);
    });
  }

  update<T>(market: string, orderId: string | undefined, change: (engine: SimMatchingEngine) => T): Promise<T> {
    return this.serial(async () => {
      const keys = [this.marketKey(market), ...(orderId === undefined ? [] : [this.orderKey(orderId)])];
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        await this.redis.watch(...keys);
        let write: ReturnType<Redis['multi']>;
        let result: T;
        try {
          const [marketText, orderText] = await this.redis.mget(...keys);
          const engine = this.newEngine();
          if (marketText) engine.loadMarket(market, decodeSimMarket(marketText));
          if (orderText && orderId !== undefined && !engine.orders.has(orderId)) engine.loadMarket(market, { orders: [decodeSimOrder(orderText)], consumed: [], feeBalances: [] });
          result = change(engine);
          const { orders, resting } = split(engine, market);
          write = this.redis.multi();
          if (resting.orders.length > 0) write.set(this.marketKey(market), encodeSimMarket(resting)).sadd(this.restingKey, market);
          else write.set(this.marketKey(market), encodeSimMarket(resting), 'EX', IDLE_MARKET_TTL_S).srem(this.restingKey, market);
          for (const o of orders) {
            if (o.status === 'resting') write.set(this.orderKey(o.request.clientOrderId), encodeSimOrder(o));
            else write.set(this.orderKey(o.request.clientOrderId), encodeSimOrder(o), 'EX', FINISHED_ORDER_TTL_S);
          }
        } catch (err) {
          await this.redis.unwatch();
          throw err;
        }
        // null: a watched key changed since it was read; run the change again on what is there now.
        if ((await write.exec()) !== null) return result;
      }
      throw new Error(`paper exchange: market ${market} kept changing under ${MAX_ATTEMPTS} attempts to write it`);
    });
  }

  async close(): Promise<void> {
    await this.queue;
    // A connection still reconnecting (Redis down, or back but not ready) cannot send QUIT: it is dropped instead.
    if (this.redis.status !== 'end') await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The same store in this process's memory (one process only: tests, a venue side by side with another). */
export class MemorySimStore implements SimStore {
  private readonly markets = new Map<string, string>();
  private readonly orders = new Map<string, string>();

  constructor(private readonly newEngine: () => SimMatchingEngine) {}

  async order(clientOrderId: string): Promise<SimOrderState | undefined> {
    const text = this.orders.get(clientOrderId);
    return text === undefined ? undefined : decodeSimOrder(text);
  }

  async marketsWithRestingOrders(markets: readonly string[]): Promise<string[]> {
    return markets.filter((m) => {
      const text = this.markets.get(m);
      return text !== undefined && decodeSimMarket(text).orders.length > 0;
    });
  }

  async update<T>(market: string, orderId: string | undefined, change: (engine: SimMatchingEngine) => T): Promise<T> {
    const engine = this.newEngine();
    const marketText = this.markets.get(market);
    if (marketText) engine.loadMarket(market, decodeSimMarket(marketText));
    const orderText = orderId === undefined ? undefined : this.orders.get(orderId);
    if (orderText && orderId !== undefined && !engine.orders.has(orderId)) engine.loadMarket(market, { orders: [decodeSimOrder(orderText)], consumed: [], feeBalances: [] });
    const result = change(engine);
    const { orders, resting } = split(engine, market);
    this.markets.set(market, encodeSimMarket(resting));
    for (const o of orders) this.orders.set(o.request.clientOrderId, encodeSimOrder(o));
    return result;
  }

  async close(): Promise<void> {}
}
