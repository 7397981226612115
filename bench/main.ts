// `npm run bench`: the product in production shape (PostgreSQL, Temporal dev
// server, API process, 1 or 2 worker processes) against the raw limit of this
// machine (Postfix's smtp-source into Postfix's smtp-sink), alternately, and
// per contender: msg/s from first to last arrival at the sink, ratio to raw,
// CPU-s per 1,000 messages per process tree, peak PSS, database rows written
// per message, Temporal history events per 1,000 leads, and a check that the
// sink received exactly N. Prints figures; asserts nothing about time.
//
//   npm run bench -- [--leads N] [--workers 1|2] [--connections C] [--rounds R]
//                    [--raw-bytes B] [--no-dump] [--keep-dump] [--pg-stats] [--max-minutes M]
//                    [--no-raw] [--worker-cpu-prof DIR]
//   npm run bench -- --memory-scaling [100000,1000000]
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from './proc';
import { ProcessRegistry } from './registry';
import { productRound, rawRound, type RoundResult } from './rounds';
import { roundsTable, summaryTable } from './report';
import { SmtpSinkProcess, sinkBinary, sourceBinary } from './sink';
import { freePort, startStack, type Stack } from './stack';

interface Options {
  leads: number;
  workers: number;
  connections: number;
  rounds: number;
  rawBytes: number;
  dump: boolean;
  pgStats: boolean;
  memoryScaling: number[] | null;
  maxMinutes: number | null;
  /** Keep the sink's dump (the path is printed). */
  keepDump: boolean;
  /** Skip the raw rounds (profiling the product only). */
  raw: boolean;
  /** Write each worker's V8 CPU profile (node --cpu-prof) into this directory when it stops. */
  workerCpuProf: string | null;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = {
    leads: 100_000,
    workers: 1,
    connections: 5,
    rounds: 2,
    rawBytes: 350,
    dump: true,
    pgStats: false,
    memoryScaling: null,
    maxMinutes: null,
    keepDump: false,
    raw: true,
    workerCpuProf: null,
  };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer ≥ ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    if (a === '--leads') o.leads = int(a, next(), 1);
    else if (a === '--workers') o.workers = int(a, next(), 1);
    else if (a === '--connections') o.connections = int(a, next(), 1);
    else if (a === '--rounds') o.rounds = int(a, next(), 1);
    else if (a === '--raw-bytes') o.rawBytes = int(a, next(), 0);
    else if (a === '--max-minutes') o.maxMinutes = int(a, next(), 1);
    else if (a === '--no-dump') o.dump = false;
    else if (a === '--pg-stats') o.pgStats = true;
    else if (a === '--keep-dump') o.keepDump = true;
    else if (a === '--no-raw') o.raw = false;
    else if (a === '--worker-cpu-prof') {
      const v = next();
      if (!v) throw new Error('--worker-cpu-prof needs a directory');
      o.workerCpuProf = v;
    } else if (a === '--memory-scaling') {
      const v = argv[i + 1];
      if (v && /^\d[\d,]*$/.test(v)) {
        i++;
        o.memoryScaling = v.split(',').map((x) => int(a, x, 1));
      } else o.memoryScaling = [100_000, 1_000_000];
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.workers > 2) console.warn(`bench: ${o.workers} workers on ${cpus().length} cores`);
  return o;
}

/** The product processes' stderr, kept after the run. */
const logFile = () => join(tmpdir(), `delivery-bench-${process.pid}.log`);

const log = (line: string) => console.error(`bench ${new Date().toISOString().slice(11, 19)} ${line}`);

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  for (const bin of [sinkBinary(), sourceBinary()]) {
    if (!existsSync(bin))
      throw new Error(`${bin} missing: install Debian's postfix (scripts/setup-postfix.sh)`);
  }
  const productMessages = opts.memoryScaling
    ? opts.memoryScaling.reduce((a, b) => a + b, 0)
    : opts.leads * opts.rounds;
  // Bounded in time, generously for a slow, shared machine (200 msg/s on average), then everything is stopped.
  const maxMinutes = opts.maxMinutes ?? Math.ceil(10 + productMessages / 200 / 60);
  const deadline = Date.now() + maxMinutes * 60_000;

  const dir = mkdtempSync(join(tmpdir(), 'delivery-bench-'));
  chmodSync(dir, 0o711); // PostgreSQL runs as `postgres` when we are root: its data directory lies below
  const dumpDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'delivery-bench-dump-'));
  chmodSync(dumpDir, 0o777); // smtp-sink writes as `nobody` when we are root
  const registry = new ProcessRegistry(join(dir, 'processes'));
  registry.startReaper([dir, dumpDir]);
  const stops: Array<() => Promise<unknown>> = [];
  const results: RoundResult[] = [];
  /** What was measured before a signal or the time bound stopped the benchmark. */
  const printPartial = () => {
    if (results.length === 0) return;
    console.log('\n## Rounds completed before the benchmark was stopped\n');
    console.log(roundsTable(results));
  };
  let stopping: Promise<void> | null = null;
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of stops.reverse()) await s().catch(() => undefined);
      registry.close();
      if (opts.keepDump) log(`dump kept in ${dumpDir}`);
      else rmSync(dumpDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    })());
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      log(`${sig}: stopping everything`);
      printPartial();
      void stopAll().then(() => process.exit(130));
    });
  }
  const overall = setTimeout(() => {
    log(`over the ${maxMinutes}-minute bound (--max-minutes): stopping everything`);
    printPartial();
    void stopAll().then(() => process.exit(2));
  }, maxMinutes * 60_000);
  overall.unref();

  try {
    console.log(
      `bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
        `${opts.workers} worker(s) × ${opts.connections} SMTP connections; bound ${maxMinutes} min`,
    );
    log(`API and worker logs: ${logFile()}`);
    if (opts.memoryScaling) {
      await memoryScaling(opts, dir, dumpDir, registry, stops, deadline);
      return;
    }
    const rawSink = await SmtpSinkProcess.start({ port: await freePort(), log });
    registry.add(rawSink.process.pid);
    stops.push(() => rawSink.stop());
    const productSink = await SmtpSinkProcess.start({
      port: await freePort(),
      dumpFile: opts.dump ? join(dumpDir, 'product.dump') : undefined,
      log,
    });
    registry.add(productSink.process.pid);
    stops.push(() => productSink.stop());

    log(`starting the stack (${opts.leads} leads)`);
    const stack = await startStack({
      dataDir: join(dir, 'stack'),
      leads: opts.leads,
      workers: opts.workers,
      connections: opts.connections,
      smtpUrl: productSink.url,
      registry,
      pgStats: opts.pgStats,
      workerCpuProf: opts.workerCpuProf,
      logFile: logFile(),
      log,
    });
    stops.push(() => stack.stop());
    // A round may take until the overall bound, or as long as 100 msg/s would.
    const roundBound = (n: number) => Math.min(deadline, Date.now() + 60_000 + (n / 100) * 1000);
    const rawStep = async (round: number) => {
      log(`round ${round}: raw limit (smtp-source, ${opts.connections * opts.workers} sessions)`);
      await settle(stack);
      const raw = await rawRound({
        round,
        messages: opts.leads,
        sessions: opts.connections * opts.workers,
        bytes: opts.rawBytes,
        sink: rawSink,
        registry,
        deadline: roundBound(opts.leads),
      });
      results.push(raw);
      log(`round ${round}: raw ${Math.round(raw.rate)} msg/s, ${raw.check}`);
    };
    for (let round = 1; round <= opts.rounds; round++) {
      if (opts.raw) await rawStep(round);
      await settle(stack);
      log(`round ${round}: product (${opts.leads} leads)`);
      const product = await productRound({
        round,
        leads: opts.leads,
        stack,
        sink: productSink,
        deadline: roundBound(opts.leads),
        pgStats: opts.pgStats,
        log,
      });
      results.push(product);
      log(`round ${round}: product ${Math.round(product.rate)} msg/s, ${product.check}`);
    }
    const size = results.find((r) => r.dumpBytesPerMessage)?.dumpBytesPerMessage;
    console.log('\n## Per round\n');
    console.log(roundsTable(results));
    console.log(
      `\n## Summary (${opts.leads} leads, ${opts.workers} worker(s), means over ${opts.rounds} rounds)\n`,
    );
    console.log(summaryTable(results, ['raw', 'product']));
    console.log(
      `\nraw: smtp-source -d -s ${opts.connections * opts.workers} -l ${opts.rawBytes} (payload bytes; headers besides)` +
        (size
          ? `; product messages average ${Math.round(size)} bytes in the sink's dump (its own ~250-byte records included)`
          : '') +
        `.\nThe product's sink ${opts.dump ? 'dumps every transaction (exactly-once check by recipient and Message-ID)' : 'only counts (--no-dump)'}; the raw sink only counts.`,
    );
    if (results.some((r) => !r.check.startsWith('exactly'))) process.exitCode = 1;
  } catch (err) {
    printPartial();
    throw err;
  } finally {
    clearTimeout(overall);
    await stopAll();
  }
}

/** One product round per N, each on a fresh stack: the workers' peak memory as the run grows. */
async function memoryScaling(
  opts: Options,
  dir: string,
  dumpDir: string,
  registry: ProcessRegistry,
  stops: Array<() => Promise<unknown>>,
  deadline: number,
) {
  const lines = [
    '| leads | workers | msg/s | worker peak RSS MiB (VmHWM) | worker peak PSS MiB (sampled) | history events per 1,000 leads | sink received |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const n of opts.memoryScaling!) {
    const sink = await SmtpSinkProcess.start({
      port: await freePort(),
      dumpFile: opts.dump ? join(dumpDir, `scaling-${n}.dump`) : undefined,
      log,
    });
    registry.add(sink.process.pid);
    log(`memory scaling: starting a fresh stack with ${n} leads`);
    let stack: Stack | null = null;
    try {
      stack = await startStack({
        dataDir: join(dir, `stack-${n}`),
        leads: n,
        workers: opts.workers,
        connections: opts.connections,
        smtpUrl: sink.url,
        registry,
        pgStats: false,
        logFile: logFile(),
        log,
      });
      const s = stack;
      stops.push(() => s.stop());
      const r = await productRound({
        round: 1,
        leads: n,
        stack,
        sink,
        deadline: Math.min(deadline, Date.now() + 60_000 + (n / 100) * 1000),
        pgStats: false,
        log,
      });
      lines.push(
        `| ${n.toLocaleString('en-US')} | ${opts.workers} | ${Math.round(r.rate)} | ${(r.workerPeakRss ?? []).map((x) => Math.round(x)).join(', ')} | ` +
          `${Math.round(r.pss.worker ?? 0)} | ${(((r.historyEvents ?? 0) / n) * 1000).toFixed(1)} | ${r.check} |`,
      );
      log(`memory scaling: ${n} leads done`);
    } finally {
      await stack?.stop();
      await sink.stop();
      rmSync(join(dumpDir, `scaling-${n}.dump`), { force: true });
    }
  }
  console.log('\n## Worker memory as N grows\n');
  console.log(lines.join('\n'));
}

/**
 * Waits (at most 30 s) until the stack is nearly idle (under 0.15 of a core
 * over a second), so a round does not pay for the previous one's vacuum and
 * checkpoint.
 */
async function settle(stack: Stack) {
  const total = () => Object.values(cpuSeconds(stack.groups())).reduce((a, b) => a + b, 0);
  const until = Date.now() + 30_000;
  let last = total();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = total();
    if (now - last < 0.15) return;
    last = now;
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
