import path from 'node:path';
import { loadBootstrapConfig } from '../../config/load';
import { EmulatorUsageError, runVenueCommand, VENUE_EMULATE_OPTIONS, VENUE_EMULATE_USAGE } from '../../venues/kalshi/emulator/cli';
import { POLYMARKET_EMULATE_OPTIONS, POLYMARKET_EMULATE_USAGE, PolymarketEmulatorUsageError, runPolymarketEmulateCommand } from '../../venues/polymarket/emulator/cli';
import { CommandInputError, err, out, type CliCommand } from './cli-support';

export const venueCommand: CliCommand = {
  summary: 'run a local venue emulator (venue emulate kalshi|polymarket): the venue\'s REST + WebSocket over its recorded feed',
  usage: `${VENUE_EMULATE_USAGE}\n\n${POLYMARKET_EMULATE_USAGE}`,
  options: { ...VENUE_EMULATE_OPTIONS, ...POLYMARKET_EMULATE_OPTIONS },
  async run({ values, positionals }) {
    if (positionals[0] === 'emulate' && positionals[1] === 'polymarket') {
      return runPolymarketEmulateCommand(positionals, values, { defaultDataDir: path.resolve('../shared/data/polymarket-ws-samples'), out, err }).catch((e: unknown) => {
        throw e instanceof PolymarketEmulatorUsageError ? new CommandInputError(e.message) : e;
      });
    }
    return runVenueCommand(positionals, values, { dataDir: () => path.resolve(loadBootstrapConfig().config.replay.dataDir), out, err }).catch((e: unknown) => {
      throw e instanceof EmulatorUsageError ? new CommandInputError(e.message) : e;
    });
  },
};
