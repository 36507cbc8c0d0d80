import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ParseArgsConfig } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { ValidationError } from '../../domain/errors';
import { loadBootstrapConfig, loadConfigWithOverrides, type LoadedConfig } from '../../config/load';
import type { KestrelConfig } from '../../config/schema';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { readConfigOverrides } from '../../db/config-overrides';
import { TradingRepository } from '../../db/trading-repo';
import { createKalshiVenue, type KalshiVenue } from '../../venues/kalshi/factory';
import { kalshiCredentialsFromEnv } from '../../venues/kalshi/signing';

/** Parsed option values, as `node:util` parseArgs gives them. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** The shape `cli/main.ts` registers (kept structural so command files need nothing from main). */
export interface CliCommand {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** More for `kestrel <command> --help` (e.g. what `--json` prints), after the summary. */
  details?: string;
  run(args: { values: OptionValues; positionals: string[] }): Promise<number>;
}

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, unavailable: 4 } as const;

/** Bad arguments or unusable input files: the caller's to fix, reported without a stack trace (exit 2). */
export class CommandInputError extends ValidationError {}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const err = (line: string) => process.stderr.write(`${line}\n`);
/** `--json` output: one value, pretty-printed. */
export const json = (value: unknown) => out(JSON.stringify(value, null, 2));
/** `--json` output of a long-running command: one compact object per line. */
export const jsonLine = (value: unknown) => out(JSON.stringify(value));

/**
 * Runs a command body; input problems (ours and the domain's `ValidationError`s, e.g. a data file
 * error naming its row) become one line on stderr and exit code 2 instead of a stack trace.
 */
export async function asCommand(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof ValidationError) {
      err(`kestrel ${name}: ${e.message}\nusage: ${usage}`);
      return EXIT.usage;
    }
    throw e;
  }
}

export function requiredString(values: OptionValues, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CommandInputError(`--${name} is required`);
  return v;
}

/** A number option in [min, max] (inclusive), or the fallback when absent. */
export function numberOption(values: OptionValues, name: string, fallback: number, range: { min: number; max: number; integer?: boolean }): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < range.min || v > range.max || (range.integer && !Number.isInteger(v))) {
    throw new CommandInputError(`--${name} must be ${range.integer ? 'an integer' : 'a number'} in ${range.min}..${range.max}, got ${JSON.stringify(raw)}`);
  }
  return v;
}

/**
 * An integer option: `fallback` when absent, else the value, which must lie in [min, max]. The
 * error reads "must be a positive integer", "an integer ≥ min" or "an integer min..max".
 */
export function intOption<F extends number | undefined>(values: OptionValues, name: string, fallback: F, range: { min: number; max?: number } = { min: 1 }): number | F {
  const raw = values[name];
  if (raw === undefined) return fallback;
  // Plain decimal digits only: Number() would also take '0x10', '1e3' and ' 5 '.
  const v = typeof raw === 'string' && /^-?\d{1,15}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isInteger(v) && v >= range.min && (range.max === undefined || v <= range.max)) return v;
  const expected = range.max !== undefined ? `an integer ${range.min}..${range.max}` : range.min === 1 ? 'a positive integer' : `an integer ≥ ${range.min}`;
  throw new CommandInputError(`--${name} must be ${expected}, got ${JSON.stringify(raw)}`);
}

/** Reads a text file (gunzipped when it ends in .gz); a missing or unreadable file is an input error. */
export function readTextFile(file: string, what: string): string {
  try {
    if (!statSync(file).isFile()) throw new CommandInputError(`${what} ${file} is not a file`);
    const bytes = readFileSync(file);
    return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (e) {
    if (e instanceof CommandInputError) throw e;
    throw new CommandInputError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** A short-lived database handle for one command. */
export async function withDatabase<T>(url: string, fn: (db: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = openDatabase(url, { max: 2, applicationName: 'kestrel-cli' });
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

/** The whole configuration: YAML, environment and the database's overrides. */
export async function loadFullConfig(): Promise<LoadedConfig> {
  const boot = loadBootstrapConfig();
  return withDatabase(boot.config.database.url, (h) => loadConfigWithOverrides(() => readConfigOverrides(h.db)));
}

/** A short-lived Temporal client for one command (the bootstrap config's address and namespace). */
export async function withTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const { config } = loadBootstrapConfig();
  const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

/**
 * The configured real venue with credentials from the environment, and Kestrel's order records to
 * find its orders by. Paper orders live in the worker process's exchange: nothing to reach from here.
 */
export async function withVenue<T>(command: string, fn: (venue: KalshiVenue, repo: TradingRepository, config: KestrelConfig, db: DatabaseHandle) => Promise<T>): Promise<T> {
  const { config } = await loadFullConfig();
  if (config.venues.execution !== 'kalshi') throw new CommandInputError(`${command} talks to a real venue, but venues.execution is ${config.venues.execution} (paper orders live in the worker process: use flatten-all there)`);
  const credentials = kalshiCredentialsFromEnv(process.env, (p) => readFileSync(p, 'utf8'));
  if (!credentials) throw new CommandInputError(`${command} needs Kalshi credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH`);
  return withDatabase(config.database.url, async (h) => {
    const repo = new TradingRepository(h.db);
    const venue = createKalshiVenue(config, {
      clock: { nowMs: () => Date.now() },
      credentials,
      orderRef: (id) => repo.orderRef(id),
      log: (line) => err(line),
    });
    try {
      return await fn(venue, repo, config, h);
    } finally {
      await venue.execution.close();
    }
  });
}
