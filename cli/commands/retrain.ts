import { desc } from 'drizzle-orm';
import { loadBootstrapConfig } from '../../config/load';
import { retrainingRuns } from '../../db/schema';
import { ensureRetrainingSchedule, retrainInput } from '../../runtime/retraining-schedule';
import { retrainSignalWeightsWorkflow } from '../../workflows/retraining';
import { CommandInputError, EXIT, err, json, out, withDatabase, withTemporal, type CliCommand } from './cli-support';

export const retrainCommand: CliCommand = {
  summary: 'signal-weight retraining: `schedule` creates/updates the Temporal Schedule, `now` runs once and waits, `runs` lists what each run decided',
  usage: 'kestrel retrain schedule | now | runs [--json]',
  details: '--json prints: schedule, {"scheduleId","created","everyMs","overlap": "SKIP"}; now, the run\'s result (the "started" line goes to stderr); runs, the rows.',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }) {
    const sub = positionals[0];
    const { config } = loadBootstrapConfig();
    if (sub === 'schedule') {
      const r = await withTemporal((client) => ensureRetrainingSchedule(client, config));
      if (values.json) json({ scheduleId: r.scheduleId, created: r.created, everyMs: config.retraining.everyMs, overlap: 'SKIP' });
      else out(`${r.created ? 'created' : 'updated'} schedule ${r.scheduleId}: every ${config.retraining.everyMs / 3_600_000} h, overlap SKIP`);
      return EXIT.ok;
    }
    if (sub === 'now') {
      const result = await withTemporal(async (client) => {
        const handle = await client.workflow.start(retrainSignalWeightsWorkflow, { args: [retrainInput(config)], taskQueue: config.temporal.taskQueue, workflowId: `retrain/${config.retraining.modelName}/manual-${Date.now()}` });
        (values.json ? err : out)(`started ${handle.workflowId}; waiting for it (a worker must be running: kestrel up)...`);
        return handle.result();
      });
      if (values.json) json(result);
      else out(`${result.status}${result.modelVersion ? ` ${result.modelVersion}` : ''}: ${result.reason}`);
      return EXIT.ok;
    }
    if (sub === 'runs') {
      return withDatabase(config.database.url, async (h) => {
        const rows = await h.db.select().from(retrainingRuns).orderBy(desc(retrainingRuns.id)).limit(50);
        if (values.json) json(rows);
        else if (rows.length === 0) out('no retraining runs yet');
        else for (const r of rows) out(`#${r.id} ${r.createdAt.toISOString()} ${r.modelName} ${r.status.padEnd(17)} IS ${r.inSample?.toFixed(1) ?? '-'} OOS ${r.outOfSample?.toFixed(1) ?? '-'} (${r.trainOutcomes}/${r.testOutcomes} outcomes) ${r.reason}`);
        return EXIT.ok;
      });
    }
    throw new CommandInputError('usage: kestrel retrain schedule | now | runs');
  },
};
