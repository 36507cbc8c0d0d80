import { Connection } from '@temporalio/client';
import { loadBootstrapConfig } from '../../config/load';
import { readPartitionOwners } from '../../workers/market-data/partition-leases';
import { createRedis } from '../../workers/redis';
import { EXIT, json, out, withDatabase, type CliCommand } from './cli-support';

export const healthCommand: CliCommand = {
  summary: 'check Postgres, Redis and Temporal',
  usage: 'kestrel health [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }) {
    const { config } = loadBootstrapConfig();
    // A check may add what it found (Redis: who owns which market-data partition).
    const check = async (name: string, fn: () => Promise<void | Record<string, unknown>>): Promise<{ name: string; ok: boolean; ms: number; error?: string; [found: string]: unknown }> => {
      const started = Date.now();
      try {
        const found = await fn();
        return { name, ok: true, ms: Date.now() - started, ...found };
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
          const md = config.marketData;
          const owners = await readPartitionOwners(redis, config.redis.keyPrefix, md.queueBase, md.partitions);
          return { marketDataPartitions: owners.partitions, marketDataProcesses: owners.members };
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
    else {
      for (const r of results) out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(9)} ${r.ms}ms${r.error ? `  ${r.error}` : ''}`);
      const partitions = results.find((r) => r.name === 'redis')?.marketDataPartitions as { partition: number; owner: string | null }[] | undefined;
      for (const p of partitions ?? []) out(`     market-data partition ${p.partition}: ${p.owner ?? '(no owner)'}`);
    }
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.unavailable;
  },
};
