import type { ParseArgsConfig } from 'node:util';
import { startPolymarketEmulator } from './server';
import { untilStopSignal } from '../../until-stopped';

/** A bad command line (the CLI exits 2 with the message). */
export class PolymarketEmulatorUsageError extends Error {}

export const POLYMARKET_EMULATE_USAGE = [
  'kestrel venue emulate polymarket [--port 8788] [--host 127.0.0.1] [--data DIR] [--speed X] [--start ISO-TIME]',
  '                                 [--fee-rate-bps N] [--neg-risk CONDITION_ID,...] [--chain-id 137|80002]',
  '',
  'Serves the Polymarket CLOB REST API at http://HOST:PORT and its market and user WebSocket channels at',
  '/ws/market and /ws/user over the recorded market channel in DIR (*.jsonl; default ../shared/data/polymarket-ws-samples),',
  'on the recording\'s exchange clock (--speed X: X times recorded pace, default 1). API keys come from',
  'POST /auth/api-key or GET /auth/derive-api-key with the wallet\'s L1 signature; orders must carry a valid',
  'EIP-712 signature (against the neg-risk exchange for --neg-risk markets) and the market\'s fee rate',
  '(--fee-rate-bps, default 0). GET /_emulator/state shows the clock and counters. Stops on SIGINT/SIGTERM.',
].join('\n');

export const POLYMARKET_EMULATE_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  data: { type: 'string' },
  'fee-rate-bps': { type: 'string' },
  'neg-risk': { type: 'string' },
  'chain-id': { type: 'string' },
};

type Values = Record<string, string | boolean | undefined>;

export interface PolymarketEmulateSettings {
  host: string;
  port: number;
  dataDir: string;
  speed: number;
  startAtMs: number | undefined;
  feeRateBps: string;
  negRiskMarkets: string[];
  chainId: 137 | 80002;
}

const KALSHI_ONLY = ['feed', 'markets', 'api-key-id', 'public-key', 'balance', 'fault-429', 'fault-5xx', 'fault-lose-orders', 'pause-trading'];

/** Validates `venue emulate polymarket …`; throws PolymarketEmulatorUsageError on anything wrong. */
export function parsePolymarketEmulateArgs(values: Values, defaultDataDir: string): PolymarketEmulateSettings {
  const kalshiOnly = KALSHI_ONLY.find((name) => values[name] !== undefined);
  if (kalshiOnly) throw new PolymarketEmulatorUsageError(`--${kalshiOnly} is a Kalshi emulator option`);
  const portText = values.port ?? '8788';
  if (typeof portText !== 'string' || !/^\d+$/.test(portText) || Number(portText) > 65_535) throw new PolymarketEmulatorUsageError(`--port must be an integer 0..65535, got ${JSON.stringify(values.port)}`);
  const speedText = values.speed ?? '1';
  const speed = Number(speedText);
  if (typeof speedText !== 'string' || speedText.trim() === '' || !Number.isFinite(speed) || speed <= 0 || speed > 100_000) throw new PolymarketEmulatorUsageError(`--speed must be a number in (0, 100000], got ${JSON.stringify(values.speed)}`);
  let startAtMs: number | undefined;
  if (values.start !== undefined) {
    startAtMs = typeof values.start === 'string' ? Date.parse(values.start) : NaN;
    if (!Number.isFinite(startAtMs)) throw new PolymarketEmulatorUsageError(`--start must be an ISO time, got ${JSON.stringify(values.start)}`);
  }
  const fee = values['fee-rate-bps'] ?? '0';
  if (typeof fee !== 'string' || !/^\d{1,4}$/.test(fee) || Number(fee) > 10_000) throw new PolymarketEmulatorUsageError(`--fee-rate-bps must be basis points 0..10000, got ${JSON.stringify(values['fee-rate-bps'])}`);
  const negRisk = values['neg-risk'];
  const negRiskMarkets = typeof negRisk === 'string' ? negRisk.split(',').map((s) => s.trim()).filter(Boolean) : [];
  const bad = negRiskMarkets.find((id) => !/^0x[0-9a-fA-F]{64}$/.test(id));
  if (bad !== undefined) throw new PolymarketEmulatorUsageError(`--neg-risk takes condition ids (0x + 64 hex digits), got ${JSON.stringify(bad)}`);
  const chain = values['chain-id'] ?? '137';
  if (chain !== '137' && chain !== '80002') throw new PolymarketEmulatorUsageError(`--chain-id must be 137 (Polygon) or 80002 (Amoy), got ${JSON.stringify(chain)}`);
  return {
    host: typeof values.host === 'string' ? values.host : '127.0.0.1',
    port: Number(portText),
    dataDir: typeof values.data === 'string' ? values.data : defaultDataDir,
    speed,
    startAtMs,
    feeRateBps: String(Number(fee)),
    negRiskMarkets,
    chainId: chain === '137' ? 137 : 80002,
  };
}

/** `kestrel venue emulate polymarket`: serves until SIGINT/SIGTERM; prints its URLs on stdout, logs on stderr. */
export async function runPolymarketEmulateCommand(positionals: string[], values: Values, io: { defaultDataDir: string; out: (line: string) => void; err: (line: string) => void }): Promise<number> {
  if (positionals.length > 2) throw new PolymarketEmulatorUsageError(`unexpected argument ${JSON.stringify(positionals[2])}`);
  const settings = parsePolymarketEmulateArgs(values, io.defaultDataDir);
  const emulator = await startPolymarketEmulator({
    host: settings.host,
    port: settings.port,
    dataDir: settings.dataDir,
    speed: settings.speed,
    startAtMs: settings.startAtMs,
    defaultFeeRateBps: settings.feeRateBps,
    negRiskMarkets: settings.negRiskMarkets,
    chainId: settings.chainId,
    log: (line) => io.err(`[polymarket-emulator] ${line}`),
  });
  io.out(`polymarket emulator listening: REST ${emulator.url}  market channel ${emulator.marketWsUrl}  user channel ${emulator.userWsUrl}`);
  await untilStopSignal();
  await emulator.close();
  io.err('[polymarket-emulator] stopped cleanly');
  return 0;
}
