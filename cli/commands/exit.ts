import { URGENCIES } from '../../domain/trading/exits';
import { requestExitUpdate } from '../../workflows/position';
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
      try {
        const result = await client.workflow.getHandle(positionId).executeUpdate(requestExitUpdate, { args: [{ urgency, reason }] });
        if (values.json) json({ positionId, urgency, reason, accepted: true, result });
        else out(`exit accepted: ${JSON.stringify(result)}`);
        return EXIT.ok;
      } catch (e) {
        // Validator rejections and unknown positions: say why, change nothing.
        const cause = (e as { cause?: Error }).cause?.message ?? (e as Error).message;
        if (values.json) json({ positionId, urgency, reason, accepted: false, error: cause });
        err(`kestrel exit: rejected: ${cause}`);
        return EXIT.failure;
      }
    });
  },
};
