import { eq } from 'drizzle-orm';
import { orders } from '../../db/schema';
import { CommandInputError, EXIT, asCommand, err, json, out, withVenue, type CliCommand } from './cli-support';

export const cancelAllCommand: CliCommand = {
  summary: "emergency: cancel every order of Kestrel's resting at the venue",
  usage: 'kestrel cancel-all --reason TEXT [--json]',
  options: { reason: { type: 'string' }, json: { type: 'boolean' } },
  run: ({ values }) =>
    asCommand('cancel-all', cancelAllCommand.usage, async () => {
      if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new CommandInputError('--reason is required (it is logged with every cancel)');
      return withVenue('cancel-all', async (venue, repo, _config, h) => {
        const ours = new Set((await h.db.select({ id: orders.clientOrderId }).from(orders).where(eq(orders.venue, 'kalshi'))).map((r) => r.id));
        const cancelled: { clientOrderId: string; venueOrderId?: string; status: string }[] = [];
        const failed: { clientOrderId: string; error: string }[] = [];
        for await (const o of venue.rest.orders({ status: 'resting' })) {
          if (!ours.has(o.client_order_id)) continue;
          try {
            const state = await venue.execution.cancel(o.client_order_id);
            await repo.recordOrderState(state);
            cancelled.push({ clientOrderId: state.clientOrderId, venueOrderId: state.venueOrderId, status: state.status });
            err(`cancel-all (${values.reason}): ${o.client_order_id} → ${state.status}`);
          } catch (e) {
            failed.push({ clientOrderId: o.client_order_id, error: (e as Error).message });
          }
        }
        if (values.json) json({ reason: values.reason, cancelled, failed });
        else {
          out(cancelled.length ? `cancelled ${cancelled.length} order(s):\n  ${cancelled.map((c) => `${c.clientOrderId} (${c.venueOrderId})`).join('\n  ')}` : 'no resting orders of ours at the venue');
          for (const f of failed) out(`FAILED ${f.clientOrderId}: ${f.error}`);
        }
        return failed.length ? EXIT.failure : EXIT.ok;
      });
    }),
};
