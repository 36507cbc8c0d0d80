import { flattenAll } from '../../runtime/flatten';
import { CommandInputError, EXIT, json, out, withTemporal, type CliCommand } from './cli-support';

export const flattenAllCommand: CliCommand = {
  summary: 'emergency: drive every open position to a CRITICAL exit',
  usage: 'kestrel flatten-all --reason TEXT [--json]',
  options: { reason: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new CommandInputError('--reason is required (it is recorded on every exit)');
    const signaled = await withTemporal((client) => flattenAll(client, `flatten-all: ${values.reason}`));
    if (values.json) json({ signaled });
    else out(signaled.length ? `CRITICAL exit requested for ${signaled.length} positions:\n  ${signaled.join('\n  ')}` : 'no open positions');
    return EXIT.ok;
  },
};
