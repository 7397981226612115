// `npm run migrate`: apply pending migrations to DATABASE_URL.
import { loadConfig } from '../config/config';
import { migrateUp, openOrm } from './orm';

async function main() {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set');
  const orm = await openOrm(config.databaseUrl, 2);
  try {
    const applied = await migrateUp(orm);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
