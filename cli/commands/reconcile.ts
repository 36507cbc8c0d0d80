import { KalshiReconciler } from '../../workers/reconciler';
import { EXIT, asCommand, err, json, out, withVenue, type CliCommand } from './cli-support';

export const reconcileCommand: CliCommand = {
  summary: "reconcile the venue's orders and positions with Kestrel's records now; prints every difference",
  usage: 'kestrel reconcile [--json]',
  options: { json: { type: 'boolean' } },
  run: ({ values }) =>
    asCommand('reconcile', reconcileCommand.usage, () =>
      withVenue('reconcile', async (venue, _repo, config, h) => {
        const report = await new KalshiReconciler({ db: h.db, rest: venue.rest, execution: venue.execution, clock: { nowMs: () => Date.now() }, cancelUnknownOrders: config.venues.kalshi.cancelUnknownOrders, log: (line) => err(line) }).run('cli');
        if (values.json) json(report);
        else {
          out(`reconciliation ${report.runId}: ${report.checked.recordedOrders} open orders recorded, ${report.checked.venueOrders} at the venue, ${report.checked.recordedPositions} open positions, ${report.checked.venuePositions} venue positions`);
          if (report.differences.length === 0) out('no differences');
          for (const d of report.differences) out(`  ${d.kind.padEnd(24)} ${d.market.padEnd(32)} ${d.action.padEnd(9)} ${JSON.stringify(d)}`);
        }
        return report.differences.some((d) => d.kind === 'position_mismatch' || (d.kind === 'unknown_venue_order' && d.action === 'reported')) ? EXIT.failure : EXIT.ok;
      }),
    ),
};
