import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { startKalshiEmulator } from './server';
import type { FaultPlan } from './faults';
import { untilStopSignal } from '../../until-stopped';

/** A bad command line (the CLI exits 2 with the message). */
export class EmulatorUsageError extends Error {}

export const VENUE_EMULATE_USAGE = [
  'kestrel venue emulate kalshi [--port 8787] [--host 127.0.0.1] [--feed replay:gold] [--markets N] [--speed X] [--start ISO-TIME]',
  '                             [--api-key-id ID --public-key FILE] [--balance DOLLARS]',
  '                             [--fault-429 N] [--fault-5xx N] [--fault-lose-orders N] [--pause-trading]',
  '',
  'Serves Kalshi Trade API v2 at http://HOST:PORT/trade-api/v2 and its WebSocket at /trade-api/ws/v2 over the',
  'recorded gold feed, on the recording\'s exchange clock (--speed X: X times recorded pace, default 1; gaps',
  'between recorded windows are skipped). --markets N lists the first N recorded markets (default all).',
  'Accounts: --api-key-id with --public-key (an RSA public key PEM) registers one account; without them no',
  'account exists and every signed endpoint (portfolio, orders, orderbook) answers 401.',
  'Faults: POST /_emulator/faults with JSON {"rate_limit":N,"server_errors":N,"lose_order_responses":N,"lose_amend_responses":N,',
  '"lose_mode":"destroy"|"hang","pause_trading":bool,"ws_disconnect":true,"ws_drop_messages":N};',
  'GET /_emulator/state shows the clock and counters. Stops cleanly on SIGINT/SIGTERM.',
].join('\n');

export const VENUE_EMULATE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  port: { type: 'string' },
  host: { type: 'string' },
  feed: { type: 'string' },
  markets: { type: 'string' },
  speed: { type: 'string' },
  start: { type: 'string' },
  'api-key-id': { type: 'string' },
  'public-key': { type: 'string' },
  balance: { type: 'string' },
  'fault-429': { type: 'string' },
  'fault-5xx': { type: 'string' },
  'fault-lose-orders': { type: 'string' },
  'pause-trading': { type: 'boolean' },
};

type Values = Record<string, string | boolean | undefined>;

function integer(values: Values, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || v < min || v > max) throw new EmulatorUsageError(`--${name} must be an integer ${min}..${max}, got ${JSON.stringify(raw)}`);
  return v;
}

export interface EmulateSettings {
  host: string;
  port: number;
  markets: number | undefined;
  speed: number;
  startAtMs: number | undefined;
  account: { apiKeyId: string; publicKey: KeyObject; balance?: string } | undefined;
  faults: FaultPlan;
}

/** Validates `venue emulate kalshi …`; throws EmulatorUsageError on anything wrong. */
export function parseEmulateArgs(positionals: string[], values: Values): EmulateSettings {
  const [action, venue, ...extra] = positionals;
  if (action !== 'emulate') throw new EmulatorUsageError(`unknown venue action ${JSON.stringify(action ?? '')}; expected: emulate`);
  if (venue !== 'kalshi') throw new EmulatorUsageError(`cannot emulate venue ${JSON.stringify(venue ?? '')}; emulated venues: kalshi`);
  if (extra.length) throw new EmulatorUsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const feed = values.feed ?? 'replay:gold';
  if (feed !== 'replay:gold') throw new EmulatorUsageError(`--feed must be replay:gold (the recorded Kalshi gold feed), got ${JSON.stringify(feed)}`);
  const speedText = values.speed ?? '1';
  const speed = Number(speedText);
  if (typeof speedText !== 'string' || speedText.trim() === '' || !Number.isFinite(speed) || speed <= 0 || speed > 100_000) throw new EmulatorUsageError(`--speed must be a number in (0, 100000], got ${JSON.stringify(values.speed)}`);
  let startAtMs: number | undefined;
  if (values.start !== undefined) {
    startAtMs = typeof values.start === 'string' ? Date.parse(values.start) : NaN;
    if (!Number.isFinite(startAtMs)) throw new EmulatorUsageError(`--start must be an ISO time, got ${JSON.stringify(values.start)}`);
  }
  const keyId = values['api-key-id'];
  const keyFile = values['public-key'];
  if ((keyId === undefined) !== (keyFile === undefined)) throw new EmulatorUsageError('--api-key-id and --public-key go together');
  let account: EmulateSettings['account'];
  if (typeof keyId === 'string' && typeof keyFile === 'string') {
    if (!keyId.trim()) throw new EmulatorUsageError('--api-key-id is empty');
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(readFileSync(keyFile, 'utf8'));
    } catch (e) {
      throw new EmulatorUsageError(`--public-key ${keyFile}: not a readable public key PEM (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (publicKey.asymmetricKeyType !== 'rsa') throw new EmulatorUsageError(`--public-key must be an RSA key, got ${publicKey.asymmetricKeyType}`);
    const balance = values.balance;
    if (balance !== undefined && (typeof balance !== 'string' || !/^\d+(\.\d{1,2})?$/.test(balance))) throw new EmulatorUsageError(`--balance must be dollars like 1000.00, got ${JSON.stringify(balance)}`);
    account = { apiKeyId: keyId, publicKey, balance: balance as string | undefined };
  } else if (values.balance !== undefined) throw new EmulatorUsageError('--balance needs --api-key-id and --public-key');
  return {
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    port: integer(values, 'port', 8787, 0, 65_535),
    markets: values.markets === undefined ? undefined : integer(values, 'markets', 0, 1, 10_000),
    speed,
    startAtMs,
    account,
    faults: {
      rate_limit: integer(values, 'fault-429', 0, 0, 1_000_000),
      server_errors: integer(values, 'fault-5xx', 0, 0, 1_000_000),
      lose_order_responses: integer(values, 'fault-lose-orders', 0, 0, 1_000),
      ...(values['pause-trading'] ? { pause_trading: true } : {}),
    },
  };
}

/**
 * `kestrel venue emulate kalshi`: serves until SIGINT/SIGTERM. Prints exactly one line on stdout
 * when listening; log lines (faults, market status changes) go to stderr.
 */
export async function runVenueCommand(positionals: string[], values: Values, io: { dataDir: () => string; out: (line: string) => void; err: (line: string) => void }): Promise<number> {
  const settings = parseEmulateArgs(positionals, values);
  const emulator = await startKalshiEmulator({
    host: settings.host,
    port: settings.port,
    dataDir: io.dataDir(),
    markets: settings.markets,
    speed: settings.speed,
    startAtMs: settings.startAtMs,
    accounts: settings.account ? [settings.account] : [],
    faults: settings.faults,
    log: (line) => io.err(`[kalshi-emulator] ${line}`),
  });
  io.out(`kalshi emulator listening on http://${settings.host}:${emulator.port}`);
  await untilStopSignal();
  await emulator.close();
  io.err('[kalshi-emulator] stopped cleanly');
  return 0;
}
