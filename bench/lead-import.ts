// `npx tsx bench/lead-import.ts [--rows N]`: a background lead import of N
// rows (default 1,000,000) through the whole product: the API process takes
// the CSV as a stream (generated on the fly, never whole in memory here
// either), the worker process imports it (COPY into a stage, one
// INSERT … ON CONFLICT per batch). Prints the upload and import rates and the
// peak RSS of the worker and the API (VmHWM); asserts nothing about time.
// Run it at two sizes to see the worker's memory stay flat.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { createApiKey } from '../db/api-key-queries';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { SmtpSink } from '../dev/smtp-sink';
import { startTemporalServer, stopChild, waitForPort } from '../dev/temporal-server';

const root = join(__dirname, '..');
const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const ROWS = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error('--rows must be a positive integer');

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

function child(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--require', 'tsx/cjs', join(root, script)], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The CSV, a few thousand rows per piece: Japanese names, an external id, an attribute, 1 in 1,000 rows invalid. */
function* csvPieces(rows: number): Generator<Buffer> {
  yield Buffer.from('name,email,external_id,phone_mobile,plan\r\n');
  const per = 2000;
  for (let start = 1; start <= rows; start += per) {
    let text = '';
    for (let i = start; i < Math.min(rows + 1, start + per); i++) {
      const email = i % 1000 === 0 ? 'not-an-email' : `lead${i}@bench.example.test`;
      text += `山田 太郎${i},${email},ext-${i},090-${String(i % 10000).padStart(4, '0')}-0000,${i % 3 === 0 ? 'gold' : 'basic'}\r\n`;
    }
    yield Buffer.from(text);
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'lead-import-bench-'));
  const stops: Array<() => Promise<unknown>> = [];
  try {
    console.log(`bench: lead import of ${ROWS} rows, ${cpus().length} cores`);
    const pg = await startEmbeddedPostgres({
      dataDir: dir,
      port: await freePort(),
      database: 'bench',
      persistent: false,
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
    const pool = createPool(pg.url, 2);
    stops.push(() => pool.end());

    const apiPort = await freePort();
    const env = {
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporal.address,
      SMTP_URL: smtpUrl,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      WORKER_METRICS_PORT: '0',
      METRICS_PORT: '0',
      BOUNCE_SMTP_PORT: '0',
    };
    const worker = child('worker/main.ts', env);
    stops.push(() => stopChild(worker));
    const api = child('api/server.ts', env);
    stops.push(() => stopChild(api));
    await waitForPort('127.0.0.1', apiPort, 120_000);
    const { key } = await createApiKey(pool, 'bench', ['read', 'write']);
    const base = `http://127.0.0.1:${apiPort}`;
    const startWorkerRss = peakRssMiB(worker.pid);

    const t0 = Date.now();
    const res = await fetch(`${base}/v1/lead-imports?onDuplicate=update`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv; charset=utf-8' },
      body: Readable.toWeb(Readable.from(csvPieces(ROWS))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const job = (await res.json()) as { id: number; bytes: number; message?: string };
    if (res.status !== 202) throw new Error(`upload refused: ${res.status} ${job.message}`);
    const uploadMs = Date.now() - t0;
    console.log(`upload: ${(job.bytes / 1048576).toFixed(1)} MiB in ${(uploadMs / 1000).toFixed(1)} s`);

    let last: {
      status: string;
      progress: Record<string, number>;
      startedAt: string | null;
      finishedAt: string | null;
      error: string | null;
    };
    let lastPrint = 0;
    for (;;) {
      const r = await fetch(`${base}/v1/lead-imports/${job.id}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      last = (await r.json()) as typeof last;
      if (Date.now() - lastPrint > 10_000) {
        lastPrint = Date.now();
        console.log(
          `  ${last.status}: ${last.progress.rowsRead} rows read, worker peak RSS ${peakRssMiB(worker.pid)} MiB`,
        );
      }
      if (['completed', 'failed', 'cancelled'].includes(last.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const totalMs = Date.now() - t0;
    if (last.status !== 'completed') throw new Error(`import ended ${last.status}: ${last.error}`);
    const importMs = new Date(last.finishedAt!).getTime() - new Date(last.startedAt!).getTime();
    const figures = {
      rows: ROWS,
      progress: last.progress,
      uploadSeconds: +(uploadMs / 1000).toFixed(1),
      importSeconds: +(importMs / 1000).toFixed(1),
      importRowsPerSecond: Math.round(ROWS / (importMs / 1000)),
      endToEndRowsPerSecond: Math.round(ROWS / (totalMs / 1000)),
      workerPeakRssMiB: peakRssMiB(worker.pid),
      workerRssAtStartMiB: startWorkerRss,
      apiPeakRssMiB: peakRssMiB(api.pid),
    };
    console.log(JSON.stringify(figures, null, 2));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
