import { ConfigError, describeConfig, loadBootstrapConfig, resolveConfig, CONFIG_KEYS, defaultYamlPath } from '../../config/load';
import { deleteConfigOverride, readConfigOverrides, setConfigOverride } from '../../db/config-overrides';
import { CommandInputError, EXIT, json, loadFullConfig, out, withDatabase, type CliCommand, type OptionValues } from './cli-support';

/** Settings whose zero is valid but turns trading off: `config set` wants --force for it. */
const TRADING_OFF_AT_ZERO = ['risk.capital', 'risk.maxConcurrentPositions'];

function validate(values: OptionValues): number {
  const yamlPath = typeof values.file === 'string' ? values.file : defaultYamlPath();
  try {
    resolveConfig({ yamlPath, env: process.env });
  } catch (e) {
    // The error still goes to stderr with exit code 3 (cli/main.ts); --json also says it on stdout.
    if (values.json && e instanceof ConfigError) json({ valid: false, file: yamlPath ?? null, error: e.message, problems: e.problems });
    throw e;
  }
  if (values.json) json({ valid: true, file: yamlPath ?? null });
  else out(`configuration valid${yamlPath ? ` (${yamlPath} + environment)` : ' (environment + defaults)'}`);
  return EXIT.ok;
}

async function setOrUnset(sub: 'set' | 'unset', key: string | undefined, value: string | undefined, values: OptionValues): Promise<number> {
  if (!key || (sub === 'set' && value === undefined)) throw new CommandInputError(`usage: kestrel config ${sub} <key>${sub === 'set' ? ' <value>' : ''}`);
  if (!CONFIG_KEYS.includes(key)) throw new CommandInputError(`unknown configuration key ${JSON.stringify(key)}`);
  const { config } = loadBootstrapConfig();
  return withDatabase(config.database.url, async (h) => {
    if (sub === 'unset') {
      const removed = await deleteConfigOverride(h.db, key);
      if (values.json) json({ key, removed });
      else out(removed ? `override for ${key} removed` : `no override for ${key}`);
      return EXIT.ok;
    }
    // Decimals are stored as strings; integers and booleans as JSON.
    const parsedValue: unknown = /^-?\d+$/.test(value!) || value === 'true' || value === 'false' ? JSON.parse(value!) : value;
    // Valid, but it silently stops all trading: only on purpose.
    if (TRADING_OFF_AT_ZERO.includes(key) && /^0*(\.0*)?$/.test(String(parsedValue)) && !values.force) {
      throw new CommandInputError(`${key} = 0 stops every new entry (nothing can be risked); add --force if that is what you mean (flatten-all and cancel-all act on what is open)`);
    }
    // Validate the whole config with the new value before writing anything.
    const overrides = await readConfigOverrides(h.db);
    resolveConfig({ yamlPath: defaultYamlPath(), env: process.env, dbOverrides: { ...overrides, [key]: parsedValue } });
    const reason = typeof values.reason === 'string' ? values.reason : undefined;
    await setConfigOverride(h.db, key, parsedValue, reason);
    if (values.json) json({ key, value: parsedValue, previous: key in overrides ? overrides[key] : null, reason: reason ?? null });
    else out(`override set: ${key} = ${JSON.stringify(parsedValue)}`);
    return EXIT.ok;
  });
}

export const configCommand: CliCommand = {
  summary: 'show | validate | set <key> <json-or-text> | unset <key>  (database overrides)',
  usage: 'kestrel config show [--json] [--no-db] | validate [--file F] [--json] | set <key> <value> [--reason R] [--force] [--json] | unset <key> [--json]',
  details: [
    '--json prints: show, [{"key","value","source"}]; validate, {"valid": true, "file"} (invalid: {"valid": false, "file", "error", "problems": [{"key","message","source"}]}, exit 3);',
    'set, {"key","value","previous","reason"} (previous: the override it replaced, or null); unset, {"key","removed"}.',
  ].join('\n'),
  options: { json: { type: 'boolean' }, 'no-db': { type: 'boolean' }, file: { type: 'string' }, reason: { type: 'string' }, force: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [sub, key, value] = positionals;
    if (sub === 'validate') return validate(values);
    if (sub === 'show') {
      const loaded = values['no-db'] ? loadBootstrapConfig() : await loadFullConfig();
      const rows = describeConfig(loaded);
      if (values.json) json(rows);
      else for (const r of rows) out(`${r.key.padEnd(46)} ${r.value.padEnd(48)} ${r.source}`);
      return EXIT.ok;
    }
    if (sub === 'set' || sub === 'unset') return setOrUnset(sub, key, value, values);
    throw new CommandInputError('usage: kestrel config show|validate|set|unset');
  },
};
