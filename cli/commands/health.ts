import { Connection } from '@temporalio/client';
import { Queue } from 'bullmq';
import { loadBootstrapConfig, loadConfigWithOverrides } from '../../config/load';
import { readConfigOverrides } from '../../db/config-overrides';
import { evaluateFeatureHealth, worstStatus, type FeatureReport } from '../../domain/feature-health';
import { readFeatureObservations } from '../../workers/feature-health';
import { readPartitionOwners } from '../../workers/market-data/partition-leases';
import { partitionQueueName } from '../../workers/market-data/partitions';
import { createRedis } from '../../workers/redis';
import { EXIT, json, out, withDatabase, type CliCommand } from './cli-support';

const MARK = { ok: 'ok  ', degraded: 'WARN', down: 'DOWN' } as const;

export const healthCommand: CliCommand = {
  summary: 'check Postgres, Redis and Temporal, and each feature (feeds, price history, signal engine, partitions, retraining, reconciliation)',
  usage: 'kestrel health [--json] [--strict]   (--strict: exit 4 also when a feature is down)',
  options: { json: { type: 'boolean' }, strict: { type: 'boolean' } },
  async run({ values }) {
    const { config: boot } = loadBootstrapConfig();
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
    let features: FeatureReport[] | undefined;
    let featuresError: string | undefined;
    const results = await Promise.all([
      check('postgres', () =>
        withDatabase(boot.database.url, async (h) => {
          await h.sql`select 1`;
          // Features are judged by the same thresholds as the running processes (overrides included).
          const { config } = await loadConfigWithOverrides(() => readConfigOverrides(h.db));
          const redis = createRedis(config.redis.url, 'producer');
          const md = config.marketData;
          const partitionQueues = Array.from({ length: md.partitions }, (_, p) => new Queue(partitionQueueName(md.queueBase, p), { connection: redis, prefix: config.redis.keyPrefix }));
          try {
            features = evaluateFeatureHealth(await readFeatureObservations({ redis, db: h.db, config, partitionQueues, nowMs: Date.now() }), config.health);
          } catch (e) {
            featuresError = (e as Error).message;
          } finally {
            await Promise.all(partitionQueues.map((q) => q.close()));
            redis.disconnect();
          }
        }),
      ),
      check('redis', async () => {
        const redis = createRedis(boot.redis.url, 'producer');
        try {
          await redis.ping();
          const md = boot.marketData;
          const owners = await readPartitionOwners(redis, boot.redis.keyPrefix, md.queueBase, md.partitions);
          return { marketDataPartitions: owners.partitions, marketDataProcesses: owners.members };
        } finally {
          redis.disconnect();
        }
      }),
      check('temporal', async () => {
        const connection = await Connection.connect({ address: boot.temporal.address, connectTimeout: 3000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: boot.temporal.namespace });
        } finally {
          await connection.close();
        }
      }),
    ]);
    const featuresStatus = features && worstStatus(features);
    if (values.json) json({ services: results, features: features ?? null, featuresStatus: featuresStatus ?? null, featuresError });
    else {
      for (const r of results) out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(9)} ${r.ms}ms${r.error ? `  ${r.error}` : ''}`);
      const partitions = results.find((r) => r.name === 'redis')?.marketDataPartitions as { partition: number; owner: string | null }[] | undefined;
      for (const p of partitions ?? []) out(`     market-data partition ${p.partition}: ${p.owner ?? '(no owner)'}`);
      if (features) {
        out(`features: ${featuresStatus}`);
        for (const f of features) out(`${MARK[f.status]} ${f.feature.padEnd(22)} ${f.detail}`);
      } else out(`features: not judged (${featuresError ?? 'Postgres or Redis unreachable'})`);
    }
    const servicesOk = results.every((r) => r.ok);
    return servicesOk && !(values.strict && (featuresStatus === 'down' || features === undefined)) ? EXIT.ok : EXIT.unavailable;
  },
};
