import { loadBootstrapConfig } from '../../config/load';
import { databaseName, ensureDatabase, runMigrations } from '../../db/admin';
import { EXIT, json, out, type CliCommand } from './cli-support';

export const migrateCommand: CliCommand = {
  summary: 'create the database if missing and apply the committed migrations',
  usage: 'kestrel migrate [--no-create] [--json]',
  details: '--json prints {"database": name, "created": whether it was created now, "migrated": true}.',
  options: { 'no-create': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }) {
    const { config } = loadBootstrapConfig();
    const created = !values['no-create'] && (await ensureDatabase(config.database.url));
    if (created && !values.json) out(`created database ${databaseName(config.database.url)}`);
    await runMigrations(config.database.url);
    if (values.json) json({ database: databaseName(config.database.url), created, migrated: true });
    else out('migrations applied');
    return EXIT.ok;
  },
};
