import { SignatureType } from '@polymarket/clob-client';
import type { KestrelConfig } from '../../config/schema';

export type PolymarketEnvironment = KestrelConfig['venues']['polymarket']['environment'];

export interface PolymarketEndpoints {
  environment: PolymarketEnvironment;
  /** CLOB REST base, e.g. https://clob.polymarket.com */
  restUrl: string;
  /** Market channel, e.g. wss://ws-subscriptions-clob.polymarket.com/ws/market */
  marketWsUrl: string;
  /** User channel (the account's orders and trades). */
  userWsUrl: string;
  /** The chain the orders and API-key requests are signed for. */
  chainId: 137 | 80002;
}

/** The paths the emulator serves its two channels at (the venue's own). */
const MARKET_PATH = '/ws/market';
const USER_PATH = '/ws/user';

// The official client's production host on Polygon (137), as its README names it.
const PRODUCTION = { rest: 'https://clob.polymarket.com', ws: 'wss://ws-subscriptions-clob.polymarket.com/ws', chainId: 137 as const };

/** URLs and chain of the configured Polymarket environment; `restUrl` / `wsUrl` / `userWsUrl` / `chainId` in config override them. */
export function polymarketEndpoints(venues: KestrelConfig['venues']): PolymarketEndpoints {
  const p = venues.polymarket;
  // Amoy (80002) is the chain the official client names for testing; it names no host for it: the URLs must be given.
  if (p.environment === 'amoy' && (!p.restUrl || !p.wsUrl || !p.userWsUrl)) throw new Error('venues.polymarket.environment amoy has no documented hosts: set venues.polymarket.restUrl, wsUrl and userWsUrl');
  const hosts = p.environment === 'emulator' ? { rest: `http://${p.emulatorHost}:${p.emulatorPort}`, ws: `ws://${p.emulatorHost}:${p.emulatorPort}/ws`, chainId: 137 as const } : p.environment === 'amoy' ? { rest: '', ws: '', chainId: 80002 as const } : PRODUCTION;
  return {
    environment: p.environment,
    restUrl: p.restUrl || hosts.rest,
    marketWsUrl: p.wsUrl || `${hosts.ws}${MARKET_PATH.slice('/ws'.length)}`,
    userWsUrl: p.userWsUrl || `${hosts.ws}${USER_PATH.slice('/ws'.length)}`,
    chainId: p.chainId === 0 ? hosts.chainId : p.chainId,
  };
}

/** `venues.polymarket.signatureType` as the official client's enum. */
export function polymarketSignatureType(name: KestrelConfig['venues']['polymarket']['signatureType']): SignatureType {
  return name === 'eoa' ? SignatureType.EOA : name === 'poly_proxy' ? SignatureType.POLY_PROXY : SignatureType.POLY_GNOSIS_SAFE;
}

/** The wallet key that signs orders and derives the API key: POLYMARKET_PRIVATE_KEY (0x + 64 hex digits), from the environment only. */
export function polymarketPrivateKeyFromEnv(env: NodeJS.ProcessEnv): `0x${string}` | undefined {
  const raw = env.POLYMARKET_PRIVATE_KEY?.trim();
  if (!raw) return undefined;
  const key = raw.startsWith('0x') ? raw : `0x${raw}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error('POLYMARKET_PRIVATE_KEY must be a private key: 64 hex digits (with or without 0x)');
  return key as `0x${string}`;
}
