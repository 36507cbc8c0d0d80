import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { getContractConfig } from '@polymarket/clob-client';
import { hashTypedData, recoverTypedDataAddress, type TypedDataDefinition } from 'viem';

/** What the official client signs to prove it holds the wallet (L1 auth), from the CLOB's docs and client. */
const CLOB_AUTH_MESSAGE = 'This message attests that I control the given wallet';
const CLOB_AUTH_TYPES = {
  ClobAuth: [
    { name: 'address', type: 'address' },
    { name: 'timestamp', type: 'string' },
    { name: 'nonce', type: 'uint256' },
    { name: 'message', type: 'string' },
  ],
} as const;

/** The CTF Exchange's EIP-712 `Order` struct, written out from the contract (its own field order), not taken from the official client. */
export const CTF_EXCHANGE_ORDER_STRUCT = [
  { name: 'salt', type: 'uint256' },
  { name: 'maker', type: 'address' },
  { name: 'signer', type: 'address' },
  { name: 'taker', type: 'address' },
  { name: 'tokenId', type: 'uint256' },
  { name: 'makerAmount', type: 'uint256' },
  { name: 'takerAmount', type: 'uint256' },
  { name: 'expiration', type: 'uint256' },
  { name: 'nonce', type: 'uint256' },
  { name: 'feeRateBps', type: 'uint256' },
  { name: 'side', type: 'uint8' },
  { name: 'signatureType', type: 'uint8' },
] as const;

const ORDER_TYPES = { Order: CTF_EXCHANGE_ORDER_STRUCT } as const;

export interface ApiCreds {
  key: string;
  secret: string;
  passphrase: string;
}

export class AuthError extends Error {}

/** The order as POST /order carries it (the client's `orderToJson`). */
export interface WireOrder {
  salt: number | string;
  maker: string;
  signer: string;
  taker: string;
  tokenId: string;
  makerAmount: string;
  takerAmount: string;
  side: 'BUY' | 'SELL';
  expiration: string;
  nonce: string;
  feeRateBps: string;
  signatureType: number;
  signature: string;
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string => {
  const v = headers[name.toLowerCase()];
  if (typeof v !== 'string' || v === '') throw new AuthError(`missing header ${name}`);
  return v;
};

/**
 * API keys and request authentication as the CLOB does them: L1 (an EIP-712 `ClobAuth` signature by
 * the wallet) creates or derives a key; L2 (HMAC-SHA256 of timestamp + method + path + body with the
 * key's secret) authenticates every trading request. Keys derive from a per-emulator secret, the
 * wallet and the nonce, so deriving again returns the same key.
 */
export class EmulatorAuth {
  private readonly serverSecret = randomBytes(32);
  private readonly byKey = new Map<string, ApiCreds & { address: string; nonce: string }>();

  constructor(private readonly chainId: number) {}

  /** Checks L1 headers; returns the wallet address and nonce they prove. */
  async verifyL1(headers: Record<string, string | string[] | undefined>): Promise<{ address: string; nonce: string }> {
    const address = header(headers, 'POLY_ADDRESS');
    const signature = header(headers, 'POLY_SIGNATURE');
    const timestamp = header(headers, 'POLY_TIMESTAMP');
    const nonce = headers.poly_nonce === undefined ? '0' : header(headers, 'POLY_NONCE');
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new AuthError('Invalid L1 Request headers: POLY_ADDRESS is not an address');
    if (!/^\d+$/.test(nonce) || !/^\d+$/.test(timestamp)) throw new AuthError('Invalid L1 Request headers: POLY_NONCE and POLY_TIMESTAMP must be whole numbers');
    const typed = { domain: { name: 'ClobAuthDomain', version: '1', chainId: this.chainId }, types: CLOB_AUTH_TYPES, primaryType: 'ClobAuth' as const, message: { address: address as `0x${string}`, timestamp, nonce: BigInt(nonce), message: CLOB_AUTH_MESSAGE } };
    let recovered: string;
    try {
      recovered = await recoverTypedDataAddress({ ...typed, signature: signature as `0x${string}` });
    } catch {
      throw new AuthError('Invalid L1 Request headers: unreadable signature');
    }
    if (recovered.toLowerCase() !== address.toLowerCase()) throw new AuthError('Invalid L1 Request headers: the signature is not by POLY_ADDRESS');
    return { address: address.toLowerCase(), nonce };
  }

  /** The key this wallet and nonce derive to (the same every time). */
  private credsFor(address: string, nonce: string): ApiCreds {
    const digest = createHmac('sha256', this.serverSecret).update(`${address}|${nonce}`).digest();
    const hex = digest.toString('hex');
    const key = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    const secret = createHmac('sha256', this.serverSecret).update(`secret|${address}|${nonce}`).digest('base64url');
    const passphrase = createHmac('sha256', this.serverSecret).update(`passphrase|${address}|${nonce}`).digest('hex');
    return { key, secret, passphrase };
  }

  /** POST /auth/api-key: a new key, or undefined when this wallet and nonce already have one (the client then derives it). */
  create(address: string, nonce: string): ApiCreds | undefined {
    const creds = this.credsFor(address, nonce);
    if (this.byKey.has(creds.key)) return undefined;
    this.byKey.set(creds.key, { ...creds, address, nonce });
    return creds;
  }

  /** GET /auth/derive-api-key: the key of this wallet and nonce (deterministic, so deriving before creating gives the same key). */
  derive(address: string, nonce: string): ApiCreds {
    const creds = this.credsFor(address, nonce);
    if (!this.byKey.has(creds.key)) this.byKey.set(creds.key, { ...creds, address, nonce });
    return creds;
  }

  /** Checks L2 headers on a request; returns the API key and its wallet. */
  verifyL2(headers: Record<string, string | string[] | undefined>, method: string, path: string, body: string): { key: string; address: string } {
    const key = header(headers, 'POLY_API_KEY');
    const creds = this.byKey.get(key);
    if (!creds) throw new AuthError('Unauthorized/Invalid api key');
    if (header(headers, 'POLY_PASSPHRASE') !== creds.passphrase) throw new AuthError('Unauthorized/Invalid api key');
    if (header(headers, 'POLY_ADDRESS').toLowerCase() !== creds.address) throw new AuthError('Unauthorized/Invalid api key: POLY_ADDRESS is not the key\'s wallet');
    const timestamp = header(headers, 'POLY_TIMESTAMP');
    const expected = polyHmac(creds.secret, timestamp, method, path, body);
    const given = Buffer.from(header(headers, 'POLY_SIGNATURE'));
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) throw new AuthError('Unauthorized/Invalid api key: bad POLY_SIGNATURE');
    return { key, address: creds.address };
  }

  /** A user-channel subscription's credentials: the key must exist and its secret and passphrase match. */
  verifyCreds(creds: Partial<ApiCreds>): { key: string; address: string } | undefined {
    const known = creds.key === undefined ? undefined : this.byKey.get(creds.key);
    return known && known.secret === creds.secret && known.passphrase === creds.passphrase ? { key: known.key, address: known.address } : undefined;
  }
}

/** The client's L2 signature: URL-safe base64 HMAC-SHA256 (secret is base64) of timestamp + method + path + body. */
export function polyHmac(secret: string, timestamp: string, method: string, path: string, body: string): string {
  const keyBytes = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return createHmac('sha256', keyBytes).update(`${timestamp}${method}${path}${body}`).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Verifies an order's EIP-712 signature against the exchange it settles on (the neg-risk exchange
 * for neg-risk markets) and returns its hash: the venue's order id.
 */
export async function verifyOrderSignature(order: WireOrder, opts: { chainId: 137 | 80002; negRisk: boolean }): Promise<string> {
  const contracts = getContractConfig(opts.chainId);
  const message = {
    salt: BigInt(order.salt),
    maker: order.maker as `0x${string}`,
    signer: order.signer as `0x${string}`,
    taker: order.taker as `0x${string}`,
    tokenId: BigInt(order.tokenId),
    makerAmount: BigInt(order.makerAmount),
    takerAmount: BigInt(order.takerAmount),
    expiration: BigInt(order.expiration),
    nonce: BigInt(order.nonce),
    feeRateBps: BigInt(order.feeRateBps),
    side: order.side === 'BUY' ? 0 : 1,
    signatureType: order.signatureType,
  };
  const typed = {
    domain: { name: 'Polymarket CTF Exchange', version: '1', chainId: opts.chainId, verifyingContract: (opts.negRisk ? contracts.negRiskExchange : contracts.exchange) as `0x${string}` },
    types: ORDER_TYPES,
    primaryType: 'Order' as const,
    message,
  } satisfies TypedDataDefinition<typeof ORDER_TYPES, 'Order'>;
  let recovered: string;
  try {
    recovered = await recoverTypedDataAddress({ ...typed, signature: order.signature as `0x${string}` });
  } catch {
    throw new AuthError('invalid signature');
  }
  if (recovered.toLowerCase() !== order.signer.toLowerCase()) throw new AuthError('invalid signature');
  return hashTypedData(typed);
}
