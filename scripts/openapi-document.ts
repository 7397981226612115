// Prints the API's OpenAPI document without a database or a Temporal server:
// the app is built on a pool and a Temporal connection that connect only when
// used, and nothing here uses them. The console's client types are generated
// from this output (scripts/console-types.ts), so they cannot drift from the API.
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import pino from 'pino';
import { buildApp } from '../api/app';
import { loadConfig } from '../config/config';

export async function openApiDocument(): Promise<unknown> {
  const config = { ...loadConfig({}), databaseUrl: '' };
  const pool = new Pool({ connectionString: 'postgres://unused@127.0.0.1:1/unused' });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const temporal = new Client({ connection });
  const app = await buildApp({ pool, temporal, config, logger: pino({ level: 'silent' }) });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  await pool.end();
  return doc;
}

if (require.main === module) {
  openApiDocument().then(
    (doc) => process.stdout.write(JSON.stringify(doc, null, 2) + '\n'),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
