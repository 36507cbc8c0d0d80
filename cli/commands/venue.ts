import path from 'node:path';
import { loadBootstrapConfig } from '../../config/load';
import { EmulatorUsageError, runVenueCommand, VENUE_EMULATE_OPTIONS, VENUE_EMULATE_USAGE } from '../../venues/kalshi/emulator/cli';
import { CommandInputError, err, out, type CliCommand } from './cli-support';

export const venueCommand: CliCommand = {
  summary: 'run a local venue emulator (venue emulate kalshi): Kalshi REST + WebSocket over the recorded feed',
  usage: VENUE_EMULATE_USAGE,
  options: VENUE_EMULATE_OPTIONS,
  async run({ values, positionals }) {
    return runVenueCommand(positionals, values, { dataDir: () => path.resolve(loadBootstrapConfig().config.replay.dataDir), out, err }).catch((e: unknown) => {
      throw e instanceof EmulatorUsageError ? new CommandInputError(e.message) : e;
    });
  },
};
