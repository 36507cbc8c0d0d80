import type { KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { verifyKalshiSignature } from '../signing';
import type { HandshakeVerdict } from './types';

export const INVALID_SIGNATURE = 'invalid signature';

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Kalshi's request authentication: KALSHI-ACCESS-KEY names a registered key, KALSHI-ACCESS-TIMESTAMP
 * (ms) is within `windowMs` of wall time, and KALSHI-ACCESS-SIGNATURE is the RSA-PSS signature of
 * timestamp + METHOD + path (no query) under that key. Used for REST requests and the WS handshake.
 */
export function verifyKalshiHeaders(headers: IncomingHttpHeaders, method: string, path: string, publicKeyOf: (apiKeyId: string) => KeyObject | undefined, wallNowMs: number, windowMs: number): HandshakeVerdict {
  const apiKeyId = header(headers, 'KALSHI-ACCESS-KEY');
  const timestamp = header(headers, 'KALSHI-ACCESS-TIMESTAMP');
  const signature = header(headers, 'KALSHI-ACCESS-SIGNATURE');
  if (!apiKeyId || !timestamp || !signature) return { ok: false, status: 401, message: 'missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE header' };
  const publicKey = publicKeyOf(apiKeyId);
  if (!publicKey) return { ok: false, status: 401, message: 'unknown API key' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, status: 401, message: 'KALSHI-ACCESS-TIMESTAMP must be milliseconds since the epoch' };
  const ts = Number(timestamp);
  if (Math.abs(ts - wallNowMs) > windowMs) return { ok: false, status: 401, message: `request timestamp is more than ${windowMs / 1000}s from the exchange's time` };
  let valid = false;
  try {
    valid = verifyKalshiSignature(publicKey, ts, method, path, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, status: 401, message: INVALID_SIGNATURE };
  return { ok: true, apiKeyId };
}
