import { ClobClient, type ApiKeyCreds, type SignedOrder } from '@polymarket/clob-client';
import { Redis } from 'ioredis';
import { z } from 'zod';
import type { KestrelConfig } from '../../config/schema';
import { ExchangeNotAvailable } from '../../domain/errors';
import { polymarketEndpoints, polymarketSignatureType, type PolymarketEndpoints } from './config';
import { PolymarketExecutionClient, type PolymarketClobApi, type PolymarketOrderIdStore } from './execution';
import type { PolymarketMarketRules } from './order-signing';
import { parseClobMarket, polymarketMarketRules, type ClobMarket } from './providers';
import { polymarketSignerFromKey } from './signer';
import { PolymarketUserChannel } from './user-ws-client';

export interface PolymarketVenue {
  endpoints: PolymarketEndpoints;
  /** The wallet that signs (and, with signature type eoa, holds the funds). */
  address: string;
  execution: PolymarketExecutionClient;
  /** The official client with the derived API key, once derived (the first call derives it). */
  clob(): Promise<ClobClient>;
  /** The user channel, once the API key is derived. */
  userChannel(): PolymarketUserChannel | undefined;
}

const orderIdEntrySchema = z.object({ orderId: z.string().min(1), size: z.string().min(1) });

/**
 * Order ids kept in Redis (one hash per key prefix): written before an order is sent, so a process
 * that restarts after a crash mid-send still finds the venue's order (its hash) by client order id,
 * to look it up or cancel it.
 */
export class RedisPolymarketOrderIdStore implements PolymarketOrderIdStore {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async get(clientOrderId: string): Promise<{ orderId: string; size: string } | undefined> {
    const text = await this.redis.hget(this.key, clientOrderId);
    if (text === null) return undefined;
    const parsed = orderIdEntrySchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`polymarket order id of ${clientOrderId} in Redis is unreadable: ${text.slice(0, 200)}`);
    return parsed.data;
  }

  async set(clientOrderId: string, entry: { orderId: string; size: string }): Promise<void> {
    await this.redis.hset(this.key, clientOrderId, JSON.stringify(entry));
  }
}

/** The Redis hash of one wallet's order ids. */
export const polymarketOrderIdsKey = (prefix: string, address: string) => `${prefix}:polymarket:order-ids:${address.toLowerCase()}`;

/**
 * Polymarket's adapters built from config (the Kalshi factory's counterpart): the environment picks
 * production, Amoy or the local emulator; the wallet key comes from the environment only
 * (POLYMARKET_PRIVATE_KEY, venues/polymarket/config.ts). The API key (L2 credentials) is derived by
 * the official client from the wallet's L1 signature on first use (created, or derived if it
 * exists), so building the venue needs no network; once derived, the user channel starts (fills and
 * order states pushed; REST lookups fill the gaps) and heartbeats run every `heartbeatMs`.
 * A market's trading rules (its tokens, neg-risk flag, fee rate) come from GET /markets/{condition}
 * (the condition named by the token's book), its tick from the book each time: the venue moves it.
 */
export function createPolymarketVenue(
  config: Pick<KestrelConfig, 'venues' | 'redis'>,
  deps: { privateKey: `0x${string}`; log?: (line: string) => void; orderIds?: PolymarketOrderIdStore },
): PolymarketVenue {
  const endpoints = polymarketEndpoints(config.venues);
  const settings = config.venues.polymarket;
  const log = deps.log ?? (() => {});
  const { signer, address } = polymarketSignerFromKey(deps.privateKey);
  const signatureType = polymarketSignatureType(settings.signatureType);
  const funder = settings.funder || undefined;
  const clientWith = (creds: ApiKeyCreds | undefined, throwOnError: boolean) =>
    new ClobClient(endpoints.restUrl, endpoints.chainId, signer, creds, signatureType, funder, undefined, false, undefined, undefined, false, undefined, throwOnError);

  let closed = false;
  let channel: PolymarketUserChannel | undefined;
  const subscribed = new Set<string>();
  let session: Promise<ClobClient> | undefined;
  // The first call derives the API key; a failure is forgotten, so the next call tries again.
  const clob = (): Promise<ClobClient> =>
    (session ??= (async () => {
      // Not throwing: an existing key answers its creation with an error body, and is then derived.
      const creds = await clientWith(undefined, false).createOrDeriveApiKey();
      if (!creds?.key || !creds.secret || !creds.passphrase) throw new ExchangeNotAvailable(`Polymarket API key for ${address}: neither created nor derived (${endpoints.restUrl})`);
      const client = clientWith(creds, true);
      if (!closed && !channel) {
        channel = new PolymarketUserChannel({
          url: endpoints.userWsUrl,
          creds: { key: creds.key, secret: creds.secret, passphrase: creds.passphrase },
          markets: [...subscribed],
          onMessage: (msg) => {
            const applied = execution.applyUserMessage(msg);
            if (!applied.ok) log(`polymarket user channel: unreadable message (${applied.error})`);
          },
          onMalformed: (raw, error) => log(`polymarket user channel: malformed frame (${error}): ${raw.slice(0, 300)}`),
          log,
        });
        void channel.start().catch((err: Error) => log(`polymarket user channel failed to start: ${err.message}`));
      }
      return client;
    })().catch((err: unknown) => {
      session = undefined;
      throw err;
    }));

  const api: PolymarketClobApi = {
    postOrder: async (order: SignedOrder, orderType?: string, deferExec?: boolean, postOnly?: boolean) => (await clob()).postOrder(order, orderType as never, deferExec, postOnly),
    getOrder: async (orderId) => (await clob()).getOrder(orderId),
    cancelOrder: async (payload) => (await clob()).cancelOrder(payload),
    postHeartbeat: async (heartbeatId) => (await clob()).postHeartbeat(heartbeatId),
    getTrades: async (params, onlyFirstPage) => (await clob()).getTrades(params, onlyFirstPage),
  };

  const markets = new Map<string, ClobMarket>();
  const rules = async (asset: string): Promise<PolymarketMarketRules> => {
    const client = await clob();
    // The token's book names its market (condition id) and the tick the venue uses now.
    const book = await client.getOrderBook(asset);
    const tick = book.tick_size ? String(book.tick_size) : undefined;
    let market = markets.get(book.market);
    if (!market) {
      const raw = (await client.getMarket(book.market)) as Record<string, unknown>;
      // A market whose first token has no book yet names no minimum tick: the book's is the one.
      market = parseClobMarket(raw.minimum_tick_size === null && tick ? { ...raw, minimum_tick_size: tick } : raw);
      markets.set(book.market, market);
    }
    if (!subscribed.has(market.condition_id)) {
      subscribed.add(market.condition_id);
      channel?.subscribe([market.condition_id]);
    }
    return polymarketMarketRules(market, asset, tick);
  };

  let orderIdRedis: Redis | undefined;
  let orderIds = deps.orderIds;
  if (!orderIds) {
    orderIdRedis = new Redis(config.redis.url, { maxRetriesPerRequest: 3, connectionName: 'kestrel-polymarket-order-ids', lazyConnect: true });
    orderIdRedis.on('error', () => {});
    orderIds = new RedisPolymarketOrderIdStore(orderIdRedis, polymarketOrderIdsKey(config.redis.keyPrefix, address));
  }
  const execution = new PolymarketExecutionClient({
    api,
    account: { signer, maker: funder ?? address, signerAddress: address, signatureType, chainId: endpoints.chainId },
    rules,
    orderIds,
    heartbeatMs: settings.heartbeatMs || undefined,
    log,
    onClose: async () => {
      closed = true;
      await channel?.close();
      if (orderIdRedis && orderIdRedis.status !== 'end') await orderIdRedis.quit().catch(() => orderIdRedis?.disconnect());
    },
  });
  // Derive the key (and start the user channel) now; with heartbeats on, the chain starts once it is.
  void clob()
    .then(async () => {
      if (settings.heartbeatMs > 0 && !closed) await execution.startHeartbeats();
    })
    .catch((err: Error) => log(`polymarket: API key not derived yet (${err.message}); the next request tries again`));
  return { endpoints, address, execution, clob, userChannel: () => channel };
}
