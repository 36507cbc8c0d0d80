import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../observability/metrics';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  container_name?: string;
  ports?: string[];
  profiles?: string[];
}

describe('docker-compose.yml: a production-shaped stack', () => {
  const text = readFileSync(COMPOSE_FILE, 'utf8');
  // The file uses YAML merge keys (<<: *appenv), as docker compose reads them.
  const services = (parse(text, { merge: true }) as { services: Record<string, Service> }).services;
  const service = (name: string) => services[name] ?? assert.fail(`no service ${name}`);
  /** Every service `name` waits for, directly or through the ones it waits for. */
  const waitsFor = (name: string, seen = new Set<string>()): Set<string> => {
    for (const dep of Object.keys(service(name).depends_on ?? {})) if (!seen.has(dep)) waitsFor(dep, seen.add(dep));
    return seen;
  };

  it('runs the Temporal server on Postgres with its schema set up by the admin tools, never start-dev', () => {
    for (const [name, svc] of Object.entries(services)) assert.doesNotMatch(String(svc.command ?? ''), /start-dev/, `${name} runs the dev server`);
    const temporal = service('temporal');
    assert.match(temporal.image ?? '', /^temporalio\/(server|auto-setup):/);
    assert.equal(temporal.environment?.DB, 'postgres12');
    assert.equal(temporal.environment?.POSTGRES_SEEDS, 'postgres');
    assert.ok(waitsFor('temporal').has('postgres'), 'temporal depends on postgres');
    if (temporal.image?.startsWith('temporalio/server:')) {
      // The plain server image does no schema work: the admin tools' job must have run first.
      assert.equal(temporal.depends_on?.['temporal-schema']?.condition, 'service_completed_successfully');
      assert.match(service('temporal-schema').image ?? '', /^temporalio\/admin-tools:/);
      assert.match(String(service('temporal-schema').command), /update-schema[\s\S]*temporal_visibility/);
    }
    assert.match(service('temporal-ui').image ?? '', /^temporalio\/ui:/);
  });

  it('keeps Redis from evicting jobs and writes its append-only file', () => {
    const command = service('redis').command as string[];
    assert.equal(command[command.indexOf('--maxmemory-policy') + 1], 'noeviction');
    assert.equal(command[command.indexOf('--appendonly') + 1], 'yes');
  });

  it('has workers that scale (no container name, no host ports) and wait for the whole stack', () => {
    const workers = service('workers');
    assert.equal(workers.container_name, undefined);
    assert.equal(workers.ports, undefined);
    assert.equal(workers.profiles, undefined, 'workers run without a profile');
    const waits = waitsFor('workers');
    for (const dep of ['postgres', 'redis', 'temporal', 'migrate']) assert.ok(waits.has(dep), `workers wait for ${dep}`);
    assert.equal(workers.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  });

  it('offers the Kalshi emulator as an optional feed (a profile)', () => {
    for (const name of ['emulator', 'feed']) assert.deepEqual(service(name).profiles, ['emulator']);
    assert.equal(service('feed').environment?.KESTREL__VENUES__KALSHI__ENVIRONMENT, 'emulator');
    assert.ok((service('feed').command as string[]).join(' ').includes('--feed kalshi'));
  });

  it('offers Prometheus scraping every process and Grafana with the Kestrel dashboard provisioned (a profile)', () => {
    for (const name of ['prometheus', 'grafana']) assert.deepEqual(service(name).profiles, ['monitoring']);
    const volumes = (name: string) => ((services[name] as { volumes?: string[] }).volumes ?? []).map((v) => v.split(':'));
    const mounted = (name: string, target: string) => volumes(name).find((v) => v[1] === target)?.[0] ?? assert.fail(`${name} mounts nothing at ${target}`);
    const prometheus = parse(readFileSync(path.join(REPO_ROOT, mounted('prometheus', '/etc/prometheus/prometheus.yml')), 'utf8')) as { scrape_configs: { metrics_path: string; dns_sd_configs: { names: string[]; port: number }[] }[] };
    const scraped = prometheus.scrape_configs.flatMap((c) => c.dns_sd_configs.flatMap((d) => d.names.map((n) => `${n}:${d.port}${c.metrics_path}`)));
    assert.deepEqual(scraped.sort(), ['feed:9464/metrics', 'workers:9464/metrics']);
    for (const name of ['workers', 'feed']) assert.equal(service(name).environment?.KESTREL__METRICS__HOST, '0.0.0.0', `${name} serves /metrics to the network`);
    // Every query of the dashboard names metrics Kestrel exports.
    const dashboards = path.join(REPO_ROOT, mounted('grafana', '/var/lib/grafana/dashboards'));
    const dashboard = JSON.parse(readFileSync(path.join(dashboards, 'kestrel.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const exported = new Set([...createMetrics({ db: undefined as never, books: undefined as never, queues: () => [] }).registry.getMetricsAsArray().map((m) => m.name), 'kestrel_feature_status']);
    assert.ok(dashboard.panels.length >= 10);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const names = target.expr.match(/kestrel_[a-z_]+/g) ?? [];
        assert.ok(names.length > 0, `${panel.title} queries no Kestrel metric`);
        for (const name of names) assert.ok(exported.has(name), `${panel.title}: ${name} is not exported`);
      }
    }
    const datasource = parse(readFileSync(path.join(REPO_ROOT, mounted('grafana', '/etc/grafana/provisioning'), 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: { url: string }[] };
    assert.equal(datasource.datasources[0]!.url, 'http://prometheus:9090');
  });

  it('is valid for docker compose itself (`docker compose config`), where the docker CLI has compose', function () {
    const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      console.log(`      skipped: no docker compose here (${version.error?.message ?? version.stderr.trim().split('\n')[0]})`);
      this.skip();
    }
    for (const profile of [[], ['--profile', 'emulator'], ['--profile', 'monitoring']]) {
      const config = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, ...profile, 'config', '--quiet'], { encoding: 'utf8', cwd: REPO_ROOT });
      assert.equal(config.status, 0, `docker compose ${profile.join(' ')} config: ${config.stderr}`);
    }
  });
});
