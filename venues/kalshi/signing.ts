import { constants, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Kalshi request signing: RSA-PSS with SHA-256 and salt length = digest length, over
 * `timestampMs + METHOD + path`, where path is the URL path without its query string
 * (e.g. `/trade-api/v2/portfolio/orders`). Headers: KALSHI-ACCESS-KEY/-SIGNATURE/-TIMESTAMP.
 */
export function kalshiSigningMessage(timestampMs: number, method: string, pathWithMaybeQuery: string): string {
  const path = pathWithMaybeQuery.split('?')[0]!;
  return `${timestampMs}${method.toUpperCase()}${path}`;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

export function signKalshiRequest(privateKey: KeyObject, timestampMs: number, method: string, path: string): string {
  return sign('sha256', Buffer.from(kalshiSigningMessage(timestampMs, method, path)), { key: privateKey, ...PSS }).toString('base64');
}

export function verifyKalshiSignature(publicKey: KeyObject, timestampMs: number, method: string, path: string, signatureBase64: string): boolean {
  return verify('sha256', Buffer.from(kalshiSigningMessage(timestampMs, method, path)), { key: publicKey, ...PSS }, Buffer.from(signatureBase64, 'base64'));
}

export interface KalshiCredentials {
  apiKeyId: string;
  privateKey: KeyObject;
}

/** Credentials that are missing a part, unreadable or not a usable key: a configuration error (never echoes key material). */
export class KalshiCredentialsError extends Error {}

export function loadKalshiCredentials(apiKeyId: string, privateKeyPem: string): KalshiCredentials {
  if (!apiKeyId) throw new KalshiCredentialsError('Kalshi API key id is empty');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    // Never echo key material in errors.
    throw new KalshiCredentialsError('Kalshi private key could not be parsed (expected an RSA private key in PEM format)');
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new KalshiCredentialsError(`Kalshi private key must be RSA, got ${privateKey.asymmetricKeyType}`);
  return { apiKeyId, privateKey };
}

export function kalshiAuthHeaders(credentials: KalshiCredentials, timestampMs: number, method: string, path: string): Record<string, string> {
  return {
    'KALSHI-ACCESS-KEY': credentials.apiKeyId,
    'KALSHI-ACCESS-SIGNATURE': signKalshiRequest(credentials.privateKey, timestampMs, method, path),
    'KALSHI-ACCESS-TIMESTAMP': String(timestampMs),
  };
}

export const publicKeyOf = (privateKey: KeyObject): KeyObject => createPublicKey(privateKey);

/**
 * Credentials from the environment only: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (a PEM file).
 * Neither is ever put in config, logs or error messages (errors name the variable, not its value).
 */
export function kalshiCredentialsFromEnv(env: NodeJS.ProcessEnv, readFile: (path: string) => string): KalshiCredentials | undefined {
  const keyId = env.KALSHI_API_KEY_ID;
  const keyPath = env.KALSHI_PRIVATE_KEY_PATH;
  if (!keyId && !keyPath) return undefined;
  if (!keyId || !keyPath) throw new KalshiCredentialsError('Kalshi credentials need both KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH');
  let pem: string;
  try {
    pem = readFile(keyPath);
  } catch (e) {
    throw new KalshiCredentialsError(`cannot read the file named by KALSHI_PRIVATE_KEY_PATH (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return loadKalshiCredentials(keyId, pem);
}
