import { URGENCIES } from '../../domain/trading/exits';
import { requestPositionExit } from '../../runtime/request-exit';
import { CommandInputError, EXIT, err, json, out, withTemporal, type CliCommand } from './cli-support';

export const exitCommand: CliCommand = {
  summary: 'manual exit of a position (the requestExit Update, validated by the workflow)',
  usage: 'kestrel exit <position-id> [--urgency CRITICAL|HIGH|MEDIUM|LOW] [--reason TEXT] [--json]',
  details: '--json prints {"positionId","urgency","reason","accepted": true,"result"}, or on a rejection (exit 1) {"positionId","urgency","reason","accepted": false,"error"}.',
  options: { urgency: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const [positionId] = positionals;
    if (!positionId) throw new CommandInputError('usage: kestrel exit <position-id> [--urgency …] [--reason …]');
    const wanted = (values.urgency ?? 'MEDIUM').toString().toUpperCase();
    const urgency = URGENCIES.find((u) => u === wanted);
    if (!urgency) throw new CommandInputError(`--urgency must be CRITICAL, HIGH, MEDIUM or LOW, got ${JSON.stringify(values.urgency)}`);
    const reason = typeof values.reason === 'string' ? values.reason : 'manual (cli)';
    return withTemporal(async (client) => {
      const outcome = await requestPositionExit(client, positionId, { urgency, reason });
      if (outcome.accepted) {
        if (values.json) json({ positionId, urgency, reason, accepted: true, result: outcome.result });
        else out(`exit accepted: ${JSON.stringify(outcome.result)}`);
        return EXIT.ok;
      }
      // Validator rejections and unknown positions: say why, change nothing.
      if (values.json) json({ positionId, urgency, reason, accepted: false, error: outcome.error });
      err(`kestrel exit: rejected: ${outcome.error}`);
      return EXIT.failure;
    });
  },
};
