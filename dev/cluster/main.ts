// `npm run start:cluster [-- --workers N] [--port-base P] [--data-dir D]`:
// the production shape on this machine, from nothing. The real Temporal server
// (built from the Go module proxy into .tools/ once, dev/cluster/tools.ts) on
// its own PostgreSQL (databases created and migrated by its schema tool,
// persistence and visibility), the namespace and the product's search
// attributes registered, the application's PostgreSQL migrated, then the API
// and N workers as separate processes, and an SMTP sink unless SMTP_URL names
// a relay. Like a service manager, it restarts any of them that dies after
// CLUSTER_RESTART_DELAY_MS (5 s). Ctrl-C (or SIGTERM) stops everything; so
// does our death by SIGKILL (dev/reaper.ts).
//
// For tools (the fault drills), it prints on stdout one line per event:
//   START <name> <pid>      a process (re)started
//   EXIT <name> <code|sig>  a process ended without being asked to
//   READY <json>            everything is up (addresses, data directories)
// and everything the processes log goes to <data-dir>/logs/<name>.log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client as PgClient } from 'pg';
import { Connection } from '@temporalio/client';
import { migrateUp, openOrm } from '../../db/orm';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../../workflows/search-attributes';
import { tieToThisProcess, stopWhenOrphaned } from '../reaper';
import { waitForPort } from '../temporal-server';
import { postgresServer, type PostgresServer } from './postgres';
import { ensureTemporalTools, type TemporalTools } from './tools';

const root = resolve(__dirname, '..', '..');

interface Options {
  workers: number;
  portBase: number | null;
  dataDir: string;
  restartDelayMs: number;
}

function parseArgs(argv: string[]): Options {
  const opt = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const workers = Number(opt('workers') ?? process.env.CLUSTER_WORKERS ?? 2);
  if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a positive integer');
  const base = opt('port-base') ?? process.env.CLUSTER_PORT_BASE;
  return {
    workers,
    portBase: base ? Number(base) : null,
    dataDir: resolve(opt('data-dir') ?? process.env.CLUSTER_DATA_DIR ?? join(root, '.data', 'cluster')),
    restartDelayMs: Number(process.env.CLUSTER_RESTART_DELAY_MS ?? 5000),
  };
}

/** Every port the cluster listens on: the usual ones, or a block from --port-base (tests). */
function ports(base: number | null) {
  const at = (offset: number, usual: number) => (base === null ? usual : base + offset);
  return {
    temporalPg: at(0, 54330),
    appPg: at(1, 54331),
    frontend: at(2, 7233),
    frontendHttp: at(3, 7243),
    history: at(4, 7234),
    matching: at(5, 7235),
    temporalWorker: at(6, 7239),
    frontendMembership: at(7, 6933),
    historyMembership: at(8, 6934),
    matchingMembership: at(9, 6935),
    workerMembership: at(10, 6939),
    api: at(11, Number(process.env.PORT ?? 3000)),
    metrics: at(12, 9465),
    bounce: at(13, 2526),
    sink: at(14, 2525),
  };
}
export type ClusterPorts = ReturnType<typeof ports>;

type Spawner = () => Promise<ChildProcess>;

interface Service {
  name: string;
  spawn: Spawner;
  /** SIGINT for PostgreSQL (a fast shutdown), SIGTERM for the rest. */
  stopSignal: NodeJS.Signals;
  child: ChildProcess | null;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const p = ports(options.portBase);
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const note = (line: string) => process.stderr.write(`[cluster] ${line}\n`);
  const logs = new Map<string, WriteStream>();
  const logTo = (name: string) => {
    let s = logs.get(name);
    if (!s) logs.set(name, (s = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' })));
    return s;
  };

  const services: Service[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    note('stopping…');
    for (const s of [...services].reverse()) {
      const child = s.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      await new Promise<void>((done) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill(s.stopSignal);
      });
    }
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));
  stopWhenOrphaned(() => void stopAll(1));

  /** Start a service and keep it running: a death we did not ask for is followed by a restart. */
  const supervise = async (name: string, stopSignal: NodeJS.Signals, spawnIt: Spawner) => {
    const service: Service = { name, spawn: spawnIt, stopSignal, child: null };
    services.push(service);
    const relaunchLater = () =>
      setTimeout(() => {
        if (stopping) return;
        launch().catch((err: unknown) => {
          // Try again after the same delay, as a service manager would.
          note(`${name} did not restart: ${(err as Error).message}`);
          relaunchLater();
        });
      }, options.restartDelayMs);
    const launch = async (): Promise<void> => {
      const child = await spawnIt();
      service.child = child;
      tieToThisProcess(child.pid, stopSignal);
      say(`START ${name} ${child.pid}`);
      child.once('exit', (code, signal) => {
        if (stopping) return;
        say(`EXIT ${name} ${code ?? signal}`);
        relaunchLater();
      });
    };
    await launch();
  };

  const nodeProcess = (name: string, script: string, env: NodeJS.ProcessEnv): Spawner => {
    return async () => {
      const out = logTo(name);
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, script)], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(out, { end: false });
      child.stderr!.pipe(out, { end: false });
      return child;
    };
  };

  try {
    const tools: TemporalTools = await ensureTemporalTools(note);

    // Two PostgreSQL servers, as in docker-compose.yml: Temporal's and the application's.
    const temporalPg = postgresServer(join(options.dataDir, 'temporal-pg'), p.temporalPg, (l) =>
      logTo('temporal-pg').write(`${l}\n`),
    );
    const appPg = postgresServer(join(options.dataDir, 'app-pg'), p.appPg, (l) =>
      logTo('app-pg').write(`${l}\n`),
    );
    await supervise('temporal-pg', 'SIGINT', () => temporalPg.start());
    await supervise('app-pg', 'SIGINT', () => appPg.start());
    await setupTemporalSchema(tools, temporalPg);
    note('Temporal schema ready (persistence and visibility)');
    const databaseUrl = appPg.url('delivery');
    await createDatabase(appPg, 'delivery');
    const orm = await openOrm(databaseUrl, 2);
    await migrateUp(orm);
    await orm.close();
    note('application schema migrated');

    const temporalEnv: NodeJS.ProcessEnv = {
      TEMPORAL_DB_HOST: '127.0.0.1',
      TEMPORAL_DB_PORT: String(p.temporalPg),
      TEMPORAL_DB_USER: 'postgres',
      TEMPORAL_DB_PASSWORD: 'postgres',
      TEMPORAL_BIND_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      TEMPORAL_FRONTEND_PORT: String(p.frontend),
      TEMPORAL_FRONTEND_HTTP_PORT: String(p.frontendHttp),
      TEMPORAL_HISTORY_PORT: String(p.history),
      TEMPORAL_MATCHING_PORT: String(p.matching),
      TEMPORAL_WORKER_PORT: String(p.temporalWorker),
      TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
      TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
      TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
      TEMPORAL_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
      TEMPORAL_DYNAMIC_CONFIG: join(root, 'dev', 'cluster', 'dynamicconfig.yaml'),
    };
    const temporalAddress = `127.0.0.1:${p.frontend}`;
    await supervise('temporal', 'SIGTERM', async () => {
      const out = logTo('temporal');
      const child = spawn(
        tools.server,
        ['--config-file', join(root, 'dev', 'cluster', 'temporal.yaml'), '--allow-no-auth', 'start'],
        { cwd: root, env: { ...process.env, ...temporalEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      let exited = false;
      child.once('exit', () => (exited = true));
      await waitForPort('127.0.0.1', p.frontend, 120_000, () => exited);
      return child;
    });
    await registerNamespace(temporalAddress);
    note(`Temporal server ready on ${temporalAddress}, namespace and search attributes registered`);

    let smtpUrl = process.env.SMTP_URL ?? '';
    if (!smtpUrl) {
      await supervise(
        'smtp-sink',
        'SIGTERM',
        nodeProcess('smtp-sink', 'dev/smtp-sink-main.ts', { SMTP_SINK_PORT: String(p.sink) }),
      );
      await waitForPort('127.0.0.1', p.sink, 60_000);
      smtpUrl = `smtp://127.0.0.1:${p.sink}`;
    }

    const common: NodeJS.ProcessEnv = {
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      SMTP_URL: smtpUrl,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    };
    await supervise(
      'api',
      'SIGTERM',
      nodeProcess('api', 'api/server.ts', {
        ...common,
        PORT: String(p.api),
        HOST: process.env.HOST ?? '127.0.0.1',
        METRICS_PORT: String(p.metrics),
        BOUNCE_SMTP_PORT: String(p.bounce),
      }),
    );
    for (let i = 1; i <= options.workers; i++) {
      await supervise(
        `worker-${i}`,
        'SIGTERM',
        nodeProcess(`worker-${i}`, 'worker/main.ts', { ...common, WORKER_METRICS_PORT: '0' }),
      );
    }
    await waitForPort('127.0.0.1', p.api, 120_000);
    say(
      `READY ${JSON.stringify({
        apiUrl: `http://127.0.0.1:${p.api}`,
        temporalAddress,
        databaseUrl,
        smtpUrl,
        appPgDataDir: appPg.dataDir,
        temporalPgDataDir: temporalPg.dataDir,
        logDir,
        ports: p,
      })}`,
    );
    note(
      `ready: API on http://127.0.0.1:${p.api}, Temporal on ${temporalAddress}, ${options.workers} workers; logs in ${logDir}`,
    );
  } catch (err) {
    note(`start failed: ${(err as Error).stack ?? String(err)}`);
    await stopAll(1);
  }
}

async function createDatabase(pg: PostgresServer, name: string): Promise<boolean> {
  const client = new PgClient({ connectionString: pg.url('postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } finally {
    await client.end();
  }
}

/** temporal and temporal_visibility, created and migrated by the server's own schema tool (idempotent). */
async function setupTemporalSchema(tools: TemporalTools, pg: PostgresServer): Promise<void> {
  const base = [
    '--plugin',
    'postgres12',
    '--ep',
    '127.0.0.1',
    '-p',
    String(pg.port),
    '-u',
    'postgres',
    '--pw',
    'postgres',
  ];
  for (const [db, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ] as const) {
    if (await createDatabase(pg, db))
      await run(tools.sql, [...base, '--db', db, 'setup-schema', '-v', '0.0']);
    await run(tools.sql, [...base, '--db', db, 'update-schema', '--schema-name', schema]);
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${out}`)),
    );
  });
}

/** The `default` namespace and the product's search attributes (temporal.api.enums.v1.IndexedValueType). */
async function registerNamespace(address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  const deadline = Date.now() + 120_000;
  const types: Record<string, number> = { Keyword: 2, Datetime: 6 };
  try {
    for (;;) {
      try {
        await connection.workflowService.registerNamespace({
          namespace: 'default',
          // Three days (a Long in the generated type; protobufjs takes a number).
          workflowExecutionRetentionPeriod: { seconds: (3 * 24 * 3600) as unknown as Long },
        });
      } catch (err) {
        // 6 = ALREADY_EXISTS: a restart on the same persistence.
        if ((err as { code?: number }).code !== 6) {
          if (Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
      }
      try {
        const have = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        const missing = SEARCH_ATTRIBUTE_DEFINITIONS.filter(([k]) => !(k in (have.customAttributes ?? {})));
        if (missing.length === 0) return;
        await connection.operatorService.addSearchAttributes({
          namespace: 'default',
          searchAttributes: Object.fromEntries(missing.map(([k, t]) => [k, types[t]!])),
        });
      } catch (err) {
        // The namespace is seen by every service a few seconds after its registration.
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
