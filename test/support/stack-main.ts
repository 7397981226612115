// The servers the test suite shares, run as a child process of Jest's global
// setup: real PostgreSQL (embedded, or TEST_DATABASE_URL) with the schema
// migrated, and a real Temporal dev server. Prints one JSON line when ready;
// stops everything on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startEmbeddedPostgres, type RunningPostgres } from '../../dev/embedded-postgres';
import { startTemporalServer, type RunningTemporalServer } from '../../dev/temporal-server';
import { migrateUp, openOrm } from '../../db/orm';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'delivery-test-'));
  let pg: RunningPostgres | null = null;
  let temporal: RunningTemporalServer | null = null;
  const stop = async () => {
    await temporal?.stop().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  // If Jest dies, our stdin closes: do not outlive it.
  process.stdin.on('end', () => void stop());
  process.stdin.resume();

  let databaseUrl = process.env.TEST_DATABASE_URL ?? '';
  if (!databaseUrl) {
    pg = await startEmbeddedPostgres({
      dataDir: dir,
      port: await freePort(),
      database: 'delivery_test',
      persistent: false,
    });
    databaseUrl = pg.url;
  }
  const orm = await openOrm(databaseUrl, 2);
  await migrateUp(orm);
  await orm.close();

  temporal = await startTemporalServer({ port: await freePort(), uiPort: 0 });
  process.stdout.write(`READY ${JSON.stringify({ databaseUrl, temporalAddress: temporal.address })}\n`);
}

// Run only as a script: tests import freePort from here.
if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
