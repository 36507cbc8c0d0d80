import { desc, inArray } from 'drizzle-orm';
import { orders } from '../../db/schema';
import { OUTCOME_UNKNOWN } from '../../db/trading-repo';
import { EXIT, asCommand, json, loadFullConfig, numberOption, out, withDatabase, type CliCommand } from './cli-support';

export const ordersCommand: CliCommand = {
  summary: 'orders Kestrel sent (newest first): venue, venue order id, state, fills and fees',
  usage: 'kestrel orders [--open] [--limit N] [--json]',
  options: { open: { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  run: ({ values }) =>
    asCommand('orders', ordersCommand.usage, async () => {
      const limit = numberOption(values, 'limit', 50, { min: 1, max: 10_000, integer: true });
      const { config } = await loadFullConfig();
      return withDatabase(config.database.url, async (h) => {
        const rows = await h.db
          .select()
          .from(orders)
          .where(values.open ? inArray(orders.status, ['resting', OUTCOME_UNKNOWN]) : undefined)
          .orderBy(desc(orders.submittedAt))
          .limit(limit);
        if (values.json) json(rows);
        else if (rows.length === 0) out(values.open ? 'no open orders' : 'no orders');
        else for (const r of rows) out(`${r.submittedAt.toISOString()}  ${r.venue.padEnd(6)} ${(r.venueOrderId ?? '-').padEnd(38)} ${r.status.padEnd(10)} ${r.action} ${r.outcome.toUpperCase()} ${r.filledSize}/${r.size} @ ${r.limitPrice} ${r.timeInForce}  fees ${r.fees}  ${r.clientOrderId}`);
        return EXIT.ok;
      });
    }),
};
