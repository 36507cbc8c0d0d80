import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, describeConfig, envToFlat, resolveConfig } from '../../config/load';
import { Dec } from '../../domain/decimal';
import { readStrategyConfig } from '../../config/strategy';
import { configSchema } from '../../config/schema';
import { riskLimitsSchema } from '../../domain/risk/risk-manager';

function yamlFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kestrel-config-'));
  const file = path.join(dir, 'kestrel.yaml');
  writeFileSync(file, text);
  return file;
}

function expectConfigError(fn: () => unknown, key: string, pattern: RegExp): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    const problem = err.problems.find((p) => p.key === key);
    assert.ok(problem, `no problem reported for ${key}; got ${err.message}`);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('has complete defaults', () => {
    const { config, sources } = resolveConfig({});
    assert.ok(config.risk.capital.equals(new Dec('10000')));
    assert.equal(config.temporal.uiPort, 8233);
    assert.equal(sources['risk.capital'], 'default');
  });

  it('reads YAML decimals exactly, never through a float', () => {
    const file = yamlFile('risk:\n  maxPositionFraction: 0.1000000000000000055511151231257827\n  capital: 2500\n');
    const { config, sources } = resolveConfig({ yamlPath: file });
    assert.equal(config.risk.maxPositionFraction.toString(), '0.1000000000000000055511151231257827');
    assert.ok(Dec.isDecimal(config.risk.capital));
    assert.equal(config.risk.capital.toString(), '2500');
    assert.equal(sources['risk.capital'], `yaml:${file}`);
  });

  it('applies precedence DB > env > YAML > defaults', () => {
    const file = yamlFile('risk:\n  capital: 100\n  maxConcurrentPositions: 2\ningest:\n  batchSize: 10\n');
    const { config, sources } = resolveConfig({
      yamlPath: file,
      env: { KESTREL__RISK__CAPITAL: '200', KESTREL__INGEST__BATCH_SIZE: '20', PATH: '/usr/bin' },
      dbOverrides: { 'risk.capital': '300' },
    });
    assert.equal(config.risk.capital.toString(), '300');
    assert.equal(sources['risk.capital'], 'db:config_overrides');
    assert.equal(config.ingest.batchSize, 20);
    assert.equal(sources['ingest.batchSize'], 'env:KESTREL__INGEST__BATCH_SIZE');
    assert.equal(config.risk.maxConcurrentPositions, 2);
    assert.equal(config.risk.dailyLossLimitFraction.toString(), '0.05');
  });

  it('maps well-known env names (DATABASE_URL, REDIS_URL, TEMPORAL_ADDRESS)', () => {
    const { config } = resolveConfig({ env: { DATABASE_URL: 'postgres://u@db:5432/x', REDIS_URL: 'redis://r:6379', TEMPORAL_ADDRESS: 't:7233' } });
    assert.equal(config.database.url, 'postgres://u@db:5432/x');
    assert.equal(config.redis.url, 'redis://r:6379');
    assert.equal(config.temporal.address, 't:7233');
  });

  it('names the bad key and its source for an invalid decimal', () => {
    expectConfigError(() => resolveConfig({ env: { KESTREL__RISK__CAPITAL: 'lots' } }), 'risk.capital', /risk\.capital: expected a decimal.*got "lots".*from env:KESTREL__RISK__CAPITAL/);
  });

  it('rejects out-of-range fractions and non-integers where integers are required', () => {
    expectConfigError(() => resolveConfig({ inline: { 'risk.maxPositionFraction': '1.5' } }), 'risk.maxPositionFraction', /must be between 0 and 1/);
    expectConfigError(() => resolveConfig({ env: { KESTREL__INGEST__BATCH_SIZE: 'ten' } }), 'ingest.batchSize', /ingest\.batchSize/);
    expectConfigError(() => resolveConfig({ inline: { 'signals.shards': 0 } }), 'signals.shards', /signals\.shards must be at least 1/);
    expectConfigError(() => resolveConfig({ env: { KESTREL__SIGNALS__SHARDS: '2.5' } }), 'signals.shards', /signals\.shards/);
    expectConfigError(() => resolveConfig({ env: { KESTREL__MARKET_DATA__LEASE_TTL_MS: '100' } }), 'marketData.leaseTtlMs', /marketData\.leaseTtlMs must be at least 300 ms/);
  });

  it('rejects unknown keys from every layer instead of ignoring typos', () => {
    expectConfigError(() => resolveConfig({ yamlPath: yamlFile('risk:\n  captial: 5\n') }), 'risk.captial', /unknown configuration key/);
    expectConfigError(() => resolveConfig({ env: { KESTREL__RISK__CAPTIAL: '5' } }), 'KESTREL__RISK__CAPTIAL', /unknown KESTREL__ environment variable/);
    expectConfigError(() => resolveConfig({ dbOverrides: { 'risk.nope': 1 } }), 'risk.nope', /unknown configuration key/);
  });

  it('refuses float decimals and bootstrap keys from the database', () => {
    expectConfigError(() => resolveConfig({ dbOverrides: { 'risk.capital': 0.1 } }), 'risk.capital', /must be written as strings/);
    expectConfigError(() => resolveConfig({ dbOverrides: { 'database.url': 'postgres://x@y/z' } }), 'database.url', /cannot be overridden from the database/);
  });

  it('reports malformed YAML and a missing file clearly', () => {
    assert.throws(() => resolveConfig({ yamlPath: yamlFile('risk: [unclosed\n') }), /invalid YAML/);
    assert.throws(() => resolveConfig({ yamlPath: '/nonexistent/kestrel.yaml' }), /config file not found: \/nonexistent\/kestrel\.yaml/);
  });

  it('ships a valid config/kestrel.yaml', () => {
    const { config } = resolveConfig({ yamlPath: path.join(__dirname, '..', '..', 'config', 'kestrel.yaml') });
    assert.equal(config.risk.maxTotalExposureFraction.toString(), '0.3');
  });

  it('hides passwords when describing the config', () => {
    const rows = describeConfig(resolveConfig({ env: { DATABASE_URL: 'postgres://kestrel:s3cret@db:5432/k' } }));
    const url = rows.find((r) => r.key === 'database.url')!;
    assert.equal(url.value, 'postgres://kestrel:***@db:5432/k');
    assert.equal(url.source, 'env:DATABASE_URL');
  });

  it("the risk section is the risk manager's own schema: one set of limits and defaults", () => {
    assert.equal(configSchema.shape.risk.unwrap(), riskLimitsSchema);
    const text = (limits: Record<string, unknown>) => Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(text(resolveConfig({}).config.risk), text(riskLimitsSchema.parse({})));
  });

  it('ignores unrelated env vars', () => {
    assert.deepEqual(envToFlat({ HOME: '/root', KESTRELX: '1' }).values, {});
  });
});

describe('example strategy versions', () => {
  it('every file in config/strategies is a valid strategy version (model-edge subscribes to model_edge)', () => {
    const dir = path.resolve(__dirname, '..', '..', 'config', 'strategies');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.includes('model-edge.yaml'));
    for (const f of files) readStrategyConfig(path.join(dir, f));
    const modelEdge = readStrategyConfig(path.join(dir, 'model-edge.yaml'));
    assert.ok(!('kind' in modelEdge));
    assert.deepEqual(modelEdge.signalTypes, ['model_edge']);
    const bad = path.join(mkdtempSync(path.join(tmpdir(), 'kestrel-strategy-')), 'bad.yaml');
    writeFileSync(bad, readFileSync(path.join(dir, 'model-edge.yaml'), 'utf8').replace('[model_edge]', '[model_edgy]'));
    assert.throws(() => readStrategyConfig(bad), /signalTypes/);
  });

  it('a strategy file does not restate the taker fee (it comes from the market, else config)', () => {
    const dir = path.resolve(__dirname, '..', '..', 'config', 'strategies');
    const restated = path.join(mkdtempSync(path.join(tmpdir(), 'kestrel-strategy-')), 'fee.yaml');
    writeFileSync(restated, readFileSync(path.join(dir, 'model-edge.yaml'), 'utf8').replace('rules:\n', 'rules:\n  takerFeeRate: "0.07"\n'));
    assert.throws(() => readStrategyConfig(restated), /rules\.takerFeeRate is not a strategy setting/);
  });
});
