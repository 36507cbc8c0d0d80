import { Connection } from '@temporalio/client';
import { loadBootstrapConfig } from '../../config/load';
import { createRedis } from '../../workers/redis';
import { EXIT, json, out, withDatabase, type CliCommand } from './cli-support';

export const healthCommand: CliCommand = {
  summary: 'check Postgres, Redis and Temporal',
  usage: 'kestrel health [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }) {
    const { config } = loadBootstrapConfig();
    const check = async (name: string, fn: () => Promise<void>) => {
      const started = Date.now();
      try {
        await fn();
        return { name, ok: true, ms: Date.now() - started };
      } catch (e) {
        return { name, ok: false, ms: Date.now() - started, error: (e as Error).message };
      }
    };
    const results = await Promise.all([
      check('postgres', () => withDatabase(config.database.url, async (h) => void (await h.sql`select 1`))),
      check('redis', async () => {
        const redis = createRedis(config.redis.url, 'producer');
        try {
          await redis.ping();
        } finally {
          redis.disconnect();
        }
      }),
      check('temporal', async () => {
        const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 3000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: config.temporal.namespace });
        } finally {
          await connection.close();
        }
      }),
    ]);
    if (values.json) json(results);
    else for (const r of results) out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(9)} ${r.ms}ms${r.error ? `  ${r.error}` : ''}`);
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.unavailable;
  },
};
