import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load';
import { KalshiCredentialsError } from '../venues/kalshi/signing';
import { arbCommand } from './commands/arb';
import { backtestCommand } from './commands/backtest';
import { cancelAllCommand } from './commands/cancel-all';
import { CommandInputError, EXIT, err, out, type CliCommand } from './commands/cli-support';
import { configCommand } from './commands/config';
import { exitCommand } from './commands/exit';
import { flattenAllCommand } from './commands/flatten-all';
import { healthCommand } from './commands/health';
import { migrateCommand } from './commands/migrate';
import { modelsCommand } from './commands/models';
import { ordersCommand } from './commands/orders';
import { positionsCommand } from './commands/positions';
import { reconcileCommand } from './commands/reconcile';
import { reportCommand } from './commands/report';
import { retrainCommand } from './commands/retrain';
import { riskCommand } from './commands/risk';
import { signalsCommand } from './commands/signals';
import { strategyCommand } from './commands/strategy';
import { topCommand } from './commands/top';
import { upCommand } from './commands/up';
import { venueCommand } from './commands/venue';
import { walkForwardCommand } from './commands/walk-forward';
import { whyCommand } from './commands/why';

export { EXIT } from './commands/cli-support';
export { parseUpFeed } from './commands/up';

/** Every command, in the order `kestrel --help` lists them; each lives in `cli/commands/<name>.ts`. */
const commands: Record<string, CliCommand> = {
  models: modelsCommand,
  orders: ordersCommand,
  'cancel-all': cancelAllCommand,
  reconcile: reconcileCommand,
  migrate: migrateCommand,
  config: configCommand,
  why: whyCommand,
  positions: positionsCommand,
  exit: exitCommand,
  report: reportCommand,
  strategy: strategyCommand,
  backtest: backtestCommand,
  'walk-forward': walkForwardCommand,
  retrain: retrainCommand,
  signals: signalsCommand,
  'flatten-all': flattenAllCommand,
  risk: riskCommand,
  health: healthCommand,
  venue: venueCommand,
  arb: arbCommand,
  up: upCommand,
  top: topCommand,
};

function printHelp(): void {
  out('kestrel — durable trading engine for prediction markets\n');
  out('Usage: kestrel <command> [options]\n');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(10)} ${c.summary}`);
  out('\nRun `kestrel <command> --help` for a command. Exit codes: 0 ok, 1 failure, 2 bad arguments, 3 invalid config, 4 service unavailable.');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    err(`kestrel: unknown command ${JSON.stringify(name)}. Run \`kestrel --help\`.`);
    return EXIT.usage;
  }
  try {
    const parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      out(`${command.usage}\n\n${command.summary}${command.details ? `\n\n${command.details}` : ''}`);
      return EXIT.ok;
    }
    return await command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof KalshiCredentialsError) {
      err(e instanceof KalshiCredentialsError ? `kestrel ${name}: ${e.message}` : e.message);
      return EXIT.config;
    }
    if (e instanceof CommandInputError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`kestrel ${name}: ${(e as Error).message}\nusage: ${command.usage}`);
      return EXIT.usage;
    }
    if ((e as { code?: string }).code === 'ECONNREFUSED') {
      err(`kestrel ${name}: service unavailable: ${(e as Error).message}`);
      return EXIT.unavailable;
    }
    err(`kestrel ${name}: ${(e as Error).stack ?? String(e)}`);
    return EXIT.failure;
  }
}
