import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { Dec } from '../domain/decimal';
import { BOOTSTRAP_KEYS, configSchema, type KestrelConfig } from './schema';

/** Where one configuration value came from, for error messages and `kestrel config show`. */
export type ConfigSource = 'default' | `yaml:${string}` | `env:${string}` | 'db:config_overrides';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: { key: string; message: string; source?: ConfigSource }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface ConfigLayers {
  /** Path of a YAML file; `undefined` means no file. */
  yamlPath?: string;
  /** Values given in code (dotted keys or nested), applied at YAML precedence after the file. */
  inline?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Flat dotted keys → JSON values, from the `config_overrides` table. */
  dbOverrides?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: KestrelConfig;
  sources: Record<string, ConfigSource>;
}

type Tree = { [key: string]: unknown };

const DEFAULTS: KestrelConfig = configSchema.parse({});
const LEAF_DEFAULTS = flatten(DEFAULTS as unknown as Tree);
export const CONFIG_KEYS: readonly string[] = Object.keys(LEAF_DEFAULTS);

/** Env names that operators already use for these services; they map onto config keys. */
const ENV_ALIASES: Record<string, string> = {
  DATABASE_URL: 'database.url',
  REDIS_URL: 'redis.url',
  TEMPORAL_ADDRESS: 'temporal.address',
  TEMPORAL_NAMESPACE: 'temporal.namespace',
};
const ENV_PREFIX = 'KESTREL__';

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Dec.isDecimal(value);
}

function flatten(tree: Tree, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, value] of Object.entries(tree)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    // An empty object is a leaf (a JSON-valued key such as signals.categoryOverrides).
    if (isPlainObject(value) && Object.keys(value).length > 0) flatten(value, dotted, out);
    else out[dotted] = value;
  }
  return out;
}

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

export function parseYamlConfig(text: string, sourceName: string): Tree {
  let doc: unknown;
  try {
    // Failsafe schema: every scalar stays the text the operator wrote, so `0.10` becomes
    // Decimal("0.10") and never passes through a binary float; types come from the key (see coerceText).
    doc = YAML.parse(text, { schema: 'failsafe' });
  } catch (err) {
    throw new ConfigError(`${sourceName}: invalid YAML: ${(err as Error).message}`, [{ key: '(file)', message: (err as Error).message }]);
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) throw new ConfigError(`${sourceName}: top level must be a mapping`, [{ key: '(file)', message: 'top level must be a mapping' }]);
  return doc;
}

const normaliseEnvSegment = (s: string) => s.replace(/_/g, '').toLowerCase();
const KEY_BY_NORMALISED_ENV = new Map(CONFIG_KEYS.map((k) => [k.split('.').map(normaliseEnvSegment).join('.'), k]));

/** `KESTREL__RISK__MAX_POSITION_FRACTION=0.1` → `risk.maxPositionFraction`. Unknown names are errors, not silently ignored. */
export function envToFlat(env: NodeJS.ProcessEnv): { values: Record<string, string>; sources: Record<string, ConfigSource>; unknown: string[] } {
  const values: Record<string, string> = {};
  const sources: Record<string, ConfigSource> = {};
  const unknown: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    let key: string | undefined;
    if (name in ENV_ALIASES) key = ENV_ALIASES[name];
    else if (name.startsWith(ENV_PREFIX)) {
      key = KEY_BY_NORMALISED_ENV.get(name.slice(ENV_PREFIX.length).split('__').map(normaliseEnvSegment).join('.'));
      if (!key) {
        unknown.push(name);
        continue;
      }
    }
    if (key) {
      values[key] = raw;
      sources[key] = `env:${name}`;
    }
  }
  return { values, sources, unknown };
}

/** YAML and env values are text; turn them into the type the key's default has (decimals stay text). */
function coerceText(key: string, raw: string): unknown {
  const example = LEAF_DEFAULTS[key];
  if (typeof example === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (typeof example === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

/**
 * Resolve configuration with precedence DB > env > YAML > defaults, then validate with zod.
 * Every problem names its key and where the bad value came from.
 */
export function resolveConfig(layers: ConfigLayers): LoadedConfig {
  const merged: Tree = {};
  const sources: Record<string, ConfigSource> = Object.fromEntries(CONFIG_KEYS.map((k) => [k, 'default' as ConfigSource]));
  const problems: ConfigError['problems'] = [];
  const rawByKey: Record<string, unknown> = {};

  const apply = (key: string, value: unknown, source: ConfigSource) => {
    if (!CONFIG_KEYS.includes(key)) {
      problems.push({ key, message: `unknown configuration key (known keys: see \`kestrel config show\`)`, source });
      return;
    }
    if (Dec.isDecimal(LEAF_DEFAULTS[key]) && typeof value === 'number') {
      // An integer is exact as text; a non-integer JS number has already lost precision.
      if (!Number.isInteger(value)) {
        problems.push({ key, message: `decimal values must be written as strings, got the float ${value}`, source });
        return;
      }
      value = String(value);
    }
    setPath(merged, key, value);
    sources[key] = source;
    rawByKey[key] = value;
  };

  if (layers.yamlPath !== undefined) {
    const yamlSource: ConfigSource = `yaml:${layers.yamlPath}`;
    if (!existsSync(layers.yamlPath)) throw new ConfigError(`config file not found: ${layers.yamlPath}`, [{ key: '(file)', message: 'not found', source: yamlSource }]);
    const tree = parseYamlConfig(readFileSync(layers.yamlPath, 'utf8'), layers.yamlPath);
    for (const [key, value] of Object.entries(flatten(tree))) apply(key, typeof value === 'string' ? coerceText(key, value) : value, yamlSource);
  }
  for (const [key, value] of Object.entries(flatten(layers.inline ?? {}))) apply(key, value, 'yaml:(inline)');
  if (layers.env) {
    const env = envToFlat(layers.env);
    for (const name of env.unknown) problems.push({ key: name, message: 'unknown KESTREL__ environment variable', source: `env:${name}` });
    for (const [key, raw] of Object.entries(env.values)) apply(key, coerceText(key, raw), env.sources[key]!);
  }
  for (const [key, value] of Object.entries(layers.dbOverrides ?? {})) {
    if ((BOOTSTRAP_KEYS as readonly string[]).includes(key)) {
      problems.push({ key, message: 'cannot be overridden from the database (needed before the database is reached)', source: 'db:config_overrides' });
      continue;
    }
    apply(key, value, 'db:config_overrides');
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.');
      problems.push({ key, message: `${issue.message} (got ${describe(rawByKey[key])})`, source: sources[key] });
    }
  }
  if (problems.length > 0) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.message}${p.source && p.source !== 'default' ? ` [from ${p.source}]` : ''}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`, problems);
  }
  return { config: parsed.data!, sources };
}

/** The YAML file to use: $KESTREL_CONFIG, else config/kestrel.yaml in the repo when it exists. */
export function defaultYamlPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KESTREL_CONFIG) return env.KESTREL_CONFIG;
  const repoDefault = path.join(__dirname, 'kestrel.yaml');
  return existsSync(repoDefault) ? repoDefault : undefined;
}

/** Config from YAML + env (no database yet): what processes use to find the database. */
export function loadBootstrapConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  return resolveConfig({ yamlPath: defaultYamlPath(env), env });
}

/** Plain-JSON view of the config with its sources (Decimals printed as strings). */
export function describeConfig(loaded: LoadedConfig): { key: string; value: string; source: ConfigSource }[] {
  const flat = flatten(loaded.config as unknown as Tree);
  return Object.entries(flat).map(([key, value]) => ({
    key,
    value: Dec.isDecimal(value) ? (value as Dec).toString() : redactIfSecret(key, value),
    source: loaded.sources[key] ?? 'default',
  }));
}

function redactIfSecret(key: string, value: unknown): string {
  const text = String(value);
  // URLs may carry passwords; show them without.
  if (key.endsWith('.url')) return text.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
  return text;
}

/** Full config: YAML + env, then the database override table on top. */
export async function loadConfigWithOverrides(readOverrides: () => Promise<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  return resolveConfig({ yamlPath: defaultYamlPath(env), env, dbOverrides: await readOverrides() });
}
