import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ParseArgsConfig } from 'node:util';
import { ValidationError } from '../../domain/errors';
import { loadBootstrapConfig, loadConfigWithOverrides, type LoadedConfig } from '../../config/load';
import { openDatabase } from '../../db/client';
import { readConfigOverrides } from '../../db/config-overrides';

/** The shape `cli/main.ts` registers (kept structural so command files need nothing from main). */
export interface CliCommand {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(args: { values: Record<string, string | boolean | undefined>; positionals: string[] }): Promise<number>;
}

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

/** Bad arguments or unusable input files: the caller's to fix, reported without a stack trace (exit 2). */
export class CommandInputError extends ValidationError {}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const err = (line: string) => process.stderr.write(`${line}\n`);

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
      return EXIT_USAGE;
    }
    throw e;
  }
}

export function requiredString(values: Record<string, string | boolean | undefined>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CommandInputError(`--${name} is required`);
  return v;
}

/** A number option in [min, max] (inclusive), or the fallback when absent. */
export function numberOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number, range: { min: number; max: number; integer?: boolean }): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || v < range.min || v > range.max || (range.integer && !Number.isInteger(v))) {
    throw new CommandInputError(`--${name} must be ${range.integer ? 'an integer' : 'a number'} in ${range.min}..${range.max}, got ${JSON.stringify(raw)}`);
  }
  return v;
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
export async function withDatabase<T>(url: string, fn: (db: ReturnType<typeof openDatabase>) => Promise<T>): Promise<T> {
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
