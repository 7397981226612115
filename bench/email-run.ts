// `npm run bench:inprocess [-- --leads N]` (and `npm run test:faults`, with
// --overload): one email wizard run of N leads (default 100,000) through the
// whole product (API, Temporal, worker, PostgreSQL) into a Node SMTP sink
// inside this process, and, before it on the idle stack, the same number of
// messages pushed straight into the same sink by a plain pooled nodemailer
// client (its "raw path"). That raw path is far below the machine's real limit
// and the in-process sink competes with the product for the same cores: the
// figures of record come from `npm run bench` (bench/main.ts). Prints figures;
// asserts nothing about time.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import nodemailer from 'nodemailer';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { createApiKey } from '../db/api-key-queries';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { SmtpSink } from '../dev/smtp-sink';
import { startTemporalServer, stopChild, waitForPort } from '../dev/temporal-server';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const leadsArg = args.indexOf('--leads');
const LEADS = leadsArg >= 0 ? Number(args[leadsArg + 1]) : Number(process.env.BENCH_LEADS ?? 100_000);
if (!Number.isInteger(LEADS) || LEADS < 1) throw new Error('--leads must be a positive integer');
const CONNECTIONS = Number(process.env.SMTP_MAX_CONNECTIONS ?? 5);
/** Fault scenario 5: load the API from a second process while the run sends. */
const OVERLOAD = args.includes('--overload');
/** `--no-raw`: skip the raw path. */
const NO_RAW = args.includes('--no-raw');
/** `--pg-stats`: also print the statements PostgreSQL spent most time on (pg_stat_statements). */
const PG_STATS = args.includes('--pg-stats');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Peak resident set size of a process (VmHWM), in MiB. */
function peakRssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** Arrival time of every message, sampled from the sink's counter every few ms (no per-message parsing). */
function arrivalRecorder(sink: SmtpSink) {
  const samples: Array<[number, number]> = [];
  const timer = setInterval(() => samples.push([Date.now(), sink.receivedCount()]), 5);
  return {
    stop: () => clearInterval(timer),
    /** ms from `startMs` until the k-th message (1-based) had arrived, for every k. */
    latencies(startMs: number, base: number, count: number): number[] {
      const out: number[] = [];
      let i = 0;
      for (let k = 1; k <= count; k++) {
        while (i < samples.length && samples[i]![1] - base < k) i++;
        if (i >= samples.length) break;
        out.push(samples[i]![0] - startMs);
      }
      return out;
    },
  };
}

function child(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  // node --require tsx/cjs keeps the product in one process, so /proc shows its own peak RSS.
  return spawn(process.execPath, ['--require', 'tsx/cjs', join(root, script)], {
    cwd: root,
    // The bench's From domain is not a registered sending domain (issue 19).
    env: { ...process.env, ALLOW_UNAUTHENTICATED_SENDING: '1', ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'delivery-bench-'));
  const stops: Array<() => Promise<unknown>> = [];
  try {
    console.log(`bench: ${LEADS} leads, ${CONNECTIONS} SMTP connections, ${cpus().length} cores`);
    const pg = await startEmbeddedPostgres({
      dataDir: dir,
      port: await freePort(),
      database: 'bench',
      persistent: false,
      postgresFlags: PG_STATS ? ['-c', 'shared_preload_libraries=pg_stat_statements'] : [],
    });
    stops.push(() => pg.stop());
    const orm = await openOrm(pg.url, 2);
    await migrateUp(orm);
    await orm.close();
    const temporal = await startTemporalServer({ port: await freePort(), uiPort: 0 });
    stops.push(() => temporal.stop());
    const sink = new SmtpSink({ port: 0, keepMessages: 0 });
    const { url: smtpUrl } = await sink.start();
    stops.push(() => sink.stop());

    const pool = createPool(pg.url, 4);
    stops.push(() => pool.end());
    await pool.query(
      `INSERT INTO lead (name, email) SELECT 'Lead ' || g, 'lead' || g || '@bench.example.test' FROM generate_series(1, $1) g`,
      [LEADS],
    );
    const tpl = await pool.query(
      `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
       VALUES ('email', 'Bench', 'text', 'Hello {{name}}', 'news@example.test', 'Hi {{name}}, this is the benchmark.') RETURNING id`,
    );
    const seg = await pool.query(
      `INSERT INTO segment (name, channel, filter) VALUES ('all', 'email', '{}') RETURNING id`,
    );

    const apiPort = await freePort();
    const env = {
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporal.address,
      SMTP_URL: smtpUrl,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      ASYNC_BOUNCE_WINDOW_SECONDS: '0',
      // The load process must measure the service, not the per-key rate limit.
      API_RATE_LIMIT_PER_MINUTE: '10000000',
      WORKER_METRICS_PORT: '0',
    };
    const worker = child('worker/main.ts', env);
    stops.push(() => stopChild(worker));
    const api = child('api/server.ts', env);
    stops.push(() => stopChild(api));
    await waitForPort('127.0.0.1', apiPort, 120_000);
    const { key: apiKey } = await createApiKey(pool, 'bench', ['read', 'write']);
    let load: Promise<{ code: number | null; figures: Record<string, unknown> | null }> | null = null;
    let loader: ChildProcess | null = null;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `Bearer ${apiKey}`,
    };

    if (PG_STATS) await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const rowsBefore = await rowsWritten(pool);
    // The raw path first, on the idle stack: the same number of messages straight
    // into the same sink. Measured after the run it once came out at 2,912/s
    // against about 4,000/s idle (the database still vacuuming and checkpointing
    // the run's writes), which flattered our ratio. The overload run skips it.
    const rawRate = NO_RAW || OVERLOAD ? null : await rawPath(smtpUrl, sink);
    const base = sink.receivedCount();
    const recorder = arrivalRecorder(sink);
    const startMs = Date.now();
    const res = await fetch(`http://127.0.0.1:${apiPort}/v1/wizard-runs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ templateId: tpl.rows[0].id, segmentId: seg.rows[0].id }),
    });
    const run = (await res.json()) as { id: number; taskId: string; status: string; message?: string };
    if (res.status !== 201) throw new Error(`could not start the run: ${res.status} ${run.message}`);
    if (OVERLOAD) {
      loader = spawn(
        process.execPath,
        [
          '--require',
          'tsx/cjs',
          join(root, 'bench/load.ts'),
          `http://127.0.0.1:${apiPort}`,
          apiKey,
          String(run.id),
          '200000',
          '600',
        ],
        { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const child = loader;
      stops.push(() => stopChild(child));
      load = new Promise((resolve) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => {
          const line = out.trim().split('\n').pop() ?? '';
          resolve({
            code,
            figures: line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : null,
          });
        });
      });
    }
    for (;;) {
      const r = await pool.query<{ status: string; sent_count: number }>(
        'SELECT status, sent_count FROM wizard_run WHERE id = $1',
        [run.id],
      );
      if (r.rows[0]?.status === 'completed') break;
      if (r.rows[0]?.status === 'error' || r.rows[0]?.status === 'cancelled')
        throw new Error(`run ended ${r.rows[0].status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const wallMs = Date.now() - startMs;
    recorder.stop();
    // The load stops with the run: it is bounded by the run's own duration.
    loader?.kill('SIGTERM');
    const loaded = load ? await load : null;
    const received = sink.receivedCount() - base;
    const latencies = recorder.latencies(startMs, base, received).sort((a, b) => a - b);
    const rowsAfter = await rowsWritten(pool);
    if (PG_STATS) {
      const top = await pool.query(
        `SELECT calls, round(total_exec_time)::int AS total_ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query
           FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15`,
      );
      console.table(top.rows);
    }

    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    let historyEvents = 0;
    let executions = 0;
    for await (const wf of client.workflow.list({ query: `WorkflowId = '${run.taskId}'` })) {
      executions++;
      const h = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      historyEvents += h.events?.length ?? 0;
    }
    await connection.close();
    const workerRss = peakRssMiB(worker.pid);
    const apiRss = peakRssMiB(api.pid);

    const ours = (received / wallMs) * 1000;
    const figures = {
      leads: LEADS,
      received,
      wallSeconds: +(wallMs / 1000).toFixed(1),
      messagesPerSecond: Math.round(ours),
      p50ArrivalSeconds: +(percentile(latencies, 50) / 1000).toFixed(2),
      p99ArrivalSeconds: +(percentile(latencies, 99) / 1000).toFixed(2),
      workerPeakRssMiB: workerRss,
      apiPeakRssMiB: apiRss,
      workflowExecutions: executions,
      historyEventsPerExecution: Math.round(historyEvents / Math.max(1, executions)),
      historyEventsPer1000Leads: +((historyEvents / LEADS) * 1000).toFixed(1),
      dbRowsWrittenPerMessage: +((rowsAfter - rowsBefore) / Math.max(1, received)).toFixed(2),
      rawMessagesPerSecond: rawRate === null ? 'skipped' : Math.round(rawRate),
      ratioToRaw: rawRate === null ? 'skipped' : +(ours / rawRate).toFixed(2),
    };
    const all = loaded ? { ...figures, ...prefixed('load', loaded.figures ?? {}) } : figures;
    console.table(all);
    if (loaded && (loaded.code !== 0 || received !== LEADS)) {
      console.error(`overload: ${loaded.code !== 0 ? 'API requests failed under load' : 'messages missing'}`);
      process.exitCode = 1;
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Messages per second of a plain pooled nodemailer client pushing LEADS messages straight into the sink. */
async function rawPath(smtpUrl: string, sink: SmtpSink): Promise<number> {
  const rawBase = sink.receivedCount();
  const raw = nodemailer.createTransport({
    pool: true,
    url: smtpUrl,
    maxConnections: CONNECTIONS,
    maxMessages: 1000,
  } as never);
  const rawStart = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS * 2 }, async () => {
      while (next < LEADS) {
        const i = ++next;
        await raw.sendMail({
          from: 'news@example.test',
          to: `lead${i}@bench.example.test`,
          subject: `Hello Lead ${i}`,
          text: `Hi Lead ${i}, this is the benchmark.`,
        });
      }
    }),
  );
  const rawMs = Date.now() - rawStart;
  raw.close();
  return ((sink.receivedCount() - rawBase) / rawMs) * 1000;
}

function prefixed(prefix: string, o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [`${prefix}.${k}`, Array.isArray(v) ? v.join('; ') : v]),
  );
}

/** Rows inserted and updated in our tables so far (pg_stat counters, flushed first). */
async function rowsWritten(pool: ReturnType<typeof createPool>): Promise<number> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  await new Promise((r) => setTimeout(r, 600));
  const r = await pool.query<{ n: string }>(
    `SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint AS n FROM pg_stat_user_tables`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
