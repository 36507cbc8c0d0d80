import { readFileSync } from 'node:fs';
import { desc, eq, inArray } from 'drizzle-orm';
import type { KestrelConfig } from '../../config/schema';
import { orders } from '../../db/schema';
import { OUTCOME_UNKNOWN, TradingRepository } from '../../db/trading-repo';
import { createKalshiVenue, type KalshiVenue } from '../../venues/kalshi/factory';
import { kalshiCredentialsFromEnv } from '../../venues/kalshi/signing';
import { KalshiReconciler } from '../../workers/reconciler';
import { CommandInputError, asCommand, err, loadFullConfig, numberOption, out, withDatabase, type CliCommand } from './cli-support';

const EXIT_FAILURE = 1;
const json = (value: unknown) => out(JSON.stringify(value, null, 2));

/**
 * The configured real venue with credentials from the environment, and Kestrel's order records to
 * find its orders by. Paper orders live in the worker process's exchange: nothing to reach from here.
 */
async function withVenue<T>(command: string, fn: (venue: KalshiVenue, repo: TradingRepository, config: KestrelConfig, db: Parameters<Parameters<typeof withDatabase>[1]>[0]) => Promise<T>): Promise<T> {
  const { config } = await loadFullConfig();
  if (config.venues.execution !== 'kalshi') throw new CommandInputError(`${command} talks to a real venue, but venues.execution is ${config.venues.execution} (paper orders live in the worker process: use flatten-all there)`);
  const credentials = kalshiCredentialsFromEnv(process.env, (p) => readFileSync(p, 'utf8'));
  if (!credentials) throw new CommandInputError(`${command} needs Kalshi credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH`);
  return withDatabase(config.database.url, async (h) => {
    const repo = new TradingRepository(h.db);
    const venue = createKalshiVenue(config, {
      clock: { nowMs: () => Date.now() },
      credentials,
      orderRef: async (id) => {
        const stored = await repo.loadOrder(id);
        return stored && { market: stored.market, outcome: stored.outcome, action: stored.action, venueOrderId: stored.state.venueOrderId };
      },
      log: (line) => err(line),
    });
    try {
      return await fn(venue, repo, config, h);
    } finally {
      await venue.execution.close();
    }
  });
}

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
        return 0;
      });
    }),
};

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
        return failed.length ? EXIT_FAILURE : 0;
      });
    }),
};

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
        return report.differences.some((d) => d.kind === 'position_mismatch' || (d.kind === 'unknown_venue_order' && d.action === 'reported')) ? EXIT_FAILURE : 0;
      }),
    ),
};
