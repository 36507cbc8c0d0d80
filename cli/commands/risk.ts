import { desc } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { readRiskState, resetRiskState } from '../../db/risk-repo';
import { riskEvents } from '../../db/schema';
import type { RiskState } from '../../domain/risk/risk-manager';
import { CommandInputError, EXIT, json, out, withDatabase, type CliCommand } from './cli-support';

/** The risk state as JSON prints it (the decimal daily P&L as a string). */
const stateJson = (state: RiskState) => ({ ...state, dailyPnl: state.dailyPnl.toString() });

export const riskCommand: CliCommand = {
  summary: 'show the paper risk state (mode, breakers, daily P&L) and recent risk events; `risk reset --reason R`',
  usage: 'kestrel risk [--json] | kestrel risk reset --reason TEXT [--json]',
  details: '--json prints: risk, {"state","events"}; risk reset, {"reset": true, "reason", "state"} (the state after the reset).',
  options: { json: { type: 'boolean' }, reason: { type: 'string' } },
  async run({ values, positionals }) {
    const { config } = loadBootstrapConfig();
    return withDatabase(config.database.url, async (h) => {
      if (positionals[0] === 'reset') {
        if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new CommandInputError('risk reset needs --reason');
        await resetRiskState(h.db, values.reason, Date.now());
        if (values.json) json({ reset: true, reason: values.reason, state: stateJson(await readRiskState(h.db, Date.now())) });
        else out('risk state reset: mode ACTIVE, breakers cleared');
        return EXIT.ok;
      }
      if (positionals.length) throw new CommandInputError(`unknown risk subcommand ${JSON.stringify(positionals[0])}`);
      const state = await readRiskState(h.db, Date.now());
      const events = await h.db.select().from(riskEvents).orderBy(desc(riskEvents.id)).limit(20);
      if (values.json) json({ state: stateJson(state), events });
      else {
        out(`mode ${state.mode}   daily P&L ${state.dailyPnl.toFixed(2)}   loss streak ${state.consecutiveLosses}   day ${state.tradingDay ?? '-'}`);
        for (const t of state.tripped) out(`  TRIPPED ${t.breaker}: ${t.reason} (${new Date(t.atMs).toISOString()})`);
        for (const e of events) out(`  ${e.at.toISOString()}  ${e.kind.padEnd(12)} ${e.rule.padEnd(24)} ${e.positionId ?? ''}  ${e.reason}`);
      }
      return EXIT.ok;
    });
  },
};
