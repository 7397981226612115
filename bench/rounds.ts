// One round of a contender: the raw limit (Postfix's smtp-source into its own
// smtp-sink) or the product (one email wizard run of N leads through the API,
// Temporal, the worker(s) and PostgreSQL into the product's smtp-sink).
import { spawn } from 'node:child_process';
import { cpuSeconds, parseStat, PssPeaks, readVmHwmKiB, ticksPerSecond, type Groups } from './proc';
import type { ProcessRegistry } from './registry';
import { sourceBinary, type DumpTally, type SmtpSinkProcess } from './sink';
import type { Stack } from './stack';

export interface RoundResult {
  contender: string;
  round: number;
  expected: number;
  received: number;
  /** Messages per second from the first to the last arrival at the sink. */
  rate: number;
  /** Seconds from the start (smtp-source spawned, run POSTed) to the last arrival. */
  wallSeconds: number;
  /** CPU seconds per process group (not the sink's). */
  cpu: Record<string, number>;
  sinkCpu: number;
  /** Peak PSS per group, MiB. */
  pss: Record<string, number>;
  /** VmHWM of each worker process since it started, MiB. */
  workerPeakRss?: number[];
  rowsPerMessage?: number;
  historyEvents?: number;
  executions?: number;
  dump: DumpTally | null;
  /** Average bytes per dumped transaction (smtp-sink's own records included). */
  dumpBytesPerMessage?: number;
  check: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the sink has seen `n` messages of this window, or nothing new arrives for `quietMs`. */
async function waitForArrivals(sink: SmtpSinkProcess, n: number, quietMs: number, deadline: number) {
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const got = sink.arrivals().received;
    if (got >= n) return;
    if (got !== last) {
      last = got;
      since = Date.now();
    } else if (Date.now() - since > quietMs) return;
    await sleep(50);
  }
}

function rateOf(sink: SmtpSinkProcess): { received: number; rate: number; lastMs: number | null } {
  const a = sink.arrivals();
  const span = a.firstMs !== null && a.lastMs !== null ? (a.lastMs - a.firstMs) / 1000 : 0;
  return { received: a.received, rate: span > 0 ? a.received / span : NaN, lastMs: a.lastMs };
}

function checkOf(expected: number, received: number, dump: DumpTally | null): string {
  if (!dump)
    return received === expected ? `exactly ${expected} (counted)` : `${received} of ${expected} (counted)`;
  const dupes = dump.recipients - dump.uniqueRecipients;
  const ok =
    received === expected &&
    dump.transactions === expected &&
    dump.uniqueRecipients === expected &&
    dump.uniqueMessageIds === expected &&
    dupes === 0;
  if (ok) return `exactly ${expected}, no duplicate`;
  return (
    `MISMATCH: ${received} counted, ${dump.transactions} dumped, ${dump.uniqueRecipients} recipients, ` +
    `${dump.uniqueMessageIds} Message-IDs, ${dupes} duplicate recipients` +
    (dump.duplicateExamples.length ? ` (e.g. ${dump.duplicateExamples.join(', ')})` : '')
  );
}

export interface RawOptions {
  round: number;
  messages: number;
  sessions: number;
  /** Payload bytes of each message (smtp-source -l). */
  bytes: number;
  sink: SmtpSinkProcess;
  registry: ProcessRegistry;
  deadline: number;
}

/**
 * smtp-source, run under a shell that prints its own /proc stat line after
 * smtp-source exits: the shell's cutime/cstime then hold smtp-source's CPU.
 */
export async function rawRound(o: RawOptions): Promise<RoundResult> {
  const offset = o.sink.mark();
  const sinkGroup: Groups = { sink: [o.sink.process.pid!] };
  const sinkBefore = cpuSeconds(sinkGroup).sink!;
  const script = 'src=$1; shift; "$src" "$@"; s=$?; read -r l < /proc/$$/stat; echo "STAT $l"; exit $s';
  const args = [
    '-c',
    script,
    'smtp-source',
    sourceBinary(),
    '-d', // one connection per session for all its messages (as a pooled client does)
    '-s',
    String(o.sessions),
    '-m',
    String(o.messages),
    '-N', // a distinct recipient per message
    '-l',
    String(o.bytes),
    '-f',
    'raw@example.test',
    '-t',
    'lead@bench.example.test',
    '-S',
    'Hello',
    '-M',
    'bench.example.test',
    o.sink.url.replace('smtp://', ''),
  ];
  const started = performance.now();
  const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  o.registry.add(child.pid);
  const peaks = new PssPeaks(() => ({ 'smtp-source': [child.pid!] }), 100).start();
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(1000, o.deadline - Date.now()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const pss = peaks.stop();
  if (code !== 0) throw new Error(`smtp-source failed (${code}): ${err.trim().slice(0, 500)}`);
  await waitForArrivals(o.sink, o.messages, 2000, o.deadline);
  const sinkCpu = cpuSeconds(sinkGroup).sink! - sinkBefore;
  const statLine = /^STAT (.*)$/m.exec(out)?.[1];
  if (!statLine) throw new Error('no stat line from the smtp-source wrapper');
  const shell = parseStat(statLine);
  const cpu = (shell.utime + shell.stime + shell.cutime + shell.cstime) / ticksPerSecond();
  const { received, rate, lastMs } = rateOf(o.sink);
  const dump = await o.sink.tally(offset);
  return {
    contender: 'raw',
    round: o.round,
    expected: o.messages,
    received,
    rate,
    wallSeconds: ((lastMs ?? performance.now()) - started) / 1000,
    cpu: { 'smtp-source': cpu },
    sinkCpu,
    pss,
    dump,
    check: checkOf(o.messages, received, dump),
  };
}

export interface ProductOptions {
  round: number;
  leads: number;
  stack: Stack;
  sink: SmtpSinkProcess;
  deadline: number;
  pgStats: boolean;
  log: (line: string) => void;
}

export async function productRound(o: ProductOptions): Promise<RoundResult> {
  const { stack, sink } = o;
  const tpl = await stack.pool.query<{ id: number }>(
    `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
     VALUES ('email', $1, 'text', 'Hello {{name}}', 'news@example.test', 'Hi {{name}}, this is the benchmark.') RETURNING id`,
    [`Bench round ${o.round}`],
  );
  if (o.pgStats) await stack.pool.query('SELECT pg_stat_statements_reset()');
  const tablesBefore = o.pgStats ? await rowsByTable(stack.pool) : null;
  const sendUpdatesBefore = o.pgStats ? await sendUpdates(stack.pool) : null;
  const walBefore = o.pgStats ? await walLsn(stack.pool) : null;
  const rowsBefore = await rowsWritten(stack.pool);
  const offset = sink.mark();
  const groups = stack.groups();
  const sinkGroup: Groups = { sink: [sink.process.pid!] };
  const before = cpuSeconds({ ...groups, ...sinkGroup });
  const peaks = new PssPeaks(() => groups).start();
  const started = performance.now();
  const res = await fetch(`${stack.apiBase}/v1/wizard-runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.apiKey}` },
    body: JSON.stringify({ templateId: tpl.rows[0]!.id, segmentId: stack.segmentId }),
  });
  const run = (await res.json()) as { id: number; taskId: string; message?: string };
  if (res.status !== 201) throw new Error(`could not start the run: ${res.status} ${run.message}`);
  for (;;) {
    const r = await stack.pool.query<{ status: string }>('SELECT status FROM wizard_run WHERE id = $1', [
      run.id,
    ]);
    const status = r.rows[0]?.status;
    if (status === 'completed') break;
    if (status === 'error' || status === 'cancelled') throw new Error(`run ${run.id} ended ${status}`);
    if (Date.now() > o.deadline) throw new Error(`run ${run.id} not completed in time (status ${status})`);
    await sleep(100);
  }
  await waitForArrivals(sink, o.leads, 2000, o.deadline);
  const after = cpuSeconds({ ...groups, ...sinkGroup });
  const pss = peaks.stop();
  const cpu: Record<string, number> = {};
  for (const name of Object.keys(groups)) cpu[name] = after[name]! - before[name]!;
  const { received, rate, lastMs } = rateOf(sink);
  const wallSeconds = ((lastMs ?? performance.now()) - started) / 1000;

  const rowsAfter = await rowsWritten(stack.pool);
  if (o.pgStats) {
    const top = await stack.pool.query(
      `SELECT calls, round(total_exec_time)::int AS total_ms, round(total_plan_time)::int AS plan_ms, rows,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 150) AS query
         FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
    );
    console.table(top.rows);
    const tablesAfter = await rowsByTable(stack.pool);
    const perTable = [...tablesAfter]
      .map(([t, n]) => ({
        table: t,
        rowsPerMessage: (n - (tablesBefore!.get(t) ?? 0)) / Math.max(1, o.leads),
      }))
      .filter((r) => r.rowsPerMessage > 0.0001)
      .sort((a, b) => b.rowsPerMessage - a.rowsPerMessage);
    console.table(perTable);
    const upd = await sendUpdates(stack.pool);
    const all = upd.all - sendUpdatesBefore!.all;
    const hot = upd.hot - sendUpdatesBefore!.hot;
    const walBytes = await stack.pool.query<{ b: string }>(
      'SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint AS b',
      [await walLsn(stack.pool), walBefore],
    );
    o.log(
      `WAL written: ${(Number(walBytes.rows[0]!.b) / Math.max(1, o.leads)).toFixed(0)} bytes per message`,
    );
    o.log(
      `send updates: ${all}, HOT ${hot} (${all > 0 ? ((100 * hot) / all).toFixed(1) : '0'} %; a HOT update writes no index entry)`,
    );
  }
  let historyEvents = 0;
  let executions = 0;
  const byType = new Map<string, number>();
  for await (const wf of stack.temporal.workflow.list({ query: `WorkflowId = '${run.taskId}'` })) {
    executions++;
    const h = await stack.temporal.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    historyEvents += h.events?.length ?? 0;
    for (const e of h.events ?? []) {
      const t = String(e.eventType ?? '?');
      byType.set(t, (byType.get(t) ?? 0) + 1);
    }
  }
  if (o.pgStats) {
    // Temporal's event type numbers (temporal.api.enums.v1.EventType), most frequent first.
    o.log(
      `history events by type: ${[...byType]
        .sort((a, b) => b[1] - a[1])
        .map(([t, n]) => `${t}=${n}`)
        .join(' ')}`,
    );
  }
  const dumpEnd = sink.dumpSize();
  const dump = await sink.tally(offset);
  return {
    contender: 'product',
    round: o.round,
    expected: o.leads,
    received,
    rate,
    wallSeconds,
    cpu,
    sinkCpu: after.sink! - before.sink!,
    pss,
    workerPeakRss: stack.workerPids.map((pid) => (readVmHwmKiB(pid) ?? 0) / 1024),
    rowsPerMessage: (rowsAfter - rowsBefore) / Math.max(1, received),
    historyEvents,
    executions,
    dump,
    dumpBytesPerMessage: dump && dump.transactions > 0 ? (dumpEnd - offset) / dump.transactions : undefined,
    check: checkOf(o.leads, received, dump),
  };
}

/** Rows inserted, updated and deleted so far, per table (after rowsWritten has let the counters settle). */
async function rowsByTable(pool: Stack['pool']): Promise<Map<string, number>> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const r = await pool.query<{ relname: string; n: string }>(
    'SELECT relname, (n_tup_ins + n_tup_upd + n_tup_del)::bigint AS n FROM pg_stat_user_tables',
  );
  return new Map(r.rows.map((x) => [x.relname, Number(x.n)]));
}

/** Where PostgreSQL's write-ahead log stands (every change it wrote, index entries included). */
async function walLsn(pool: Stack['pool']): Promise<string> {
  return (await pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
}

/** Updates of send rows so far, and how many of them were HOT (heap-only: no index entry written). */
async function sendUpdates(pool: Stack['pool']): Promise<{ all: number; hot: number }> {
  await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const r = await pool.query<{ upd: string; hot: string }>(
    `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'send'`,
  );
  return { all: Number(r.rows[0]?.upd ?? 0), hot: Number(r.rows[0]?.hot ?? 0) };
}

/**
 * Rows inserted and updated in our tables so far. Backends report their
 * counters to the statistics system at most once a second and idle ones a few
 * seconds later, so the sum is read until it stops moving.
 */
async function rowsWritten(pool: Stack['pool']): Promise<number> {
  const read = async () => {
    await pool.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
    const r = await pool.query<{ n: string }>(
      'SELECT coalesce(sum(n_tup_ins + n_tup_upd), 0)::bigint AS n FROM pg_stat_user_tables',
    );
    return Number(r.rows[0]?.n ?? 0);
  };
  let last = await read();
  const deadline = Date.now() + 15_000;
  let still = 0;
  while (Date.now() < deadline) {
    await sleep(1000);
    const now = await read();
    still = now === last ? still + 1 : 0;
    last = now;
    if (still >= 2) break;
  }
  return last;
}
